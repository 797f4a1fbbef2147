//! The event a run dispatches, built from the [`State`](crate::State)'s own objects
//! (relations by reference, remote units by number) so that tests read like Juju's
//! vocabulary. It is turned into the exact hook environment by [`hook_env()`](crate::hook_env()).

use std::collections::BTreeMap;

use juju_runtime::{RelationEventKind, SecretUri};

use crate::state::{Relation, Secret};

/// Which workload hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkloadHook {
    /// `<container>-pebble-ready`.
    PebbleReady,
    /// `<container>-pebble-custom-notice`.
    CustomNotice {
        /// `JUJU_NOTICE_ID`.
        id: String,
        /// `JUJU_NOTICE_KEY`.
        key: String,
    },
    /// `<container>-pebble-check-failed`.
    CheckFailed {
        /// `JUJU_PEBBLE_CHECK_NAME`.
        check: String,
    },
    /// `<container>-pebble-check-recovered`.
    CheckRecovered {
        /// `JUJU_PEBBLE_CHECK_NAME`.
        check: String,
    },
}

/// Which secret hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretHook {
    /// `secret-changed`.
    Changed,
    /// `secret-rotate`.
    Rotate,
    /// `secret-expired` of a revision.
    Expired(u64),
    /// `secret-remove` of a revision.
    Remove(u64),
}

/// One dispatch's reason: a hook or an action.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioEvent {
    /// A hook without arguments: `install`, `start`, `config-changed`, ... or any other
    /// name (an unknown hook, which a charm must ignore).
    Simple(String),
    /// `<endpoint>-relation-<kind>`.
    Relation {
        /// Which relation hook.
        kind: RelationEventKind,
        /// The endpoint.
        endpoint: String,
        /// The relation id.
        id: u64,
        /// The remote unit's number (of the remote app; for peers, of this app).
        remote_unit: Option<u32>,
        /// For departed: the leaving unit's number (of the same app as `remote_unit`).
        departing_unit: Option<u32>,
    },
    /// A workload hook.
    Workload {
        /// The container.
        container: String,
        /// Which hook.
        hook: WorkloadHook,
    },
    /// A secret hook.
    Secret {
        /// Which hook.
        hook: SecretHook,
        /// The secret.
        uri: SecretUri,
        /// Its label, if any.
        label: Option<String>,
    },
    /// An action with its parameters (before Juju's defaults).
    Action {
        /// The action name.
        name: String,
        /// The parameters given.
        params: BTreeMap<String, serde_json::Value>,
    },
}

impl ScenarioEvent {
    /// `install`.
    pub fn install() -> Self {
        Self::Simple("install".into())
    }
    /// `start`.
    pub fn start() -> Self {
        Self::Simple("start".into())
    }
    /// `stop`.
    pub fn stop() -> Self {
        Self::Simple("stop".into())
    }
    /// `remove`.
    pub fn remove() -> Self {
        Self::Simple("remove".into())
    }
    /// `config-changed`.
    pub fn config_changed() -> Self {
        Self::Simple("config-changed".into())
    }
    /// `update-status`.
    pub fn update_status() -> Self {
        Self::Simple("update-status".into())
    }
    /// `upgrade-charm`.
    pub fn upgrade_charm() -> Self {
        Self::Simple("upgrade-charm".into())
    }
    /// `leader-elected`.
    pub fn leader_elected() -> Self {
        Self::Simple("leader-elected".into())
    }
    /// `leader-settings-changed`.
    pub fn leader_settings_changed() -> Self {
        Self::Simple("leader-settings-changed".into())
    }
    /// A hook of any name (e.g. one this charm does not know).
    pub fn hook(name: impl Into<String>) -> Self {
        Self::Simple(name.into())
    }

    fn relation(kind: RelationEventKind, relation: &Relation, remote_unit: Option<u32>) -> Self {
        Self::Relation {
            kind,
            endpoint: relation.endpoint.clone(),
            id: relation.id,
            remote_unit,
            departing_unit: None,
        }
    }

