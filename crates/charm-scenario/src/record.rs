//! What a dispatch did, recorded in order: every hook-tool call (typed, with the tool
//! name the process implementation would run) and every Pebble call per container, plus
//! the service starts and stops Pebble performed because of them.

use std::collections::BTreeMap;

use juju_runtime::{Bag, Databag, LogLevel, Port, RelationId, Scope, SecretRef, SecretUri, Status};
use pebble_client::{ExecRequest, Layer};

/// One hook-tool call. Values that the real tools receive on stdin or in files (relation
/// data, state values, secret content) are kept, except secret content, of which only the
/// keys are kept.
#[derive(Debug, Clone, PartialEq)]
pub enum HookToolCall {
    /// `config-get --format=json`.
    ConfigGet,
    /// `relation-ids --format=json <endpoint>`.
    RelationIds {
        /// The endpoint.
        endpoint: String,
    },
    /// `relation-list --format=json -r <id>`.
    RelationList {
        /// The relation.
        relation: RelationId,
    },
    /// `relation-list --format=json -r <id> --app`.
    RelationRemoteApp {
        /// The relation.
        relation: RelationId,
    },
    /// `relation-get --format=json -r <id> [--app] - <name>`.
    RelationGet {
        /// The relation.
        relation: RelationId,
        /// The bag.
        bag: Bag,
    },
    /// `relation-set -r <id> [--app] --file -`.
    RelationSet {
        /// The relation.
        relation: RelationId,
        /// Unit or app bag.
        scope: Scope,
        /// The data sent (empty values delete).
        data: Databag,
    },
    /// `is-leader --format=json`.
    IsLeader,
    /// `status-set`.
    StatusSet {
        /// Unit or application.
        scope: Scope,
        /// The status.
        status: Status,
    },
    /// `status-get`.
    StatusGet {
        /// Unit or application.
        scope: Scope,
    },
    /// `application-version-set`.
    ApplicationVersionSet {
        /// The version.
        version: String,
    },
    /// `open-port`.
    OpenPort {
        /// The port.
        port: Port,
    },
    /// `close-port`.
    ClosePort {
        /// The port.
        port: Port,
    },
    /// `opened-ports --format=json`.
    OpenedPorts,
    /// `juju-log`.
    JujuLog {
        /// The level.
        level: LogLevel,
        /// The message.
        message: String,
    },
    /// `action-get --format=json`.
    ActionGet,
    /// `action-set`.
    ActionSet {
        /// The results.
        results: BTreeMap<String, String>,
    },
    /// `action-fail`.
    ActionFail {
        /// The message.
        message: String,
    },
    /// `action-log`.
    ActionLog {
        /// The message.
        message: String,
    },
    /// `state-get --format=json --strict <key>`.
    StateGet {
        /// The key.
        key: String,
    },
    /// `state-get --format=json`.
    StateGetAll,
    /// `state-set --file -`.
    StateSet {
        /// The values.
        values: BTreeMap<String, String>,
    },
    /// `state-delete <key>`.
    StateDelete {
        /// The key.
        key: String,
    },
    /// `secret-add`.
    SecretAdd {
        /// The content's keys (values are secret).
        keys: Vec<String>,
        /// `--label`.
        label: Option<String>,
        /// `--owner`.
        owner: juju_runtime::SecretOwner,
    },
    /// `secret-get`.
    SecretGet {
        /// By URI or label.
        secret: SecretRef,
        /// `--peek`.
        peek: bool,
        /// `--refresh`.
        refresh: bool,
    },
    /// `secret-set`.
    SecretSet {
        /// The secret.
        uri: SecretUri,
        /// The new content's keys (empty: metadata only).
        keys: Vec<String>,
    },
    /// `secret-info-get`.
    SecretInfoGet {
        /// By URI or label.
        secret: SecretRef,
    },
    /// `secret-grant`.
    SecretGrant {
        /// The secret.
        uri: SecretUri,
        /// The relation.
        relation: RelationId,
        /// The unit, if one.
        unit: Option<String>,
    },
    /// `secret-revoke`.
    SecretRevoke {
        /// The secret.
        uri: SecretUri,
        /// The relation.
        relation: RelationId,
        /// The unit, if one.
        unit: Option<String>,
    },
    /// `secret-remove`.
    SecretRemove {
        /// The secret.
        uri: SecretUri,
        /// One revision, or all.
        revision: Option<u64>,
    },
    /// `secret-ids --format=json`.
    SecretIds,
    /// `network-get --format=json [-r <id>] <binding>`.
    NetworkGet {
        /// The binding.
        binding: String,
        /// The relation, if given.
        relation: Option<RelationId>,
    },
    /// `goal-state --format=json`.
    GoalState,
}

