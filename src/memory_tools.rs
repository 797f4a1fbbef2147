//! Test support: an in-memory Juju model behind the `HookTools` trait, for fast tests of
//! gather and the reconcile. It models what this charm uses (config, leadership, relations
//! with their four kinds of bags, secrets, status, workload version, action failure) and
//! records every call; anything else answers with a usage error instead of panicking.

use std::cell::RefCell;
use std::collections::BTreeMap;

use juju_runtime::hook_tools::{GoalState, NetworkInfo, SecretInfo};
use juju_runtime::{
    ActionParams, Bag, ConfigValues, Databag, HookToolError, HookToolResult, HookTools, LogLevel,
    Port, RelationId, Scope, SecretAddOptions, SecretContent, SecretGetOptions, SecretRef,
    SecretSetOptions, SecretUri, Status, StatusReport,
};

/// One relation of the in-memory model.
#[derive(Clone, Debug, Default)]
pub struct MemoryRelation {
    /// The remote application (this application for peers).
    pub remote_app: String,
    /// The remote application's bag (unused for peers: see `local_app`).
    pub remote_app_bag: Databag,
    /// This application's bag (for peers, the shared bag).
    pub local_app: Databag,
    /// Remote units and their bags.
    pub units: BTreeMap<String, Databag>,
}

/// The model and the record of calls.
#[derive(Debug, Default)]
pub struct MemoryTools {
    /// This application's name.
    pub app: String,
    /// `config-get` output.
    pub config: ConfigValues,
    /// `is-leader`.
    pub leader: bool,
    /// Relations by id.
    pub relations: RefCell<BTreeMap<RelationId, MemoryRelation>>,
    /// Secrets by URI.
    pub secrets: RefCell<BTreeMap<String, BTreeMap<String, String>>>,
    /// Every status set, in order.
    pub statuses: RefCell<Vec<Status>>,
    /// Every workload version set, in order.
    pub versions: RefCell<Vec<String>>,
    /// Every action-fail message.
    pub action_failures: RefCell<Vec<String>>,
    /// The name of every tool called, in order.
    pub calls: RefCell<Vec<&'static str>>,
}

fn not_modelled<T>(tool: &'static str) -> HookToolResult<T> {
    Err(HookToolError::Usage {
        tool,
        message: "not modelled by MemoryTools".into(),
    })
}

fn relation_not_found<T>(tool: &'static str, id: &RelationId) -> HookToolResult<T> {
    Err(HookToolError::RelationNotFound {
        tool,
        message: format!("relation {id} not found"),
    })
}

impl MemoryTools {
    /// An empty model for application `app`.
    pub fn new(app: &str, leader: bool) -> Self {
        Self {
            app: app.to_owned(),
            leader,
            ..Self::default()
        }
    }

    /// Adds a relation.
    pub fn relate(&self, id: RelationId, relation: MemoryRelation) {
        self.relations.borrow_mut().insert(id, relation);
    }

    /// How many tool calls were made.
    pub fn call_count(&self) -> usize {
        self.calls.borrow().len()
    }

    /// How many calls of one tool were made.
    pub fn calls_of(&self, tool: &str) -> usize {
        self.calls.borrow().iter().filter(|t| **t == tool).count()
    }

    fn record(&self, tool: &'static str) {
        self.calls.borrow_mut().push(tool);
    }
}

impl HookTools for MemoryTools {
    fn config_get(&self) -> HookToolResult<ConfigValues> {
        self.record("config-get");
        Ok(self.config.clone())
    }

    fn relation_ids(&self, endpoint: &str) -> HookToolResult<Vec<RelationId>> {
        self.record("relation-ids");
        let relations = self.relations.borrow();
        Ok(relations
            .keys()
            .filter(|id| id.endpoint == endpoint)
            .cloned()
            .collect())
    }

    fn relation_list(&self, relation: &RelationId) -> HookToolResult<Vec<String>> {
        self.record("relation-list");
        match self.relations.borrow().get(relation) {
            Some(r) => Ok(r.units.keys().cloned().collect()),
            None => relation_not_found("relation-list", relation),
        }
    }

    fn relation_remote_app(&self, relation: &RelationId) -> HookToolResult<Option<String>> {
        self.record("relation-list");
        match self.relations.borrow().get(relation) {
            Some(r) => Ok(Some(r.remote_app.clone())),
            None => relation_not_found("relation-list", relation),
        }
    }

    fn relation_get(&self, relation: &RelationId, bag: &Bag) -> HookToolResult<Databag> {
        self.record("relation-get");
        let relations = self.relations.borrow();
        let Some(r) = relations.get(relation) else {
            return relation_not_found("relation-get", relation);
        };
        match bag {
            Bag::App(app) if *app == self.app => {
                let peer = r.remote_app == self.app;
                if !self.leader && !peer {
                    return Err(HookToolError::PermissionDenied {
                        tool: "relation-get",
                        message: "permission denied".into(),
                    });
                }
                Ok(r.local_app.clone())
            }
            Bag::App(app) if *app == r.remote_app => Ok(r.remote_app_bag.clone()),
            Bag::Unit(unit) => r.units.get(unit).cloned().ok_or(HookToolError::Failed {
                tool: "relation-get",
                exit_code: Some(1),
                message: format!("unknown unit {unit}"),
            }),
            Bag::App(_) => not_modelled("relation-get"),
        }
    }

