//! [`ScenarioHookTools`]: the hook tools in memory, reading and writing the run's
//! working [`State`] with Juju's rules (`docs/juju-contract.md` §1.4 and §2): leader-only
//! writes of the own app bag and app-owned secrets, read-your-writes, `relation-ids`
//! without the relation being broken, `opened-ports` without this hook's changes,
//! errors with the real tools' texts and exit codes (classified exactly as the process
//! implementation classifies them). Every call is recorded.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use juju_runtime::hook_tools::{
    BindAddress, GoalState, GoalStatus, InterfaceAddress, NetworkInfo, SecretInfo, StatusName,
    StatusReport,
};
use juju_runtime::{
    ActionParams, Bag, ConfigValues, Databag, HookToolError, HookToolResult, HookTools, LogLevel,
    Port, RelationEventKind, RelationId, Scope, SecretAddOptions, SecretContent, SecretGetOptions,
    SecretOwner, SecretRef, SecretSetOptions, SecretUri, Status, UnitName,
};

use crate::event::ScenarioEvent;
use crate::hook_env::UnitIdentity;
use crate::record::HookToolCall;
use crate::spec::CharmSpec;
use crate::state::{Relation, RelationKind, Secret, SecretGrant, State};

/// Juju's fixed charm-state limits (`core/quota`).
const MAX_STATE_KEY_LEN: usize = 256;
const MAX_STATE_VALUE_LEN: usize = 65536;
/// The message `action-fail` uses without one.
const DEFAULT_ACTION_FAIL: &str = "action failed without reason given, check action for errors";

/// The error the real tool gives: `ERROR <message>` with `exit_code`, classified as
/// [`juju_runtime::ProcessHookTools`] classifies it.
fn juju_error(tool: &'static str, exit_code: i32, message: &str) -> HookToolError {
    juju_runtime::hook_tools::classify_failure(
        tool,
        Some(exit_code),
        format!("ERROR {message}\n").as_bytes(),
    )
}

fn relation_not_found(tool: &'static str, relation: &RelationId) -> HookToolError {
    juju_error(
        tool,
        2,
        &format!("invalid value \"{relation}\" for option -r: relation not found"),
    )
}

/// What the running action has produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionRecord {
    /// `action-set` results (dotted keys as given).
    pub results: BTreeMap<String, String>,
    /// `action-log` messages.
    pub logs: Vec<String>,
    /// The `action-fail` message, if it was called.
    pub failure: Option<String>,
}

/// Everything a run changes or records, behind the tools' lock.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) state: State,
    pub(crate) calls: Vec<HookToolCall>,
    pub(crate) juju_log: Vec<(LogLevel, String)>,
    pub(crate) unit_status_history: Vec<Status>,
    pub(crate) app_status_history: Vec<Status>,
    pub(crate) workload_version_history: Vec<String>,
    pub(crate) action: ActionRecord,
    next_secret: u64,
}

/// What the tools know about the dispatch, fixed for the run.
#[derive(Debug)]
pub(crate) struct RunFacts {
    pub(crate) spec: Arc<CharmSpec>,
    pub(crate) identity: UnitIdentity,
    pub(crate) event: ScenarioEvent,
    /// The state as the hook started (for `opened-ports`).
    pub(crate) before: State,
}

/// The hook tools of one in-memory run. Cheap to clone; clones share the run.
#[derive(Debug, Clone)]
pub struct ScenarioHookTools {
    facts: Arc<RunFacts>,
    session: Arc<Mutex<Session>>,
}

