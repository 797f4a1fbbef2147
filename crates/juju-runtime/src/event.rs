//! The event a dispatch was started for, as a typed value: every hook kind Juju 3.6
//! runs in a sidecar charm, actions, and `Unknown` for names this crate does not know
//! (which a charm must ignore with exit 0, so that charm rollbacks keep working).

use crate::names::{RelationId, SecretUri, UnitName};

/// What Juju ran the charm for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `install`: runs once, before anything else but storage-attached.
    Install,
    /// `start`: after the first config-changed, and again whenever the unit agent
    /// restarts (pod churn).
    Start,
    /// `stop`: the unit is going away.
    Stop,
    /// `remove`: the last hook a unit sees.
    Remove,
    /// `upgrade-charm`: new charm code (also after pod churn).
    UpgradeCharm,
    /// `config-changed`.
    ConfigChanged,
    /// `update-status`: periodic.
    UpdateStatus,
    /// `leader-elected`: this unit became the leader.
    LeaderElected,
    /// `leader-settings-changed`: non-leaders only (removed in Juju 4).
    LeaderSettingsChanged,
    /// `<endpoint>-relation-<kind>`.
    Relation(RelationEvent),
    /// `<container>-pebble-<kind>`.
    Workload(WorkloadEvent),
    /// `secret-<kind>`.
    Secret(SecretEvent),
    /// `<storage>-storage-<attached|detaching>`.
    Storage(StorageEvent),
    /// An action, dispatched as `actions/<name>`.
    Action(ActionEvent),
    /// A hook name this crate does not know. The charm logs it and exits 0
    /// (ops does the same "to support rollbacks").
    Unknown(String),
}

impl Event {
    /// The hook name Juju used (`config-changed`, `database-relation-joined`, ...),
    /// or the action name for actions.
    pub fn name(&self) -> String {
        match self {
            Self::Install => "install".to_owned(),
            Self::Start => "start".to_owned(),
            Self::Stop => "stop".to_owned(),
            Self::Remove => "remove".to_owned(),
            Self::UpgradeCharm => "upgrade-charm".to_owned(),
            Self::ConfigChanged => "config-changed".to_owned(),
            Self::UpdateStatus => "update-status".to_owned(),
            Self::LeaderElected => "leader-elected".to_owned(),
            Self::LeaderSettingsChanged => "leader-settings-changed".to_owned(),
            Self::Relation(e) => format!("{}-{}", e.relation.endpoint, e.kind.suffix()),
            Self::Workload(e) => format!("{}-{}", e.container, e.kind.suffix()),
            Self::Secret(e) => e.kind.hook_name().to_owned(),
            Self::Storage(e) => format!("{}-{}", e.storage_name, e.kind.suffix()),
            Self::Action(e) => e.name.clone(),
            Self::Unknown(name) => name.clone(),
        }
    }
}

/// Which relation hook ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationEventKind {
    /// `-relation-created`: before any unit joined; no remote unit.
    Created,
    /// `-relation-joined`: a remote unit joined.
    Joined,
    /// `-relation-changed`: a remote unit's or the remote app's databag changed.
    Changed,
    /// `-relation-departed`: a remote unit left (or this unit is leaving).
    Departed,
    /// `-relation-broken`: the relation is gone; no remote unit.
    Broken,
}

impl RelationEventKind {
    /// All kinds, in Juju's order.
    pub const ALL: [Self; 5] = [
        Self::Created,
        Self::Joined,
        Self::Changed,
        Self::Departed,
        Self::Broken,
    ];

    /// The hook-name suffix, e.g. `relation-joined`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Created => "relation-created",
            Self::Joined => "relation-joined",
            Self::Changed => "relation-changed",
            Self::Departed => "relation-departed",
            Self::Broken => "relation-broken",
        }
    }
}

/// A relation hook and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationEvent {
    /// Which relation hook.
    pub kind: RelationEventKind,
    /// The relation (`JUJU_RELATION_ID`); its endpoint is `JUJU_RELATION`.
    pub relation: RelationId,
    /// The remote application (`JUJU_REMOTE_APP`, or derived from the remote unit when
    /// empty). For peer relations this is the charm's own application.
    pub remote_app: Option<String>,
    /// The remote unit (`JUJU_REMOTE_UNIT`): always set for joined and departed,
    /// `None` for created, broken and app-triggered changed.
    pub remote_unit: Option<UnitName>,
    /// The unit that is leaving (`JUJU_DEPARTING_UNIT`), departed only. It may be this
    /// unit itself when this unit is being removed.
    pub departing_unit: Option<UnitName>,
}

