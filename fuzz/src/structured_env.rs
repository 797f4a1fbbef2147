//! A hook environment built from structured fuzz input (`arbitrary`): the dispatch path and
//! the hook name agree, each event kind sets its own variables, and values are drawn either
//! from realistic Juju values or from raw fuzz strings. Byte-level mutation of an `environ`
//! file rarely keeps `JUJU_DISPATCH_PATH` and `JUJU_HOOK_NAME` in step; this reaches every
//! event parser from the first runs, and `overrides` then breaks one variable at a time.

use arbitrary::Arbitrary;

/// Realistic values, shared by every field: names, ids, versions, URIs Juju hands out.
const POOL: &[&str] = &[
    "indico/0",
    "indico/1",
    "indico",
    "postgresql-k8s/0",
    "postgresql-k8s",
    "redis-k8s/10",
    "database",
    "database:3",
    "redis-broker:4",
    "indico-peers",
    "indico-peers:1",
    "indico-nginx",
    "3.6.1",
    "3.6-rc1",
    "3.6.0.2",
    "3.6-beta2.1",
    "secret:cs1k2v3b4n5m6l7k8j9h",
    "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/d0key0000000000000001",
    "6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42",
    "indico-model",
    "/var/lib/juju/agents/unit-indico-0/charm",
    "http://squid.internal:3128",
    "http://user:p%40ss@squid.internal:3128",
    "127.0.0.1,localhost,.svc.cluster.local,10.0.0.0/8",
    "1",
    "42",
    "0",
    "",
    "add-admin",
    "refresh-external-resources",
    "a1b2c3d4-0000-4000-8000-000000000001",
    "indico-check",
    "canonical.com/indico/restart",
    "custom",
    "data/0",
    "/srv/data",
];

/// A value: from [`POOL`], or raw.
#[derive(Arbitrary, Debug)]
pub enum Text {
    /// `POOL[index % POOL.len()]`.
    Pool(u8),
    /// Any string.
    Raw(String),
}

impl Text {
    fn get(&self) -> String {
        match self {
            Self::Pool(i) => POOL[usize::from(*i) % POOL.len()].to_owned(),
            Self::Raw(s) => s.clone(),
        }
    }
}

/// Hooks without event variables.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum SimpleHook {
    /// `install`.
    Install,
    /// `start`.
    Start,
    /// `stop`.
    Stop,
    /// `remove`.
    Remove,
    /// `upgrade-charm`.
    UpgradeCharm,
    /// `config-changed`.
    ConfigChanged,
    /// `update-status`.
    UpdateStatus,
    /// `leader-elected`.
    LeaderElected,
    /// `leader-settings-changed`.
    LeaderSettingsChanged,
}

/// What was dispatched, with the variables Juju sets for it.
#[derive(Arbitrary, Debug)]
pub enum Dispatch {
    /// A hook without event variables.
    Simple(SimpleHook),
    /// `<endpoint>-relation-<kind>`.
    Relation {
        /// `JUJU_RELATION`.
        endpoint: Text,
        /// 0..5: created, joined, changed, departed, broken.
        kind: u8,
        /// `JUJU_RELATION_ID`.
        id: Text,
        /// `JUJU_REMOTE_UNIT`.
        remote_unit: Text,
        /// `JUJU_REMOTE_APP`.
        remote_app: Text,
        /// `JUJU_DEPARTING_UNIT`.
        departing_unit: Text,
    },
    /// `<container>-pebble-<kind>`.
    Workload {
        /// `JUJU_WORKLOAD_NAME`.
        container: Text,
        /// 0..4: ready, custom-notice, check-failed, check-recovered.
        kind: u8,
        /// `JUJU_PEBBLE_CHECK_NAME`.
        check: Text,
        /// `JUJU_NOTICE_ID`, `JUJU_NOTICE_TYPE`, `JUJU_NOTICE_KEY`.
        notice: (Text, Text, Text),
    },
    /// `secret-<kind>`.
    Secret {
        /// 0..4: changed, rotate, expired, remove.
        kind: u8,
        /// `JUJU_SECRET_ID`.
        id: Text,
        /// `JUJU_SECRET_LABEL`.
        label: Text,
        /// `JUJU_SECRET_REVISION`.
        revision: Text,
    },
    /// `<storage>-storage-<attached|detaching>`.
    Storage {
        /// The storage name.
        name: Text,
        /// Attached when true.
        attached: bool,
        /// `JUJU_STORAGE_ID`.
        id: Text,
        /// `JUJU_STORAGE_LOCATION`.
        location: Option<Text>,
    },
    /// `actions/<name>`.
    Action {
        /// The action name.
        name: Text,
        /// `JUJU_ACTION_UUID`.
        uuid: Text,
    },
    /// Any other hook name.
    Other(Text),
}