impl ScenarioHookTools {
    pub(crate) fn new(facts: Arc<RunFacts>, state: State) -> Self {
        Self {
            facts,
            session: Arc::new(Mutex::new(Session {
                state,
                calls: Vec::new(),
                juju_log: Vec::new(),
                unit_status_history: Vec::new(),
                app_status_history: Vec::new(),
                workload_version_history: Vec::new(),
                action: ActionRecord::default(),
                next_secret: 0,
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Session> {
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `call` and returns the locked session.
    fn call(&self, call: HookToolCall) -> MutexGuard<'_, Session> {
        let mut session = self.lock();
        session.calls.push(call);
        session
    }

    fn own_unit(&self) -> String {
        self.facts.identity.unit_name()
    }

    fn own_app(&self) -> &str {
        &self.facts.identity.app
    }

    /// The relation being broken in this hook, if any.
    fn broken_relation(&self) -> Option<u64> {
        match &self.facts.event {
            ScenarioEvent::Relation {
                kind: RelationEventKind::Broken,
                id,
                ..
            } => Some(*id),
            _ => None,
        }
    }

    /// The remote unit leaving `relation` in this hook, if any.
    fn departing_unit(&self, relation: u64) -> Option<u32> {
        match &self.facts.event {
            ScenarioEvent::Relation {
                kind: RelationEventKind::Departed,
                id,
                departing_unit,
                ..
            } if *id == relation => *departing_unit,
            _ => None,
        }
    }

    fn remote_app_of<'a>(&'a self, relation: &'a Relation) -> &'a str {
        match relation.kind {
            RelationKind::Peer => self.own_app(),
            RelationKind::Regular => &relation.remote_app,
        }
    }

    fn action_params(&self) -> Option<&BTreeMap<String, serde_json::Value>> {
        match &self.facts.event {
            ScenarioEvent::Action { params, .. } => Some(params),
            _ => None,
        }
    }
}

fn find_relation<'a>(
    state: &'a State,
    tool: &'static str,
    relation: &RelationId,
) -> HookToolResult<&'a Relation> {
    state
        .relation(relation.id)
        .filter(|r| r.endpoint == relation.endpoint)
        .ok_or_else(|| relation_not_found(tool, relation))
}

fn find_relation_mut<'a>(
    state: &'a mut State,
    tool: &'static str,
    relation: &RelationId,
) -> HookToolResult<&'a mut Relation> {
    match state.relation_mut(relation.id) {
        Some(r) if r.endpoint == relation.endpoint => Ok(r),
        _ => Err(relation_not_found(tool, relation)),
    }
}

fn find_secret_index(
    state: &State,
    tool: &'static str,
    secret: &SecretRef,
) -> HookToolResult<usize> {
    match secret {
        SecretRef::Uri(uri) => state
            .secrets
            .iter()
            .position(|s| s.uri.xid() == uri.xid())
            .ok_or_else(|| juju_error(tool, 1, &format!("secret \"{uri}\" not found"))),
        SecretRef::Label(label) => state
            .secrets
            .iter()
            .position(|s| s.label.as_deref() == Some(label.as_str()))
            .ok_or_else(|| {
                juju_error(tool, 1, &format!("secret with label \"{label}\" not found"))
            }),
    }
}

fn status_name(status: Option<&Status>) -> StatusName {
    match status {
        None => StatusName::Unknown,
        Some(Status::Active | Status::ActiveWithMessage(_)) => StatusName::Active,
        Some(Status::Blocked(_)) => StatusName::Blocked,
        Some(Status::Waiting(_)) => StatusName::Waiting,
        Some(Status::Maintenance(_)) => StatusName::Maintenance,
    }
}

/// Whether `key` is a valid `action-set` key part.
fn is_valid_action_key_part(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

impl ScenarioHookTools {
    /// Checks that this unit may manage (set, remove, grant, inspect) `secret`.
    fn may_manage(&self, state: &State, tool: &'static str, secret: &Secret) -> HookToolResult<()> {
        match secret.owner {
            Some(SecretOwner::Application) if !state.leader => {
                Err(juju_error(tool, 1, "this unit is not the leader"))
            }
            Some(_) => Ok(()),
            None => Err(juju_error(tool, 1, "permission denied")),
        }
    }

    fn next_uri(&self, session: &mut Session) -> HookToolResult<SecretUri> {
        session.next_secret += 1;
        // Juju's xids are 20 characters of [0-9a-v]; unique within the state.
        let taken = |xid: &str| session.state.secrets.iter().any(|s| s.uri.xid() == xid);
        let mut n = session.next_secret;
        let mut xid = format!("cs{n:018}");
        while taken(&xid) {
            n += 1;
            xid = format!("cs{n:018}");
        }
        session.next_secret = n;
        format!("secret://{}/{xid}", self.facts.identity.model_uuid)
            .parse()
            .map_err(|e: juju_runtime::names::InvalidName| {
                juju_error("secret-add", 1, &e.to_string())
            })
    }
}

impl HookTools for ScenarioHookTools {
    fn config_get(&self) -> HookToolResult<ConfigValues> {
        let session = self.call(HookToolCall::ConfigGet);
        Ok(self.facts.spec.effective_config(&session.state.config))
    }

    fn relation_ids(&self, endpoint: &str) -> HookToolResult<Vec<RelationId>> {
        let session = self.call(HookToolCall::RelationIds {
            endpoint: endpoint.to_owned(),
        });
        let broken = self.broken_relation();
        let mut ids: Vec<RelationId> = session
            .state
            .relations_on(endpoint)
            .filter(|r| Some(r.id) != broken)
            .map(Relation::relation_id)
            .collect();
        // Juju sorts the `endpoint:id` strings (`db:10` before `db:2`).
        ids.sort_by_key(ToString::to_string);
        Ok(ids)
    }

    fn relation_list(&self, relation: &RelationId) -> HookToolResult<Vec<String>> {
        const TOOL: &str = "relation-list";
        let session = self.call(HookToolCall::RelationList {
            relation: relation.clone(),
        });
        let found = find_relation(&session.state, TOOL, relation)?;
        if self.broken_relation() == Some(found.id) {
            return Ok(Vec::new());
        }
        let departing = self.departing_unit(found.id);
        let app = self.remote_app_of(found);
        let mut units: Vec<String> = found
            .remote_units_data
            .keys()
            .filter(|n| Some(**n) != departing)
            .map(|n| format!("{app}/{n}"))
            .collect();
        units.sort();
        Ok(units)
    }

    fn relation_remote_app(&self, relation: &RelationId) -> HookToolResult<Option<String>> {
        let session = self.call(HookToolCall::RelationRemoteApp {
            relation: relation.clone(),
        });
        let found = find_relation(&session.state, "relation-list", relation)?;
        let app = self.remote_app_of(found);
        Ok((!app.is_empty()).then(|| app.to_owned()))
    }

    fn relation_get(&self, relation: &RelationId, bag: &Bag) -> HookToolResult<Databag> {
        const TOOL: &str = "relation-get";
        let session = self.call(HookToolCall::RelationGet {
            relation: relation.clone(),
            bag: bag.clone(),
        });
        let found = find_relation(&session.state, TOOL, relation)?;
        let remote_app = self.remote_app_of(found);
        match bag {
            Bag::Unit(name) => {
                if name == &self.own_unit() {
                    return Ok(found.local_unit_data.clone());
                }
                if !name.contains('/') {
                    return Err(juju_error(
                        TOOL,
                        2,
                        &format!("expected unit name, got application name \"{name}\""),
                    ));
                }
                let unit: UnitName = name
                    .parse()
                    .map_err(|_| juju_error(TOOL, 2, &format!("invalid unit name \"{name}\"")))?;
                if unit.app() == remote_app {
                    if let Some(data) = found.remote_units_data.get(&unit.number()) {
                        return Ok(data.clone());
                    }
                }
                Err(juju_error(TOOL, 1, &format!("unknown unit {name}")))
            }
            Bag::App(name) => {
                let app = name.split('/').next().unwrap_or(name);
                if app == self.own_app() {
                    if session.state.leader || found.kind == RelationKind::Peer {
                        Ok(found.local_app_data.clone())
                    } else {
                        Err(juju_error(TOOL, 1, "permission denied"))
                    }
                } else if app == remote_app {
                    Ok(found.remote_app_data.clone())
                } else {
                    Err(juju_error(TOOL, 1, "permission denied"))
                }
            }
        }
    }

    fn relation_set(
        &self,
        relation: &RelationId,
        scope: Scope,
        data: &Databag,
    ) -> HookToolResult<()> {
        const TOOL: &str = "relation-set";
        if data.is_empty() {
            // The process implementation runs nothing for empty data.
            return Ok(());
        }
        let mut session = self.call(HookToolCall::RelationSet {
            relation: relation.clone(),
            scope,
            data: data.clone(),
        });
        let leader = session.state.leader;
        let found = find_relation_mut(&mut session.state, TOOL, relation)?;
        let bag = match scope {
            Scope::App if !leader => {
                return Err(juju_error(TOOL, 1, "cannot write relation settings"));
            }
            Scope::App => &mut found.local_app_data,
            Scope::Unit => &mut found.local_unit_data,
        };
        for (key, value) in data {
            if value.is_empty() {
                bag.remove(key);
            } else {
                bag.insert(key.clone(), value.clone());
            }
        }
        Ok(())
    }

    fn is_leader(&self) -> HookToolResult<bool> {
        Ok(self.call(HookToolCall::IsLeader).state.leader)
    }

    fn status_set(&self, scope: Scope, status: &Status) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::StatusSet {
            scope,
            status: status.clone(),
        });
        match scope {
            Scope::App if !session.state.leader => {
                Err(juju_error("status-set", 1, "this unit is not the leader"))
            }
            Scope::App => {
                session.state.app_status = Some(status.clone());
                session.app_status_history.push(status.clone());
                Ok(())
            }
            Scope::Unit => {
                session.state.unit_status = Some(status.clone());
                session.unit_status_history.push(status.clone());
                Ok(())
            }
        }
    }