    /// `<endpoint>-relation-created`.
    pub fn relation_created(relation: &Relation) -> Self {
        Self::relation(RelationEventKind::Created, relation, None)
    }
    /// `<endpoint>-relation-joined` for remote unit number `unit`.
    pub fn relation_joined(relation: &Relation, unit: u32) -> Self {
        Self::relation(RelationEventKind::Joined, relation, Some(unit))
    }
    /// `<endpoint>-relation-changed`, for a remote unit's bag or (`None`) the remote
    /// app's bag.
    pub fn relation_changed(relation: &Relation, unit: Option<u32>) -> Self {
        Self::relation(RelationEventKind::Changed, relation, unit)
    }
    /// `<endpoint>-relation-departed`: remote unit `unit` left.
    pub fn relation_departed(relation: &Relation, unit: u32) -> Self {
        Self::Relation {
            kind: RelationEventKind::Departed,
            endpoint: relation.endpoint.clone(),
            id: relation.id,
            remote_unit: Some(unit),
            departing_unit: Some(unit),
        }
    }
    /// `<endpoint>-relation-broken`.
    pub fn relation_broken(relation: &Relation) -> Self {
        Self::relation(RelationEventKind::Broken, relation, None)
    }

    /// `<container>-pebble-ready`.
    pub fn pebble_ready(container: impl Into<String>) -> Self {
        Self::Workload {
            container: container.into(),
            hook: WorkloadHook::PebbleReady,
        }
    }
    /// `<container>-pebble-check-failed`.
    pub fn pebble_check_failed(container: impl Into<String>, check: impl Into<String>) -> Self {
        Self::Workload {
            container: container.into(),
            hook: WorkloadHook::CheckFailed {
                check: check.into(),
            },
        }
    }
    /// `<container>-pebble-check-recovered`.
    pub fn pebble_check_recovered(container: impl Into<String>, check: impl Into<String>) -> Self {
        Self::Workload {
            container: container.into(),
            hook: WorkloadHook::CheckRecovered {
                check: check.into(),
            },
        }
    }
    /// `<container>-pebble-custom-notice`.
    pub fn pebble_custom_notice(
        container: impl Into<String>,
        id: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self::Workload {
            container: container.into(),
            hook: WorkloadHook::CustomNotice {
                id: id.into(),
                key: key.into(),
            },
        }
    }

    /// A secret hook for `secret`.
    pub fn secret(hook: SecretHook, secret: &Secret) -> Self {
        Self::Secret {
            hook,
            uri: secret.uri.clone(),
            label: secret.label.clone(),
        }
    }

    /// An action with `params`.
    pub fn action<K: Into<String>>(
        name: impl Into<String>,
        params: impl IntoIterator<Item = (K, serde_json::Value)>,
    ) -> Self {
        Self::Action {
            name: name.into(),
            params: params.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }

    /// The hook name Juju uses (`""` for actions, as in `JUJU_HOOK_NAME`).
    pub fn hook_name(&self) -> String {
        match self {
            Self::Simple(name) => name.clone(),
            Self::Relation { kind, endpoint, .. } => format!("{endpoint}-{}", kind.suffix()),
            Self::Workload { container, hook } => {
                let suffix = match hook {
                    WorkloadHook::PebbleReady => "pebble-ready",
                    WorkloadHook::CustomNotice { .. } => "pebble-custom-notice",
                    WorkloadHook::CheckFailed { .. } => "pebble-check-failed",
                    WorkloadHook::CheckRecovered { .. } => "pebble-check-recovered",
                };
                format!("{container}-{suffix}")
            }
            Self::Secret { hook, .. } => match hook {
                SecretHook::Changed => "secret-changed",
                SecretHook::Rotate => "secret-rotate",
                SecretHook::Expired(_) => "secret-expired",
                SecretHook::Remove(_) => "secret-remove",
            }
            .to_owned(),
            Self::Action { .. } => String::new(),
        }
    }
}
