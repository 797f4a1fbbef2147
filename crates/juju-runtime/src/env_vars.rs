//! The inverse of [`JujuContext::from_vars`]: the hook environment variables Juju 3.6
//! sets for a context and its event (`docs/juju-contract.md` §1.3), for harnesses that
//! run a charm's `dispatch` the way the unit agent does, and for round-trip tests.
//!
//! Only the variables this crate reads are produced, plus `CHARM_DIR`; the agent's own
//! (`JUJU_CONTEXT_ID`, `JUJU_AGENT_SOCKET_*`, `PATH`, ...) belong to whoever runs the
//! hook tools.

use crate::context::JujuContext;
use crate::event::{Event, RelationEventKind, SecretEventKind, WorkloadEventKind};

impl Event {
    /// `JUJU_DISPATCH_PATH`, `JUJU_HOOK_NAME` and the event's own variables, as Juju
    /// sets them: relation hooks always export `JUJU_REMOTE_UNIT` and `JUJU_REMOTE_APP`
    /// (empty when there is none), actions have an empty `JUJU_HOOK_NAME`, and
    /// `JUJU_SECRET_REVISION` exists only for expired and remove.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let name = self.name();
        let mut vars = Vec::new();
        if let Self::Action(action) = self {
            vars.push(("JUJU_DISPATCH_PATH", format!("actions/{name}")));
            vars.push(("JUJU_HOOK_NAME", String::new()));
            vars.push(("JUJU_ACTION_NAME", action.name.clone()));
            vars.push(("JUJU_ACTION_UUID", action.id.clone()));
            vars.push(("JUJU_ACTION_TAG", format!("action-{}", action.id)));
            return vars;
        }
        vars.push(("JUJU_DISPATCH_PATH", format!("hooks/{name}")));
        vars.push(("JUJU_HOOK_NAME", name));
        match self {
            Self::Relation(e) => {
                vars.push(("JUJU_RELATION", e.relation.endpoint.clone()));
                vars.push(("JUJU_RELATION_ID", e.relation.to_string()));
                vars.push((
                    "JUJU_REMOTE_UNIT",
                    e.remote_unit
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                ));
                vars.push(("JUJU_REMOTE_APP", e.remote_app.clone().unwrap_or_default()));
                if e.kind == RelationEventKind::Departed {
                    vars.push((
                        "JUJU_DEPARTING_UNIT",
                        e.departing_unit
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    ));
                }
            }
            Self::Workload(e) => {
                vars.push(("JUJU_WORKLOAD_NAME", e.container.clone()));
                match &e.kind {
                    WorkloadEventKind::PebbleReady => {}
                    WorkloadEventKind::CustomNotice(notice) => {
                        vars.push(("JUJU_NOTICE_ID", notice.id.clone()));
                        vars.push(("JUJU_NOTICE_TYPE", notice.notice_type.clone()));
                        vars.push(("JUJU_NOTICE_KEY", notice.key.clone()));
                    }
                    WorkloadEventKind::CheckFailed { check_name }
                    | WorkloadEventKind::CheckRecovered { check_name } => {
                        vars.push(("JUJU_PEBBLE_CHECK_NAME", check_name.clone()));
                    }
                }
            }
            Self::Secret(e) => {
                vars.push(("JUJU_SECRET_ID", e.uri.to_string()));
                vars.push(("JUJU_SECRET_LABEL", e.label.clone().unwrap_or_default()));
                if let SecretEventKind::Expired { revision }
                | SecretEventKind::Remove { revision } = e.kind
                {
                    vars.push(("JUJU_SECRET_REVISION", revision.to_string()));
                }
            }
            Self::Storage(e) => {
                vars.push(("JUJU_STORAGE_ID", e.storage_id.clone()));
                if let Some(location) = &e.location {
                    vars.push(("JUJU_STORAGE_LOCATION", location.clone()));
                }
            }
            _ => {}
        }
        vars
    }
}

impl JujuContext {
    /// The variables Juju sets for this context and its event: unit, model, version,
    /// charm dir (also as the legacy `CHARM_DIR`), the four `JUJU_CHARM_*_PROXY`
    /// (always exported, empty when unset), then [`Event::env_vars`].
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let charm_dir = self.charm_dir.to_string_lossy().into_owned();
        let proxy = |value: &Option<String>| value.clone().unwrap_or_default();
        let mut vars = vec![
            ("CHARM_DIR", charm_dir.clone()),
            ("JUJU_CHARM_DIR", charm_dir),
            ("JUJU_UNIT_NAME", self.unit.to_string()),
            ("JUJU_MODEL_UUID", self.model_uuid.clone()),
            ("JUJU_MODEL_NAME", self.model_name.clone()),
            ("JUJU_VERSION", self.juju_version.to_string()),
            ("JUJU_CHARM_HTTP_PROXY", proxy(&self.proxy.http)),
            ("JUJU_CHARM_HTTPS_PROXY", proxy(&self.proxy.https)),
            ("JUJU_CHARM_FTP_PROXY", proxy(&self.proxy.ftp)),
            ("JUJU_CHARM_NO_PROXY", proxy(&self.proxy.no_proxy)),
        ];
        vars.extend(self.event.env_vars());
        vars
    }
}