    fn status_get(&self, scope: Scope) -> HookToolResult<StatusReport> {
        let session = self.call(HookToolCall::StatusGet { scope });
        let status = match scope {
            Scope::App if !session.state.leader => {
                return Err(juju_error(
                    "status-get",
                    1,
                    "finding application status: this unit is not the leader",
                ));
            }
            Scope::App => session.state.app_status.as_ref(),
            Scope::Unit => session.state.unit_status.as_ref(),
        };
        Ok(StatusReport {
            status: status_name(status),
            message: status.map(|s| s.message().to_owned()).unwrap_or_default(),
        })
    }

    fn application_version_set(&self, version: &str) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::ApplicationVersionSet {
            version: version.to_owned(),
        });
        session.state.workload_version = Some(version.to_owned());
        session.workload_version_history.push(version.to_owned());
        Ok(())
    }

    fn open_port(&self, port: Port) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::OpenPort { port });
        if matches!(port, Port::Range { .. }) {
            return Err(juju_error(
                "open-port",
                1,
                "port ranges are not supported for k8s applications, please specify a single port",
            ));
        }
        session.state.opened_ports.insert(port);
        Ok(())
    }

    fn close_port(&self, port: Port) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::ClosePort { port });
        session.state.opened_ports.remove(&port);
        Ok(())
    }

    fn opened_ports(&self) -> HookToolResult<Vec<Port>> {
        drop(self.call(HookToolCall::OpenedPorts));
        // Pending open-port/close-port calls are not shown (§1.4).
        Ok(self.facts.before.opened_ports.iter().copied().collect())
    }

    fn juju_log(&self, level: LogLevel, message: &str) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::JujuLog {
            level,
            message: message.to_owned(),
        });
        session.juju_log.push((level, message.to_owned()));
        Ok(())
    }

    fn action_get(&self) -> HookToolResult<ActionParams> {
        drop(self.call(HookToolCall::ActionGet));
        let (ScenarioEvent::Action { name, .. }, Some(params)) =
            (&self.facts.event, self.action_params())
        else {
            return Err(juju_error("action-get", 1, "not running an action"));
        };
        Ok(ActionParams::new(
            self.facts.spec.effective_action_params(name, params),
        ))
    }

    fn action_set(&self, results: &BTreeMap<String, String>) -> HookToolResult<()> {
        const TOOL: &str = "action-set";
        if results.is_empty() {
            return Ok(());
        }
        let mut session = self.call(HookToolCall::ActionSet {
            results: results.clone(),
        });
        if self.action_params().is_none() {
            return Err(juju_error(TOOL, 1, "not running an action"));
        }
        for key in results.keys() {
            if !key.split('.').all(is_valid_action_key_part) {
                return Err(juju_error(
                    TOOL,
                    2,
                    &format!(
                        "key \"{key}\" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods"
                    ),
                ));
            }
            if ["stdout", "stdout-encoding", "stderr", "stderr-encoding"].contains(&key.as_str()) {
                return Err(juju_error(
                    TOOL,
                    2,
                    &format!("cannot set reserved action key \"{key}\""),
                ));
            }
        }
        session
            .action
            .results
            .extend(results.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    fn action_fail(&self, message: &str) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::ActionFail {
            message: message.to_owned(),
        });
        if self.action_params().is_none() {
            return Err(juju_error("action-fail", 1, "not running an action"));
        }
        session.action.failure = Some(if message.is_empty() {
            DEFAULT_ACTION_FAIL.to_owned()
        } else {
            message.to_owned()
        });
        Ok(())
    }

    fn action_log(&self, message: &str) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::ActionLog {
            message: message.to_owned(),
        });
        if self.action_params().is_none() {
            return Err(juju_error("action-log", 1, "not running an action"));
        }
        session.action.logs.push(message.to_owned());
        Ok(())
    }

    fn state_get(&self, key: &str) -> HookToolResult<Option<String>> {
        let session = self.call(HookToolCall::StateGet {
            key: key.to_owned(),
        });
        Ok(session.state.charm_state.get(key).cloned())
    }

    fn state_get_all(&self) -> HookToolResult<BTreeMap<String, String>> {
        Ok(self
            .call(HookToolCall::StateGetAll)
            .state
            .charm_state
            .clone())
    }

    fn state_set(&self, values: &BTreeMap<String, String>) -> HookToolResult<()> {
        const TOOL: &str = "state-set";
        if values.is_empty() {
            return Ok(());
        }
        let mut session = self.call(HookToolCall::StateSet {
            values: values.clone(),
        });
        for (key, value) in values {
            if key.len() > MAX_STATE_KEY_LEN {
                return Err(juju_error(TOOL, 1, "max allowed key length (256) exceeded"));
            }
            if value.len() > MAX_STATE_VALUE_LEN {
                return Err(juju_error(
                    TOOL,
                    1,
                    "max allowed value length (65536) exceeded",
                ));
            }
        }
        session
            .state
            .charm_state
            .extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    fn state_delete(&self, key: &str) -> HookToolResult<()> {
        let mut session = self.call(HookToolCall::StateDelete {
            key: key.to_owned(),
        });
        session.state.charm_state.remove(key);
        Ok(())
    }

    fn secret_add(
        &self,
        content: &SecretContent,
        options: &SecretAddOptions,
    ) -> HookToolResult<SecretUri> {
        const TOOL: &str = "secret-add";
        let mut session = self.call(HookToolCall::SecretAdd {
            keys: content.keys().map(str::to_owned).collect(),
            label: options.label.clone(),
            owner: options.owner,
        });
        if content.is_empty() {
            return Err(juju_error(TOOL, 2, "missing secret value or filename"));
        }
        if options.owner == SecretOwner::Application && !session.state.leader {
            return Err(juju_error(TOOL, 1, "this unit is not the leader"));
        }
        if let Some(label) = &options.label {
            if session.state.secret_by_label(label).is_some() {
                return Err(juju_error(
                    TOOL,
                    1,
                    &format!("secret with label \"{label}\" already exists"),
                ));
            }
        }
        let uri = self.next_uri(&mut session)?;
        let mut secret = Secret::new(uri.clone(), Some(options.owner), content.clone());
        secret.label.clone_from(&options.label);
        secret.description.clone_from(&options.description);
        secret.expire.clone_from(&options.expire);
        secret.rotate = options.rotate.map(|r| r.as_str().to_owned());
        session.state.secrets.push(secret);
        Ok(uri)
    }

    fn secret_get(
        &self,
        secret: &SecretRef,
        options: SecretGetOptions,
    ) -> HookToolResult<SecretContent> {
        const TOOL: &str = "secret-get";
        let mut session = self.call(HookToolCall::SecretGet {
            secret: secret.clone(),
            peek: options.peek,
            refresh: options.refresh,
        });
        if options.peek && options.refresh {
            return Err(juju_error(
                TOOL,
                2,
                "specify one of --peek or --refresh but not both",
            ));
        }
        let index = find_secret_index(&session.state, TOOL, secret)?;
        let found = &mut session.state.secrets[index];
        // Owners always see the latest revision; consumers their tracked one unless they
        // peek or refresh.
        let revision = if found.owner.is_some() || options.peek || options.refresh {
            found.latest_revision()
        } else {
            found.tracked_revision
        };
        if options.refresh {
            found.tracked_revision = revision;
        }
        found.revisions.get(&revision).cloned().ok_or_else(|| {
            juju_error(
                TOOL,
                1,
                &format!("secret \"{}\" revision {revision} not found", found.uri),
            )
        })
    }

    fn secret_set(
        &self,
        uri: &SecretUri,
        content: &SecretContent,
        options: &SecretSetOptions,
    ) -> HookToolResult<()> {
        const TOOL: &str = "secret-set";
        let mut session = self.call(HookToolCall::SecretSet {
            uri: uri.clone(),
            keys: content.keys().map(str::to_owned).collect(),
        });
        let index = find_secret_index(&session.state, TOOL, &SecretRef::Uri(uri.clone()))?;
        self.may_manage(&session.state, TOOL, &session.state.secrets[index])?;
        let found = &mut session.state.secrets[index];
        if !content.is_empty() && *content != found.latest_content() {
            let next = found.latest_revision() + 1;
            found.revisions.insert(next, content.clone());
        }
        if options.label.is_some() {
            found.label.clone_from(&options.label);
        }
        if options.description.is_some() {
            found.description.clone_from(&options.description);
        }
        if options.expire.is_some() {
            found.expire.clone_from(&options.expire);
        }
        if let Some(rotate) = options.rotate {
            found.rotate = Some(rotate.as_str().to_owned());
        }
        Ok(())
    }

    fn secret_info_get(&self, secret: &SecretRef) -> HookToolResult<SecretInfo> {
        const TOOL: &str = "secret-info-get";
        let session = self.call(HookToolCall::SecretInfoGet {
            secret: secret.clone(),
        });
        let index = find_secret_index(&session.state, TOOL, secret)?;
        let found = &session.state.secrets[index];
        match found.owner {
            None => {
                return Err(juju_error(
                    TOOL,
                    1,
                    &format!("secret \"{}\" not found", found.uri),
                ));
            }
            Some(SecretOwner::Application) if !session.state.leader => {
                return Err(juju_error(TOOL, 1, "permission denied"));
            }
            Some(_) => {}
        }
        Ok(SecretInfo {
            id: found.uri.xid().to_owned(),
            revision: found.latest_revision(),
            label: found.label.clone(),
            owner: found.owner.map(|o| o.as_str().to_owned()),
            description: found.description.clone(),
            rotation: found.rotate.clone(),
            expiry: found.expire.clone(),
            rotates: None,
        })
    }

    fn secret_grant(
        &self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> HookToolResult<()> {
        self.change_grant("secret-grant", uri, relation, unit, true)
    }

    fn secret_revoke(
        &self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> HookToolResult<()> {
        self.change_grant("secret-revoke", uri, relation, unit, false)
    }

    fn secret_remove(&self, uri: &SecretUri, revision: Option<u64>) -> HookToolResult<()> {
        const TOOL: &str = "secret-remove";
        let mut session = self.call(HookToolCall::SecretRemove {
            uri: uri.clone(),
            revision,
        });
        let index = find_secret_index(&session.state, TOOL, &SecretRef::Uri(uri.clone()))?;
        self.may_manage(&session.state, TOOL, &session.state.secrets[index])?;
        match revision {
            None => {
                session.state.secrets.remove(index);
            }
            Some(revision) => {
                if session.state.secrets[index]
                    .revisions
                    .remove(&revision)
                    .is_none()
                {
                    return Err(juju_error(
                        TOOL,
                        1,
                        &format!("secret \"{uri}\" revision {revision} not found"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn secret_ids(&self) -> HookToolResult<Vec<String>> {
        let session = self.call(HookToolCall::SecretIds);
        let leader = session.state.leader;
        Ok(session
            .state
            .secrets
            .iter()
            .filter(|s| match s.owner {
                Some(SecretOwner::Unit) => true,
                Some(SecretOwner::Application) => leader,
                None => false,
            })
            .map(|s| s.uri.xid().to_owned())
            .collect())
    }

    fn network_get(
        &self,
        binding: &str,
        relation: Option<&RelationId>,
    ) -> HookToolResult<NetworkInfo> {
        const TOOL: &str = "network-get";
        let session = self.call(HookToolCall::NetworkGet {
            binding: binding.to_owned(),
            relation: relation.cloned(),
        });
        if let Some(relation) = relation {
            find_relation(&session.state, TOOL, relation)?;
        }
        let spec = &self.facts.spec;
        if !spec.endpoints.contains_key(binding)
            && !spec.extra_bindings.iter().any(|b| b == binding)
        {
            return Err(juju_error(
                TOOL,
                1,
                &format!("no network config found for binding \"{binding}\""),
            ));
        }
        Ok(NetworkInfo {
            bind_addresses: vec![BindAddress {
                mac_address: String::new(),
                interface_name: "eth0".to_owned(),
                addresses: vec![InterfaceAddress {
                    hostname: String::new(),
                    value: "192.0.2.0".to_owned(),
                    cidr: "192.0.2.0/24".to_owned(),
                }],
            }],
            egress_subnets: vec!["192.0.2.0/32".to_owned()],
            ingress_addresses: vec!["192.0.2.0".to_owned()],
        })
    }

    fn goal_state(&self) -> HookToolResult<GoalState> {
        let session = self.call(HookToolCall::GoalState);
        let active = || GoalStatus {
            status: "active".to_owned(),
            since: "2026-01-01 00:00:00Z".to_owned(),
        };
        let joined = || GoalStatus {
            status: "joined".to_owned(),
            since: "2026-01-01 00:00:00Z".to_owned(),
        };
        let mut units = BTreeMap::from([(self.own_unit(), active())]);
        for relation in session
            .state
            .relations
            .iter()
            .filter(|r| r.kind == RelationKind::Peer)
        {
            for n in relation.remote_units_data.keys() {
                units.insert(format!("{}/{n}", self.own_app()), active());
            }
        }
        if let Some(planned) = session.state.planned_units {
            let app = self.own_app().to_owned();
            let mut n = 0;
            while units.len() < planned as usize {
                units.entry(format!("{app}/{n}")).or_insert_with(active);
                n += 1;
            }
        }
        let mut relations: BTreeMap<String, BTreeMap<String, GoalStatus>> = BTreeMap::new();
        for relation in session
            .state
            .relations
            .iter()
            .filter(|r| r.kind == RelationKind::Regular)
        {
            let entry = relations.entry(relation.endpoint.clone()).or_default();
            entry.insert(relation.remote_app.clone(), joined());
            for n in relation.remote_units_data.keys() {
                entry.insert(format!("{}/{n}", relation.remote_app), joined());
            }
        }
        Ok(GoalState { units, relations })
    }
}

impl ScenarioHookTools {
    fn change_grant(
        &self,
        tool: &'static str,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&str>,
        grant: bool,
    ) -> HookToolResult<()> {
        let call = if grant {
            HookToolCall::SecretGrant {
                uri: uri.clone(),
                relation: relation.clone(),
                unit: unit.map(str::to_owned),
            }
        } else {
            HookToolCall::SecretRevoke {
                uri: uri.clone(),
                relation: relation.clone(),
                unit: unit.map(str::to_owned),
            }
        };
        let mut session = self.call(call);
        let found = find_relation(&session.state, tool, relation)?;
        let remote_app = self.remote_app_of(found).to_owned();
        if let Some(unit) = unit {
            if unit.split('/').next() != Some(remote_app.as_str()) {
                return Err(juju_error(
                    tool,
                    1,
                    &format!(
                        "cannot specify unit \"{unit}\" in relation to application \"{remote_app}\""
                    ),
                ));
            }
        }
        let index = find_secret_index(&session.state, tool, &SecretRef::Uri(uri.clone()))?;
        self.may_manage(&session.state, tool, &session.state.secrets[index])?;
        let entry = SecretGrant {
            relation: relation.clone(),
            unit: unit.map(str::to_owned),
        };
        let grants = &mut session.state.secrets[index].grants;
        if grant {
            grants.insert(entry);
        } else {
            grants.remove(&entry);
        }
        Ok(())
    }
}