    fn relation_set(
        &self,
        relation: &RelationId,
        scope: Scope,
        data: &Databag,
    ) -> HookToolResult<()> {
        self.record("relation-set");
        if scope == Scope::App && !self.leader {
            return Err(HookToolError::NotLeader {
                tool: "relation-set",
                message: "cannot write relation settings".into(),
            });
        }
        let mut relations = self.relations.borrow_mut();
        let Some(r) = relations.get_mut(relation) else {
            return relation_not_found("relation-set", relation);
        };
        if scope == Scope::Unit {
            return not_modelled("relation-set");
        }
        for (k, v) in data {
            if v.is_empty() {
                r.local_app.remove(k);
            } else {
                r.local_app.insert(k.clone(), v.clone());
            }
        }
        Ok(())
    }

    fn is_leader(&self) -> HookToolResult<bool> {
        self.record("is-leader");
        Ok(self.leader)
    }

    fn status_set(&self, _scope: Scope, status: &Status) -> HookToolResult<()> {
        self.record("status-set");
        self.statuses.borrow_mut().push(status.clone());
        Ok(())
    }

    fn status_get(&self, _scope: Scope) -> HookToolResult<StatusReport> {
        self.record("status-get");
        not_modelled("status-get")
    }

    fn application_version_set(&self, version: &str) -> HookToolResult<()> {
        self.record("application-version-set");
        self.versions.borrow_mut().push(version.to_owned());
        Ok(())
    }

    fn open_port(&self, _port: Port) -> HookToolResult<()> {
        self.record("open-port");
        Ok(())
    }

    fn close_port(&self, _port: Port) -> HookToolResult<()> {
        not_modelled("close-port")
    }

    fn opened_ports(&self) -> HookToolResult<Vec<Port>> {
        not_modelled("opened-ports")
    }

    fn juju_log(&self, _level: LogLevel, _message: &str) -> HookToolResult<()> {
        self.record("juju-log");
        Ok(())
    }

    fn action_get(&self) -> HookToolResult<ActionParams> {
        not_modelled("action-get")
    }

    fn action_set(&self, _results: &BTreeMap<String, String>) -> HookToolResult<()> {
        not_modelled("action-set")
    }

    fn action_fail(&self, message: &str) -> HookToolResult<()> {
        self.record("action-fail");
        self.action_failures.borrow_mut().push(message.to_owned());
        Ok(())
    }

    fn action_log(&self, _message: &str) -> HookToolResult<()> {
        not_modelled("action-log")
    }

    fn state_get(&self, _key: &str) -> HookToolResult<Option<String>> {
        not_modelled("state-get")
    }

    fn state_get_all(&self) -> HookToolResult<BTreeMap<String, String>> {
        not_modelled("state-get")
    }

    fn state_set(&self, _values: &BTreeMap<String, String>) -> HookToolResult<()> {
        not_modelled("state-set")
    }

    fn state_delete(&self, _key: &str) -> HookToolResult<()> {
        not_modelled("state-delete")
    }

    fn secret_add(
        &self,
        content: &SecretContent,
        _options: &SecretAddOptions,
    ) -> HookToolResult<SecretUri> {
        self.record("secret-add");
        if !self.leader {
            return Err(HookToolError::NotLeader {
                tool: "secret-add",
                message: "this unit is not the leader".into(),
            });
        }
        let mut secrets = self.secrets.borrow_mut();
        let uri = format!("secret:{:020}", secrets.len() + 1);
        secrets.insert(uri.clone(), content.clone().into_map());
        uri.parse().map_err(|_| HookToolError::Decode {
            tool: "secret-add",
            reason: "bad uri".into(),
        })
    }

    fn secret_get(
        &self,
        secret: &SecretRef,
        _options: SecretGetOptions,
    ) -> HookToolResult<SecretContent> {
        self.record("secret-get");
        let SecretRef::Uri(uri) = secret else {
            return not_modelled("secret-get");
        };
        let secrets = self.secrets.borrow();
        let content = secrets
            .get(uri.as_str())
            .ok_or(HookToolError::SecretNotFound {
                tool: "secret-get",
                message: format!("secret {:?} not found", uri.as_str()),
            })?;
        SecretContent::new(content.clone()).map_err(|e| HookToolError::InvalidArgument {
            tool: "secret-get",
            reason: e.to_string(),
        })
    }

    fn secret_set(
        &self,
        _uri: &SecretUri,
        _content: &SecretContent,
        _options: &SecretSetOptions,
    ) -> HookToolResult<()> {
        not_modelled("secret-set")
    }

    fn secret_info_get(&self, _secret: &SecretRef) -> HookToolResult<SecretInfo> {
        not_modelled("secret-info-get")
    }

    fn secret_grant(
        &self,
        _uri: &SecretUri,
        _relation: &RelationId,
        _unit: Option<&str>,
    ) -> HookToolResult<()> {
        not_modelled("secret-grant")
    }

    fn secret_revoke(
        &self,
        _uri: &SecretUri,
        _relation: &RelationId,
        _unit: Option<&str>,
    ) -> HookToolResult<()> {
        not_modelled("secret-revoke")
    }

    fn secret_remove(&self, _uri: &SecretUri, _revision: Option<u64>) -> HookToolResult<()> {
        not_modelled("secret-remove")
    }

    fn secret_ids(&self) -> HookToolResult<Vec<String>> {
        not_modelled("secret-ids")
    }

    fn network_get(
        &self,
        _binding: &str,
        _relation: Option<&RelationId>,
    ) -> HookToolResult<NetworkInfo> {
        not_modelled("network-get")
    }

    fn goal_state(&self) -> HookToolResult<GoalState> {
        not_modelled("goal-state")
    }
}
