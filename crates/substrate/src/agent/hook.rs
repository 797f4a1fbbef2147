//! The hooks a unit agent runs, with the names Juju gives them (contract §1.2):
//! `<endpoint>-relation-<kind>` for relations, `<container>-pebble-ready` for workloads,
//! the kind itself otherwise; actions have an empty hook name.

use crate::hook_tools::ActionInfo;

/// The kind of a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// `install`.
    Install,
    /// `leader-elected`.
    LeaderElected,
    /// `leader-settings-changed` (non-leaders, after deploy).
    LeaderSettingsChanged,
    /// `config-changed`.
    ConfigChanged,
    /// `start`.
    Start,
    /// `update-status`.
    UpdateStatus,
    /// `stop`.
    Stop,
    /// `remove`.
    Remove,
    /// `<endpoint>-relation-created`.
    RelationCreated,
    /// `<endpoint>-relation-joined`.
    RelationJoined,
    /// `<endpoint>-relation-changed`.
    RelationChanged,
    /// `<endpoint>-relation-departed`.
    RelationDeparted,
    /// `<endpoint>-relation-broken`.
    RelationBroken,
    /// `<container>-pebble-ready`.
    PebbleReady,
    /// `secret-changed`.
    SecretChanged,
    /// An action.
    Action,
}

impl HookKind {
    fn suffix(self) -> &'static str {
        match self {
            Self::Install => "install",
            Self::LeaderElected => "leader-elected",
            Self::LeaderSettingsChanged => "leader-settings-changed",
            Self::ConfigChanged => "config-changed",
            Self::Start => "start",
            Self::UpdateStatus => "update-status",
            Self::Stop => "stop",
            Self::Remove => "remove",
            Self::RelationCreated => "relation-created",
            Self::RelationJoined => "relation-joined",
            Self::RelationChanged => "relation-changed",
            Self::RelationDeparted => "relation-departed",
            Self::RelationBroken => "relation-broken",
            Self::PebbleReady => "pebble-ready",
            Self::SecretChanged => "secret-changed",
            Self::Action => "",
        }
    }

    /// Whether this is a relation hook.
    pub fn is_relation(self) -> bool {
        matches!(
            self,
            Self::RelationCreated
                | Self::RelationJoined
                | Self::RelationChanged
                | Self::RelationDeparted
                | Self::RelationBroken
        )
    }
}

/// The relation a relation hook is about, as the hook's unit sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationRef {
    /// The relation id.
    pub id: u64,
    /// This unit's endpoint.
    pub endpoint: String,
    /// The application at the other end (this one for peers).
    pub remote_app: String,
}

/// One hook (or action) to run on a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    /// The kind.
    pub kind: HookKind,
    /// The relation, for relation hooks.
    pub relation: Option<RelationRef>,
    /// The remote unit (joined, changed by a unit, departed).
    pub remote_unit: Option<String>,
    /// The departing unit (departed).
    pub departing_unit: Option<String>,
    /// The workload container (pebble-ready).
    pub workload: Option<String>,
    /// The secret URI and label (secret hooks).
    pub secret: Option<(String, String)>,
    /// The action (actions).
    pub action: Option<ActionInfo>,
}

impl Hook {
    /// A hook with no relation, workload, secret or action.
    pub fn plain(kind: HookKind) -> Self {
        Self {
            kind,
            relation: None,
            remote_unit: None,
            departing_unit: None,
            workload: None,
            secret: None,
            action: None,
        }
    }

    /// A relation hook.
    pub fn relation(kind: HookKind, relation: RelationRef, remote_unit: Option<String>) -> Self {
        let departing_unit = (kind == HookKind::RelationDeparted)
            .then(|| remote_unit.clone())
            .flatten();
        Self {
            relation: Some(relation),
            remote_unit,
            departing_unit,
            ..Self::plain(kind)
        }
    }

    /// `<container>-pebble-ready`.
    pub fn pebble_ready(container: &str) -> Self {
        Self {
            workload: Some(container.to_owned()),
            ..Self::plain(HookKind::PebbleReady)
        }
    }

    /// An action.
    pub fn action(id: u64, name: &str) -> Self {
        Self {
            action: Some(ActionInfo {
                id,
                name: name.to_owned(),
            }),
            ..Self::plain(HookKind::Action)
        }
    }

    /// The hook name (`JUJU_HOOK_NAME`); empty for actions.
    pub fn name(&self) -> String {
        match (self.kind, &self.relation, &self.workload) {
            (HookKind::Action, _, _) => String::new(),
            (kind, Some(rel), _) if kind.is_relation() => {
                format!("{}-{}", rel.endpoint, kind.suffix())
            }
            (HookKind::PebbleReady, _, Some(container)) => format!("{container}-pebble-ready"),
            (kind, _, _) => kind.suffix().to_owned(),
        }
    }

    /// `JUJU_DISPATCH_PATH`: `hooks/<name>` or `actions/<action>`.
    pub fn dispatch_path(&self) -> String {
        match &self.action {
            Some(action) => format!("actions/{}", action.name),
            None => format!("hooks/{}", self.name()),
        }
    }

    /// What the debug log and `hook failed` call it: the hook name, or the action name.
    pub fn display_name(&self) -> String {
        match &self.action {
            Some(action) => action.name.clone(),
            None => self.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_juju() {
        let rel = RelationRef {
            id: 3,
            endpoint: "database".into(),
            remote_app: "postgresql".into(),
        };
        let changed = Hook::relation(HookKind::RelationChanged, rel.clone(), None);
        assert_eq!(changed.name(), "database-relation-changed");
        assert_eq!(changed.dispatch_path(), "hooks/database-relation-changed");
        let departed = Hook::relation(HookKind::RelationDeparted, rel, Some("postgresql/0".into()));
        assert_eq!(departed.departing_unit.as_deref(), Some("postgresql/0"));
        assert_eq!(
            Hook::pebble_ready("indico-nginx").name(),
            "indico-nginx-pebble-ready"
        );
        let action = Hook::action(4, "add-admin");
        assert_eq!(
            (action.name().as_str(), action.dispatch_path().as_str()),
            ("", "actions/add-admin")
        );
        assert_eq!(
            Hook::plain(HookKind::LeaderElected).dispatch_path(),
            "hooks/leader-elected"
        );
    }
}
