//! The unit agents' journal: for each unit, the hooks waiting in its queue, the hook it
//! is running, and the failed hook waiting for its retry. It is rewritten (0600, through
//! a temporary file and a rename) after every change, so that a controller started after
//! the previous one died resumes each agent where it stood — as jujud resumes from the
//! uniter state it persists.
//!
//! The journal mirrors [`HookQueue`](super::super::HookQueue)'s rules: a hook other than
//! an action is not queued twice, and taking a hook removes its first occurrence. One
//! known gap: a hook pushed in the instant between the agent taking an equal hook from
//! its queue and recording that here is coalesced in the journal though the live queue
//! holds it, so a controller that dies right then resumes without that duplicate.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::super::hook::{Hook, HookKind, RelationRef};
use crate::hook_tools::ActionInfo;

/// Every hook kind with the name the journal stores.
const KINDS: [(HookKind, &str); 16] = [
    (HookKind::Install, "install"),
    (HookKind::LeaderElected, "leader-elected"),
    (HookKind::LeaderSettingsChanged, "leader-settings-changed"),
    (HookKind::ConfigChanged, "config-changed"),
    (HookKind::Start, "start"),
    (HookKind::UpdateStatus, "update-status"),
    (HookKind::Stop, "stop"),
    (HookKind::Remove, "remove"),
    (HookKind::RelationCreated, "relation-created"),
    (HookKind::RelationJoined, "relation-joined"),
    (HookKind::RelationChanged, "relation-changed"),
    (HookKind::RelationDeparted, "relation-departed"),
    (HookKind::RelationBroken, "relation-broken"),
    (HookKind::PebbleReady, "pebble-ready"),
    (HookKind::SecretChanged, "secret-changed"),
    (HookKind::Action, "action"),
];

/// A [`Hook`] as the journal stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HookRecord {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    relation: Option<(u64, String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    remote_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    departing_unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    action: Option<(u64, String)>,
}

impl HookRecord {
    fn of(hook: &Hook) -> Self {
        let kind = KINDS
            .iter()
            .find(|(k, _)| *k == hook.kind)
            .map(|(_, name)| *name)
            // KINDS lists every HookKind: an invariant the tests check.
            .unwrap_or("unknown");
        Self {
            kind: kind.to_owned(),
            relation: hook
                .relation
                .as_ref()
                .map(|r| (r.id, r.endpoint.clone(), r.remote_app.clone())),
            remote_unit: hook.remote_unit.clone(),
            departing_unit: hook.departing_unit.clone(),
            workload: hook.workload.clone(),
            secret: hook.secret.clone(),
            action: hook.action.as_ref().map(|a| (a.id, a.name.clone())),
        }
    }

    /// The hook, or `None` for a kind this substrate does not know.
    fn hook(&self) -> Option<Hook> {
        let kind = KINDS.iter().find(|(_, name)| *name == self.kind)?.0;
        Some(Hook {
            kind,
            relation: self
                .relation
                .as_ref()
                .map(|(id, endpoint, remote_app)| RelationRef {
                    id: *id,
                    endpoint: endpoint.clone(),
                    remote_app: remote_app.clone(),
                }),
            remote_unit: self.remote_unit.clone(),
            departing_unit: self.departing_unit.clone(),
            workload: self.workload.clone(),
            secret: self.secret.clone(),
            action: self.action.as_ref().map(|(id, name)| ActionInfo {
                id: *id,
                name: name.clone(),
            }),
        })
    }
}

/// One unit's entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct UnitRecord {
    #[serde(default)]
    pending: Vec<HookRecord>,
    #[serde(default)]
    running: Option<HookRecord>,
    #[serde(default)]
    failed: Option<(HookRecord, u32)>,
}

/// What a resumed unit agent must run, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Resumed {
    /// The hook that failed, or was running when the controller died, with its failures
    /// so far: retried first, and nothing else but actions runs until it succeeds.
    pub retry: Option<(Hook, u32)>,
    /// The hooks that were queued (an interrupted action first).
    pub pending: Vec<Hook>,
}

impl UnitRecord {
    fn resumed(&self) -> Resumed {
        let decode = |r: &HookRecord| {
            let hook = r.hook();
            if hook.is_none() {
                tracing::warn!(kind = %r.kind, "the journal names an unknown hook kind; dropped");
            }
            hook
        };
        let mut resumed = Resumed {
            retry: self
                .failed
                .as_ref()
                .and_then(|(h, n)| Some((decode(h)?, *n))),
            pending: self.pending.iter().filter_map(decode).collect(),
        };
        if let Some(hook) = self.running.as_ref().and_then(decode) {
            if hook.kind == HookKind::Action {
                resumed.pending.insert(0, hook);
            } else if resumed.retry.as_ref().is_none_or(|(h, _)| *h != hook) {
                resumed.retry = Some((hook, 0));
            }
        }
        resumed
    }
}

/// The live journal, persisted at `path`.
#[derive(Debug)]
pub(super) struct Journal {
    path: PathBuf,
    units: BTreeMap<String, UnitRecord>,
}

