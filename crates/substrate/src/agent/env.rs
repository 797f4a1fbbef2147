//! The exact environment Juju 3.6 gives `dispatch` (contract §1.3), in Juju's order:
//! the always-set variables, the context-specific ones, the OS ones (Ubuntu charm-base
//! values), and `JUJU_DISPATCH_PATH` last. Nothing else is passed: no `HOME`, no `USER`.

use super::hook::{Hook, HookKind};
use crate::model::Model;

/// The Juju version the substrate presents.
pub const JUJU_VERSION: &str = "3.6.0";
/// The agent's own `PATH` in the charm container.
pub const AGENT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a unit's files are, as the charm process sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitLayout {
    /// `JUJU_CHARM_DIR`, e.g. `/var/lib/juju/agents/unit-indico-0/charm`.
    pub charm_dir: String,
    /// `JUJU_AGENT_SOCKET_ADDRESS`.
    pub agent_socket: String,
    /// The hook-tools directory put first in `PATH`.
    pub tools_dir: String,
}

impl UnitLayout {
    /// Juju's layout under `data_dir` (`/var/lib/juju` in a pod).
    pub fn juju(data_dir: &str, unit: &str) -> Self {
        let tag = unit_tag(unit);
        Self {
            charm_dir: format!("{data_dir}/agents/{tag}/charm"),
            agent_socket: format!("{data_dir}/agents/{tag}/agent.socket"),
            tools_dir: format!("{data_dir}/tools/{tag}"),
        }
    }
}

/// `unit-<app>-<n>` for `app/n`.
pub fn unit_tag(unit: &str) -> String {
    format!("unit-{}", unit.replace('/', "-"))
}

/// A new `JUJU_CONTEXT_ID`: `<unit>-<hook or action name>-<32 hex chars>`.
pub fn new_context_id(unit: &str, hook: &Hook) -> String {
    let mut bytes = [0u8; 16];
    crate::model::fill_random(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{unit}-{}-{hex}", hook.display_name())
}

/// The environment for running `hook` on `unit`, in Juju's order.
pub fn hook_env(
    model: &Model,
    unit: &str,
    hook: &Hook,
    layout: &UnitLayout,
    context_id: &str,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: &str| env.push((k.to_owned(), v.to_owned()));
    let model_config = |key: &str| model.model_config.get(key).cloned().unwrap_or_default();
    set("CHARM_DIR", &layout.charm_dir);
    set("JUJU_CHARM_DIR", &layout.charm_dir);
    set("JUJU_CONTEXT_ID", context_id);
    set("JUJU_HOOK_NAME", &hook.name());
    set("JUJU_AGENT_SOCKET_ADDRESS", &layout.agent_socket);
    set("JUJU_AGENT_SOCKET_NETWORK", "unix");
    set("JUJU_UNIT_NAME", unit);
    set("JUJU_MODEL_UUID", &model.uuid);
    set("JUJU_MODEL_NAME", &model.name);
    set("JUJU_API_ADDRESSES", "127.0.0.1:17070");
    set("JUJU_SLA", "unsupported");
    set("JUJU_MACHINE_ID", "");
    set("JUJU_PRINCIPAL_UNIT", "");
    set("JUJU_AVAILABILITY_ZONE", "");
    set("JUJU_VERSION", JUJU_VERSION);
    set("CLOUD_API_VERSION", "1.29.0");
    set("JUJU_CHARM_HTTP_PROXY", &model_config("juju-http-proxy"));
    set("JUJU_CHARM_HTTPS_PROXY", &model_config("juju-https-proxy"));
    set("JUJU_CHARM_FTP_PROXY", &model_config("juju-ftp-proxy"));
    set("JUJU_CHARM_NO_PROXY", &model_config("juju-no-proxy"));
    if let Some(rel) = &hook.relation {
        set("JUJU_RELATION", &rel.endpoint);
        set("JUJU_RELATION_ID", &format!("{}:{}", rel.endpoint, rel.id));
        set(
            "JUJU_REMOTE_UNIT",
            hook.remote_unit.as_deref().unwrap_or(""),
        );
        set("JUJU_REMOTE_APP", &rel.remote_app);
        if hook.kind == HookKind::RelationDeparted {
            set(
                "JUJU_DEPARTING_UNIT",
                hook.departing_unit.as_deref().unwrap_or(""),
            );
        }
    }
    if let Some(action) = &hook.action {
        set("JUJU_ACTION_NAME", &action.name);
        set("JUJU_ACTION_UUID", &action.id.to_string());
        set("JUJU_ACTION_TAG", &format!("action-{}", action.id));
    }
    if let Some(workload) = &hook.workload {
        set("JUJU_WORKLOAD_NAME", workload);
    }
    if let Some((uri, label)) = &hook.secret {
        set("JUJU_SECRET_ID", uri);
        set("JUJU_SECRET_LABEL", label);
    }
    set("APT_LISTCHANGES_FRONTEND", "none");
    set("DEBIAN_FRONTEND", "noninteractive");
    set("LANG", "C.UTF-8");
    set("TERM", "tmux-256color");
    set("PATH", &format!("{}:{AGENT_PATH}", layout.tools_dir));
    set("JUJU_DISPATCH_PATH", &hook.dispatch_path());
    env
}

#[cfg(test)]
mod tests {
    use super::super::hook::RelationRef;
    use super::*;

    #[test]
    fn relation_hooks_carry_the_relation_and_dispatch_path_comes_last() {
        let model = Model::new("dev");
        let layout = UnitLayout::juju("/var/lib/juju", "indico/0");
        let hook = Hook::relation(
            HookKind::RelationCreated,
            RelationRef {
                id: 2,
                endpoint: "database".into(),
                remote_app: "postgresql".into(),
            },
            None,
        );
        let env = hook_env(&model, "indico/0", &hook, &layout, "ctx");
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("JUJU_RELATION_ID"), Some("database:2"));
        assert_eq!(
            get("JUJU_REMOTE_UNIT"),
            Some(""),
            "set but empty for created"
        );
        assert_eq!(get("JUJU_DEPARTING_UNIT"), None);
        assert_eq!(
            get("JUJU_CHARM_DIR"),
            Some("/var/lib/juju/agents/unit-indico-0/charm")
        );
        assert_eq!(
            get("JUJU_AGENT_SOCKET_ADDRESS"),
            Some("/var/lib/juju/agents/unit-indico-0/agent.socket")
        );
        assert_eq!(
            get("PATH").unwrap().split(':').next(),
            Some("/var/lib/juju/tools/unit-indico-0")
        );
        assert_eq!(
            env.last().unwrap(),
            &(
                "JUJU_DISPATCH_PATH".to_owned(),
                "hooks/database-relation-created".to_owned()
            )
        );
        assert!(get("HOME").is_none() && get("USER").is_none());
    }

    #[test]
    fn actions_have_an_empty_hook_name_and_their_ids() {
        let model = Model::new("dev");
        let layout = UnitLayout::juju("/var/lib/juju", "indico/1");
        let env = hook_env(
            &model,
            "indico/1",
            &Hook::action(42, "add-admin"),
            &layout,
            "ctx",
        );
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("JUJU_HOOK_NAME"), Some(""));
        assert_eq!(get("JUJU_ACTION_UUID"), Some("42"));
        assert_eq!(get("JUJU_ACTION_TAG"), Some("action-42"));
        assert_eq!(get("JUJU_DISPATCH_PATH"), Some("actions/add-admin"));
    }
}