/// Which workload (Pebble) hook ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkloadEventKind {
    /// `-pebble-ready`: the container's Pebble started or restarted.
    PebbleReady,
    /// `-pebble-custom-notice`: a Pebble notice of type `custom`.
    CustomNotice(PebbleNotice),
    /// `-pebble-check-failed`: a check reached its failure threshold.
    CheckFailed {
        /// `JUJU_PEBBLE_CHECK_NAME`.
        check_name: String,
    },
    /// `-pebble-check-recovered`: a failed check passes again.
    CheckRecovered {
        /// `JUJU_PEBBLE_CHECK_NAME`.
        check_name: String,
    },
}

impl WorkloadEventKind {
    /// The hook-name suffix, e.g. `pebble-ready`.
    pub fn suffix(&self) -> &'static str {
        match self {
            Self::PebbleReady => "pebble-ready",
            Self::CustomNotice(_) => "pebble-custom-notice",
            Self::CheckFailed { .. } => "pebble-check-failed",
            Self::CheckRecovered { .. } => "pebble-check-recovered",
        }
    }
}

/// The notice fields of a `pebble-custom-notice` hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PebbleNotice {
    /// `JUJU_NOTICE_ID`.
    pub id: String,
    /// `JUJU_NOTICE_TYPE`, `custom` in Juju 3.6.
    pub notice_type: String,
    /// `JUJU_NOTICE_KEY`, e.g. `example.com/foo`.
    pub key: String,
}

/// A workload hook and its container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadEvent {
    /// The container name (`JUJU_WORKLOAD_NAME`); its Pebble socket is
    /// `/charm/containers/<container>/pebble.socket`.
    pub container: String,
    /// Which workload hook, with its notice or check fields.
    pub kind: WorkloadEventKind,
}

/// Which secret hook ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretEventKind {
    /// `secret-changed` (consumers): a new revision is available.
    Changed,
    /// `secret-rotate` (owner): rotation is due.
    Rotate,
    /// `secret-expired` (owner): a revision expired.
    Expired {
        /// `JUJU_SECRET_REVISION`.
        revision: u64,
    },
    /// `secret-remove` (owner): a revision is no longer tracked by anyone.
    Remove {
        /// `JUJU_SECRET_REVISION`.
        revision: u64,
    },
}

impl SecretEventKind {
    /// The hook name, e.g. `secret-changed`.
    pub fn hook_name(self) -> &'static str {
        match self {
            Self::Changed => "secret-changed",
            Self::Rotate => "secret-rotate",
            Self::Expired { .. } => "secret-expired",
            Self::Remove { .. } => "secret-remove",
        }
    }
}

/// A secret hook and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEvent {
    /// Which secret hook.
    pub kind: SecretEventKind,
    /// `JUJU_SECRET_ID`.
    pub uri: SecretUri,
    /// `JUJU_SECRET_LABEL`, `None` when empty.
    pub label: Option<String>,
}

/// Which storage hook ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageEventKind {
    /// `-storage-attached`.
    Attached,
    /// `-storage-detaching`.
    Detaching,
}

impl StorageEventKind {
    /// The hook-name suffix, e.g. `storage-attached`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Attached => "storage-attached",
            Self::Detaching => "storage-detaching",
        }
    }
}

/// A storage hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageEvent {
    /// Which storage hook.
    pub kind: StorageEventKind,
    /// The storage name from metadata.yaml, e.g. `data`.
    pub storage_name: String,
    /// `JUJU_STORAGE_ID`, e.g. `data/0`.
    pub storage_id: String,
    /// `JUJU_STORAGE_LOCATION`, when set.
    pub location: Option<String>,
}

/// An action run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEvent {
    /// `JUJU_ACTION_NAME`, e.g. `add-admin`.
    pub name: String,
    /// `JUJU_ACTION_UUID`: the action's id, e.g. `42`.
    pub id: String,
}