impl Journal {
    /// An empty journal at `path`, and what the file there held (per unit) from an
    /// earlier controller. An unreadable file is reported and treated as empty.
    pub fn open(path: &Path) -> (Self, BTreeMap<String, Resumed>) {
        let earlier: BTreeMap<String, UnitRecord> = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                tracing::error!(%err, path = %path.display(), "the agents' journal is unreadable; queued hooks are lost");
                BTreeMap::new()
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(err) => {
                tracing::error!(%err, path = %path.display(), "cannot read the agents' journal");
                BTreeMap::new()
            }
        };
        let resumed = earlier
            .iter()
            .map(|(unit, record)| (unit.clone(), record.resumed()))
            .collect();
        let journal = Self {
            path: path.to_path_buf(),
            units: BTreeMap::new(),
        };
        (journal, resumed)
    }

    /// `hook` was queued on `unit`.
    pub fn pushed(&mut self, unit: &str, hook: &Hook) {
        let record = HookRecord::of(hook);
        let entry = self.units.entry(unit.to_owned()).or_default();
        if hook.kind != HookKind::Action && entry.pending.contains(&record) {
            return;
        }
        entry.pending.push(record);
        self.save();
    }

    /// `unit`'s agent took `hook` (a retry of its failed hook when `retry` is set).
    pub fn taken(&mut self, unit: &str, hook: &Hook, retry: Option<u32>) {
        let Some(entry) = self.units.get_mut(unit) else {
            return;
        };
        let record = HookRecord::of(hook);
        if retry.is_none()
            && let Some(i) = entry.pending.iter().position(|r| *r == record)
        {
            entry.pending.remove(i);
        }
        entry.running = Some(record);
        self.save();
    }

    /// `unit`'s agent finished the hook it was running.
    pub fn finished(&mut self, unit: &str) {
        if let Some(entry) = self.units.get_mut(unit) {
            entry.running = None;
            self.save();
        }
    }

    /// `hook` failed on `unit` for the `attempts`th time; it waits for its retry.
    pub fn failed(&mut self, unit: &str, hook: &Hook, attempts: u32) {
        let entry = self.units.entry(unit.to_owned()).or_default();
        entry.failed = Some((HookRecord::of(hook), attempts));
        self.save();
    }

    /// `unit`'s failed hook succeeded (or no longer applies).
    pub fn resolved(&mut self, unit: &str) {
        if let Some(entry) = self.units.get_mut(unit) {
            entry.failed = None;
            self.save();
        }
    }

    /// `unit` is gone.
    pub fn forget(&mut self, unit: &str) {
        if self.units.remove(unit).is_some() {
            self.save();
        }
    }

    fn save(&self) {
        if let Err(err) = self.write() {
            tracing::error!(%err, path = %self.path.display(), "cannot persist the agents' journal");
        }
    }

    fn write(&self) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.units).map_err(std::io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&bytes)?;
        // A rename is atomic against the controller dying; no fsync: the journal only
        // has to survive the process, as the pods it describes do not survive the host.
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel() -> RelationRef {
        RelationRef {
            id: 4,
            endpoint: "db".into(),
            remote_app: "store".into(),
        }
    }

    #[test]
    fn every_kind_round_trips() {
        let hooks = [
            Hook::relation(HookKind::RelationDeparted, rel(), Some("store/1".into())),
            Hook::pebble_ready("indico"),
            Hook::action(7, "add-admin"),
            Hook {
                secret: Some(("secret:abc".into(), "creds".into())),
                ..Hook::plain(HookKind::SecretChanged)
            },
        ];
        for hook in hooks {
            assert_eq!(HookRecord::of(&hook).hook(), Some(hook));
        }
        for (kind, name) in KINDS {
            let record = HookRecord::of(&Hook::plain(kind));
            assert_eq!(record.kind, name);
            assert_eq!(record.hook().map(|h| h.kind), Some(kind));
        }
    }

    #[test]
    fn an_earlier_journal_resumes_the_interrupted_hook_then_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.json");
        let (mut journal, earlier) = Journal::open(&path);
        assert!(earlier.is_empty());
        let config = Hook::plain(HookKind::ConfigChanged);
        let joined = Hook::relation(HookKind::RelationJoined, rel(), Some("store/0".into()));
        journal.pushed("app/0", &config);
        journal.pushed("app/0", &joined);
        journal.pushed("app/0", &config); // coalesced, as the queue does
        journal.pushed("app/1", &Hook::plain(HookKind::Install));
        journal.taken("app/0", &config, None);
        // app/0 dies while running config-changed; app/1 has a failed install.
        journal.taken("app/1", &Hook::plain(HookKind::Install), None);
        journal.failed("app/1", &Hook::plain(HookKind::Install), 2);
        journal.finished("app/1");
        journal.pushed("app/2", &Hook::plain(HookKind::Stop));
        journal.forget("app/2");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);

        let (_, earlier) = Journal::open(&path);
        assert_eq!(
            earlier.keys().collect::<Vec<_>>(),
            ["app/0", "app/1"],
            "forgotten units are gone"
        );
        assert_eq!(
            earlier["app/0"],
            Resumed {
                retry: Some((config, 0)),
                pending: vec![joined],
            }
        );
        assert_eq!(
            earlier["app/1"],
            Resumed {
                retry: Some((Hook::plain(HookKind::Install), 2)),
                pending: vec![],
            }
        );
    }

    #[test]
    fn an_unreadable_journal_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.json");
        std::fs::write(&path, "{not json").unwrap();
        assert!(Journal::open(&path).1.is_empty());
    }
}