impl HookToolCall {
    /// The hook tool the process implementation runs for this call.
    pub fn tool(&self) -> &'static str {
        match self {
            Self::ConfigGet => "config-get",
            Self::RelationIds { .. } => "relation-ids",
            Self::RelationList { .. } | Self::RelationRemoteApp { .. } => "relation-list",
            Self::RelationGet { .. } => "relation-get",
            Self::RelationSet { .. } => "relation-set",
            Self::IsLeader => "is-leader",
            Self::StatusSet { .. } => "status-set",
            Self::StatusGet { .. } => "status-get",
            Self::ApplicationVersionSet { .. } => "application-version-set",
            Self::OpenPort { .. } => "open-port",
            Self::ClosePort { .. } => "close-port",
            Self::OpenedPorts => "opened-ports",
            Self::JujuLog { .. } => "juju-log",
            Self::ActionGet => "action-get",
            Self::ActionSet { .. } => "action-set",
            Self::ActionFail { .. } => "action-fail",
            Self::ActionLog { .. } => "action-log",
            Self::StateGet { .. } | Self::StateGetAll => "state-get",
            Self::StateSet { .. } => "state-set",
            Self::StateDelete { .. } => "state-delete",
            Self::SecretAdd { .. } => "secret-add",
            Self::SecretGet { .. } => "secret-get",
            Self::SecretSet { .. } => "secret-set",
            Self::SecretInfoGet { .. } => "secret-info-get",
            Self::SecretGrant { .. } => "secret-grant",
            Self::SecretRevoke { .. } => "secret-revoke",
            Self::SecretRemove { .. } => "secret-remove",
            Self::SecretIds => "secret-ids",
            Self::NetworkGet { .. } => "network-get",
            Self::GoalState => "goal-state",
        }
    }
}

/// One Pebble call on a container.
#[derive(Debug, Clone, PartialEq)]
pub enum PebbleCall {
    /// `GET /v1/system-info`.
    SystemInfo,
    /// `GET /v1/plan`.
    Plan,
    /// `POST /v1/layers`.
    AddLayer {
        /// The label.
        label: String,
        /// The layer.
        layer: Layer,
        /// `combine`.
        combine: bool,
    },
    /// `POST /v1/services` replan.
    Replan,
    /// `POST /v1/services` start.
    Start {
        /// The services.
        services: Vec<String>,
    },
    /// `POST /v1/services` stop.
    Stop {
        /// The services.
        services: Vec<String>,
    },
    /// `POST /v1/services` restart.
    Restart {
        /// The services.
        services: Vec<String>,
    },
    /// `GET /v1/services`.
    Services,
    /// `GET /v1/checks`.
    Checks,
    /// `POST /v1/files` write.
    Push {
        /// The path.
        path: String,
        /// The content.
        content: Vec<u8>,
        /// The mode (Pebble's default 0o644 when unset).
        permissions: Option<u32>,
    },
    /// `GET /v1/files?action=read`.
    Pull {
        /// The path.
        path: String,
    },
    /// `GET /v1/files?action=list`.
    ListFiles {
        /// The path.
        path: String,
    },
    /// `POST /v1/files` make-dirs.
    MakeDir {
        /// The path.
        path: String,
    },
    /// `POST /v1/files` remove.
    RemovePath {
        /// The path.
        path: String,
    },
    /// `POST /v1/exec`.
    Exec {
        /// The request, including its environment and stdin.
        request: ExecRequest,
    },
    /// `GET /v1/notices`.
    Notices,
    /// `GET /v1/notices/{id}`.
    Notice {
        /// The id.
        id: String,
    },
    /// `POST /v1/signals`.
    SendSignal {
        /// The signal.
        signal: String,
        /// The services.
        services: Vec<String>,
    },
}

impl PebbleCall {
    /// Whether the call changes the container (push, layers, service actions, exec,
    /// make-dir, remove, signals). Reads are not writes.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Self::AddLayer { .. }
                | Self::Replan
                | Self::Start { .. }
                | Self::Stop { .. }
                | Self::Restart { .. }
                | Self::Push { .. }
                | Self::MakeDir { .. }
                | Self::RemovePath { .. }
                | Self::Exec { .. }
                | Self::SendSignal { .. }
        )
    }
}

/// A Pebble call with the container it went to and whether it succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedPebbleCall {
    /// The container.
    pub container: String,
    /// The call.
    pub call: PebbleCall,
    /// `false` if it returned an error (including `CannotConnect`).
    pub succeeded: bool,
}

/// What happened to a service as a result of a Pebble call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceTransitionKind {
    /// An inactive service was started.
    Started,
    /// An active service was stopped.
    Stopped,
    /// An active service was stopped and started again (restart, or replan of a changed
    /// definition).
    Restarted,
}

/// A service start, stop or restart Pebble performed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTransition {
    /// The container.
    pub container: String,
    /// The service.
    pub service: String,
    /// What happened.
    pub kind: ServiceTransitionKind,
}