/// One change after the environment is built: set a variable (`Some`) or unset it.
#[derive(Arbitrary, Debug)]
pub struct Override {
    /// The variable: one of Juju's, or a raw name.
    pub var: Text,
    /// The new value, or `None` to unset.
    pub value: Option<Text>,
}

/// A whole hook environment.
#[derive(Arbitrary, Debug)]
pub struct HookEnv {
    /// `JUJU_UNIT_NAME`.
    pub unit: Text,
    /// `JUJU_VERSION`.
    pub version: Text,
    /// `JUJU_MODEL_NAME`.
    pub model_name: Text,
    /// `JUJU_MODEL_UUID`.
    pub model_uuid: Text,
    /// `JUJU_CHARM_DIR`.
    pub charm_dir: Text,
    /// `JUJU_CHARM_HTTP_PROXY`, `_HTTPS_`, `_FTP_`, `_NO_PROXY`.
    pub proxies: [Text; 4],
    /// The event.
    pub dispatch: Dispatch,
    /// Changes applied last.
    pub overrides: Vec<Override>,
}

/// Variable names an [`Override`] picks from (by the pool index), besides raw names.
const VARS: &[&str] = &[
    "JUJU_UNIT_NAME",
    "JUJU_VERSION",
    "JUJU_MODEL_NAME",
    "JUJU_MODEL_UUID",
    "JUJU_CHARM_DIR",
    "JUJU_DISPATCH_PATH",
    "JUJU_HOOK_NAME",
    "JUJU_RELATION",
    "JUJU_RELATION_ID",
    "JUJU_REMOTE_UNIT",
    "JUJU_REMOTE_APP",
    "JUJU_DEPARTING_UNIT",
    "JUJU_WORKLOAD_NAME",
    "JUJU_PEBBLE_CHECK_NAME",
    "JUJU_NOTICE_ID",
    "JUJU_NOTICE_TYPE",
    "JUJU_NOTICE_KEY",
    "JUJU_SECRET_ID",
    "JUJU_SECRET_LABEL",
    "JUJU_SECRET_REVISION",
    "JUJU_STORAGE_ID",
    "JUJU_STORAGE_LOCATION",
    "JUJU_ACTION_NAME",
    "JUJU_ACTION_UUID",
    "JUJU_CHARM_HTTP_PROXY",
    "JUJU_CHARM_HTTPS_PROXY",
    "JUJU_CHARM_FTP_PROXY",
    "JUJU_CHARM_NO_PROXY",
];

