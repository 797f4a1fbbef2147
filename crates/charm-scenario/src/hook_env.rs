//! The exact environment Juju 3.6 gives `dispatch` for an event
//! (`docs/juju-contract.md` §1.3): the always-set variables, the event's own ones, and
//! `JUJU_DISPATCH_PATH` last. The in-memory run parses it with juju-runtime's real
//! parser; the process-level test hands it to the compiled binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use juju_runtime::RelationEventKind;

use crate::event::{ScenarioEvent, SecretHook, WorkloadHook};
use crate::state::{ModelProxy, State};

/// Who and where the unit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitIdentity {
    /// The application name.
    pub app: String,
    /// The unit number.
    pub unit_id: u32,
    /// The model name.
    pub model_name: String,
    /// The model UUID.
    pub model_uuid: String,
    /// `JUJU_VERSION`.
    pub juju_version: String,
    /// `JUJU_CHARM_DIR`.
    pub charm_dir: PathBuf,
}

impl UnitIdentity {
    /// Unit `<app>/0` in model `test` on Juju 3.6.4, charm dir as Juju lays it out.
    pub fn new(app: impl Into<String>) -> Self {
        let app = app.into();
        Self {
            charm_dir: PathBuf::from(format!("/var/lib/juju/agents/unit-{app}-0/charm")),
            app,
            unit_id: 0,
            model_name: "test".to_owned(),
            model_uuid: "6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42".to_owned(),
            juju_version: "3.6.4".to_owned(),
        }
    }

    /// The unit name, `<app>/<n>`.
    pub fn unit_name(&self) -> String {
        format!("{}/{}", self.app, self.unit_id)
    }
}

/// Builds the environment for `event` against `state` (which supplies the model proxy
/// settings and the remote application of relation events). `tools_dir` becomes the
/// head of `PATH`, as Juju's tools directory is; `context_seq` makes `JUJU_CONTEXT_ID`
/// unique per run.
pub fn hook_env(
    identity: &UnitIdentity,
    event: &ScenarioEvent,
    state: &State,
    tools_dir: &Path,
    context_seq: u64,
) -> BTreeMap<String, String> {
    let unit = identity.unit_name();
    let agent_dir = format!(
        "/var/lib/juju/agents/unit-{}-{}",
        identity.app, identity.unit_id
    );
    let hook_name = event.hook_name();
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_owned(), v);
    };
    let charm_dir = identity.charm_dir.display().to_string();
    set("CHARM_DIR", charm_dir.clone());
    set("JUJU_CHARM_DIR", charm_dir);
    let name_for_id = match event {
        ScenarioEvent::Action { name, .. } => name.clone(),
        _ => hook_name.clone(),
    };
    set(
        "JUJU_CONTEXT_ID",
        format!("{unit}-{name_for_id}-{context_seq:032x}"),
    );
    set("JUJU_HOOK_NAME", hook_name.clone());
    set(
        "JUJU_AGENT_SOCKET_ADDRESS",
        format!("{agent_dir}/agent.socket"),
    );
    set("JUJU_AGENT_SOCKET_NETWORK", "unix".to_owned());
    set("JUJU_UNIT_NAME", unit.clone());
    set("JUJU_MODEL_UUID", identity.model_uuid.clone());
    set("JUJU_MODEL_NAME", identity.model_name.clone());
    set("JUJU_API_ADDRESSES", "10.0.0.1:17070".to_owned());
    set("JUJU_SLA", "unsupported".to_owned());
    set("JUJU_MACHINE_ID", String::new());
    set("JUJU_PRINCIPAL_UNIT", String::new());
    set("JUJU_AVAILABILITY_ZONE", String::new());
    set("JUJU_VERSION", identity.juju_version.clone());
    set("CLOUD_API_VERSION", "1.29.0".to_owned());
    let ModelProxy {
        http,
        https,
        ftp,
        no_proxy,
    } = &state.model_proxy;
    for (var, value) in [
        ("JUJU_CHARM_HTTP_PROXY", http),
        ("JUJU_CHARM_HTTPS_PROXY", https),
        ("JUJU_CHARM_FTP_PROXY", ftp),
        ("JUJU_CHARM_NO_PROXY", no_proxy),
    ] {
        set(var, value.clone().unwrap_or_default());
    }
    set("APT_LISTCHANGES_FRONTEND", "none".to_owned());
    set("DEBIAN_FRONTEND", "noninteractive".to_owned());
    set("LANG", "C.UTF-8".to_owned());
    set("TERM", "tmux-256color".to_owned());
    set(
        "PATH",
        format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            tools_dir.display()
        ),
    );
    match event {
        ScenarioEvent::Simple(_) => {}
        ScenarioEvent::Relation {
            kind,
            endpoint,
            id,
            remote_unit,
            departing_unit,
        } => {
            let relation = state.relation(*id);
            let remote_app = match relation {
                Some(r) if r.kind == crate::state::RelationKind::Peer => identity.app.clone(),
                Some(r) => r.remote_app.clone(),
                None => String::new(),
            };
            set("JUJU_RELATION", endpoint.clone());
            set("JUJU_RELATION_ID", format!("{endpoint}:{id}"));
            let remote = match kind {
                RelationEventKind::Created | RelationEventKind::Broken => None,
                _ => *remote_unit,
            };
            set(
                "JUJU_REMOTE_UNIT",
                remote.map_or_else(String::new, |n| format!("{remote_app}/{n}")),
            );
            set("JUJU_REMOTE_APP", remote_app.clone());
            if let Some(n) = departing_unit {
                set("JUJU_DEPARTING_UNIT", format!("{remote_app}/{n}"));
            }
        }
        ScenarioEvent::Workload { container, hook } => {
            set("JUJU_WORKLOAD_NAME", container.clone());
            match hook {
                WorkloadHook::PebbleReady => {}
                WorkloadHook::CustomNotice { id, key } => {
                    set("JUJU_NOTICE_ID", id.clone());
                    set("JUJU_NOTICE_TYPE", "custom".to_owned());
                    set("JUJU_NOTICE_KEY", key.clone());
                }
                WorkloadHook::CheckFailed { check } | WorkloadHook::CheckRecovered { check } => {
                    set("JUJU_PEBBLE_CHECK_NAME", check.clone());
                }
            }
        }
        ScenarioEvent::Secret { hook, uri, label } => {
            set("JUJU_SECRET_ID", uri.to_string());
            set("JUJU_SECRET_LABEL", label.clone().unwrap_or_default());
            if let SecretHook::Expired(revision) | SecretHook::Remove(revision) = hook {
                set("JUJU_SECRET_REVISION", revision.to_string());
            }
        }
        ScenarioEvent::Action { name, .. } => {
            let id = context_seq.to_string();
            set("JUJU_ACTION_NAME", name.clone());
            set("JUJU_ACTION_UUID", id.clone());
            set("JUJU_ACTION_TAG", format!("action-{id}"));
        }
    }
    let dispatch_path = match event {
        ScenarioEvent::Action { name, .. } => format!("actions/{name}"),
        _ => format!("hooks/{hook_name}"),
    };
    set("JUJU_DISPATCH_PATH", dispatch_path);
    env
}
