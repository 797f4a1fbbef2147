//! The per-hook context: who is running which hook, and the changes the hook has asked
//! for that Juju only commits when `dispatch` exits 0 (relation data, charm state,
//! secrets, ports). Reads through the context see these pending writes
//! (read-your-writes), except `opened-ports`, as in Juju.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::model::{Bag, Model, Secret};

/// Which databag of a relation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BagOwner {
    /// A unit's bag.
    Unit(String),
    /// An application's bag.
    App(String),
}

/// What starts a context: a hook (with its relation or workload), or an action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookInfo {
    /// The hook name (`install`, `database-relation-changed`, ...); empty for actions.
    pub hook_name: String,
    /// The relation of a relation hook.
    pub relation_id: Option<u64>,
    /// The remote unit of a relation hook (joined, changed, departed).
    pub remote_unit: Option<String>,
    /// The remote application of a relation hook.
    pub remote_app: Option<String>,
    /// The departing unit of a departed hook.
    pub departing_unit: Option<String>,
    /// Set in relation-broken: the relation `relation-ids` leaves out.
    pub broken: bool,
    /// The workload container of a workload hook.
    pub workload: Option<String>,
    /// The action being run.
    pub action: Option<ActionInfo>,
}

/// An action being run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionInfo {
    /// The action id.
    pub id: u64,
    /// The action name.
    pub name: String,
}

/// A port change waiting for commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortChange {
    /// `open-port`.
    Open(String),
    /// `close-port`.
    Close(String),
}

/// A `juju-log` line, to be written to the debug log at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `DEBUG`, `INFO`, `WARNING`, ...
    pub level: String,
    /// The message.
    pub message: String,
}

/// The context of one hook or action run on one unit.
#[derive(Debug, Clone)]
pub struct HookContext {
    /// `JUJU_CONTEXT_ID`.
    pub id: String,
    /// The unit, `app/n`.
    pub unit: String,
    /// Its application.
    pub app: String,
    /// The hook or action.
    pub info: HookInfo,
    /// Once `is-leader` said false, it stays false for the hook.
    pub(crate) minion: bool,
    pub(crate) bags: BTreeMap<(u64, BagOwner), Bag>,
    pub(crate) state: Option<BTreeMap<String, String>>,
    pub(crate) secrets: BTreeMap<String, Option<Secret>>,
    pub(crate) ports: Vec<PortChange>,
    /// `action-set` results.
    pub action_results: BTreeMap<String, Value>,
    /// `action-fail` message.
    pub action_failed: Option<String>,
    pub(crate) logs: Vec<LogLine>,
}

/// What a commit changed, so the agent can tell the other side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitReport {
    /// Relation bags whose content changed.
    pub changed_bags: BTreeSet<(u64, BagOwner)>,
    /// Secrets (ids) that got a new revision.
    pub new_revisions: BTreeSet<String>,
}

impl CommitReport {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changed_bags.is_empty() && self.new_revisions.is_empty()
    }
}

impl HookContext {
    /// A fresh context for `unit` running `info`.
    pub fn new(id: String, unit: &str, info: HookInfo) -> Self {
        Self {
            id,
            unit: unit.to_owned(),
            app: crate::model::app_of(unit).to_owned(),
            info,
            minion: false,
            bags: BTreeMap::new(),
            state: None,
            secrets: BTreeMap::new(),
            ports: Vec::new(),
            action_results: BTreeMap::new(),
            action_failed: None,
            logs: Vec::new(),
        }
    }

    /// A relation bag as this hook sees it (pending writes included).
    pub fn bag(&self, model: &Model, relation: u64, owner: &BagOwner) -> Bag {
        if let Some(bag) = self.bags.get(&(relation, owner.clone())) {
            return bag.clone();
        }
        let Some(rel) = model.relations.get(&relation) else {
            return Bag::new();
        };
        match owner {
            BagOwner::Unit(u) => rel.unit_bags.get(u).cloned().unwrap_or_default(),
            BagOwner::App(a) => rel.app_bags.get(a).cloned().unwrap_or_default(),
        }
    }

    /// Replaces a bag for the rest of the hook (committed on success).
    pub fn set_bag(&mut self, relation: u64, owner: BagOwner, bag: Bag) {
        self.bags.insert((relation, owner), bag);
    }

    /// The unit's charm state as this hook sees it.
    pub fn state(&self, model: &Model) -> BTreeMap<String, String> {
        match &self.state {
            Some(state) => state.clone(),
            None => model
                .unit(&self.unit)
                .map(|u| u.state.clone())
                .unwrap_or_default(),
        }
    }

    /// Replaces the charm state for the rest of the hook.
    pub fn set_state(&mut self, state: BTreeMap<String, String>) {
        self.state = Some(state);
    }

    /// Every secret as this hook sees it (pending creates, updates and removals applied).
    pub fn secrets(&self, model: &Model) -> BTreeMap<String, Secret> {
        let mut all = model.secrets.clone();
        for (xid, secret) in &self.secrets {
            match secret {
                Some(s) => {
                    all.insert(xid.clone(), s.clone());
                }
                None => {
                    all.remove(xid);
                }
            }
        }
        all
    }

    /// Records a secret's new content/metadata (or its removal, `None`) for commit.
    pub fn put_secret(&mut self, xid: &str, secret: Option<Secret>) {
        self.secrets.insert(xid.to_owned(), secret);
    }

    /// Queues a port change.
    pub fn change_port(&mut self, change: PortChange) {
        self.ports.push(change);
    }

    /// Queues a log line.
    pub fn log(&mut self, level: &str, message: String) {
        self.logs.push(LogLine {
            level: level.to_owned(),
            message,
        });
    }

    /// Takes the queued log lines.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }

    /// Whether this unit leads (and has not been told otherwise in this hook).
    pub fn is_leader(&mut self, model: &Model) -> bool {
        if self.minion {
            return false;
        }
        let leader = model.is_leader(&self.unit);
        if !leader {
            self.minion = true;
        }
        leader
    }

    /// Applies every pending change to `model` (the hook exited 0) and reports what
    /// changed. Secrets whose owner was removed meanwhile are dropped.
    pub fn commit(&mut self, model: &mut Model) -> CommitReport {
        let mut report = CommitReport::default();
        for ((id, owner), bag) in std::mem::take(&mut self.bags) {
            let Some(rel) = model.relations.get_mut(&id) else {
                continue;
            };
            let slot = match &owner {
                BagOwner::Unit(u) => rel.unit_bags.entry(u.clone()).or_default(),
                BagOwner::App(a) => rel.app_bags.entry(a.clone()).or_default(),
            };
            if *slot != bag {
                *slot = bag;
                report.changed_bags.insert((id, owner));
            }
        }
        if let Some(state) = self.state.take()
            && let Ok(unit) = model.unit_mut(&self.unit)
        {
            unit.state = state;
        }
        for (xid, secret) in std::mem::take(&mut self.secrets) {
            match secret {
                Some(secret) => {
                    let old_latest = model.secrets.get(&xid).map(Secret::latest);
                    if old_latest.is_some_and(|l| l != secret.latest()) {
                        report.new_revisions.insert(xid.clone());
                    }
                    model.secrets.insert(xid, secret);
                }
                None => {
                    model.secrets.remove(&xid);
                }
            }
        }
        if let Ok(unit) = model.unit_mut(&self.unit) {
            for change in std::mem::take(&mut self.ports) {
                match change {
                    PortChange::Open(p) => {
                        unit.ports.insert(p);
                    }
                    PortChange::Close(p) => {
                        unit.ports.remove(&p);
                    }
                }
            }
        }
        report
    }
}