impl HookEnv {
    /// The environment variables, in the order they were set (a later one wins).
    pub fn vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: String| vars.push((k.to_owned(), v));
        set("JUJU_UNIT_NAME", self.unit.get());
        set("JUJU_VERSION", self.version.get());
        set("JUJU_MODEL_NAME", self.model_name.get());
        set("JUJU_MODEL_UUID", self.model_uuid.get());
        set("JUJU_CHARM_DIR", self.charm_dir.get());
        for (var, value) in VARS[24..].iter().zip(&self.proxies) {
            set(var, value.get());
        }
        let hook = |set: &mut dyn FnMut(&str, String), name: String| {
            set("JUJU_DISPATCH_PATH", format!("hooks/{name}"));
            set("JUJU_HOOK_NAME", name);
        };
        match &self.dispatch {
            Dispatch::Simple(simple) => {
                let name = match simple {
                    SimpleHook::Install => "install",
                    SimpleHook::Start => "start",
                    SimpleHook::Stop => "stop",
                    SimpleHook::Remove => "remove",
                    SimpleHook::UpgradeCharm => "upgrade-charm",
                    SimpleHook::ConfigChanged => "config-changed",
                    SimpleHook::UpdateStatus => "update-status",
                    SimpleHook::LeaderElected => "leader-elected",
                    SimpleHook::LeaderSettingsChanged => "leader-settings-changed",
                };
                hook(&mut set, name.to_owned());
            }
            Dispatch::Relation {
                endpoint,
                kind,
                id,
                remote_unit,
                remote_app,
                departing_unit,
            } => {
                let kinds = ["created", "joined", "changed", "departed", "broken"];
                let kind = kinds[usize::from(*kind) % kinds.len()];
                let endpoint = endpoint.get();
                hook(&mut set, format!("{endpoint}-relation-{kind}"));
                set("JUJU_RELATION", endpoint);
                set("JUJU_RELATION_ID", id.get());
                set("JUJU_REMOTE_UNIT", remote_unit.get());
                set("JUJU_REMOTE_APP", remote_app.get());
                set("JUJU_DEPARTING_UNIT", departing_unit.get());
            }
            Dispatch::Workload {
                container,
                kind,
                check,
                notice,
            } => {
                let kinds = [
                    "pebble-ready",
                    "pebble-custom-notice",
                    "pebble-check-failed",
                    "pebble-check-recovered",
                ];
                let kind = kinds[usize::from(*kind) % kinds.len()];
                let container = container.get();
                hook(&mut set, format!("{container}-{kind}"));
                set("JUJU_WORKLOAD_NAME", container);
                set("JUJU_PEBBLE_CHECK_NAME", check.get());
                set("JUJU_NOTICE_ID", notice.0.get());
                set("JUJU_NOTICE_TYPE", notice.1.get());
                set("JUJU_NOTICE_KEY", notice.2.get());
            }
            Dispatch::Secret {
                kind,
                id,
                label,
                revision,
            } => {
                let kinds = ["changed", "rotate", "expired", "remove"];
                let kind = kinds[usize::from(*kind) % kinds.len()];
                hook(&mut set, format!("secret-{kind}"));
                set("JUJU_SECRET_ID", id.get());
                set("JUJU_SECRET_LABEL", label.get());
                set("JUJU_SECRET_REVISION", revision.get());
            }
            Dispatch::Storage {
                name,
                attached,
                id,
                location,
            } => {
                let kind = if *attached { "attached" } else { "detaching" };
                hook(&mut set, format!("{}-storage-{kind}", name.get()));
                set("JUJU_STORAGE_ID", id.get());
                if let Some(location) = location {
                    set("JUJU_STORAGE_LOCATION", location.get());
                }
            }
            Dispatch::Action { name, uuid } => {
                let name = name.get();
                set("JUJU_DISPATCH_PATH", format!("actions/{name}"));
                set("JUJU_HOOK_NAME", String::new());
                set("JUJU_ACTION_NAME", name);
                set("JUJU_ACTION_UUID", uuid.get());
            }
            Dispatch::Other(name) => hook(&mut set, name.get()),
        }
        for change in &self.overrides {
            let var = match &change.var {
                Text::Pool(i) => VARS[usize::from(*i) % VARS.len()].to_owned(),
                Text::Raw(name) => name.clone(),
            };
            vars.retain(|(k, _)| *k != var);
            if let Some(value) = &change.value {
                vars.push((var, value.get()));
            }
        }
        vars
    }
}
