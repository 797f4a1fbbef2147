//! The hook tools (Juju's `jujuc` commands) as a synchronous, object-safe trait,
//! [`HookTools`], with typed arguments and results.
//!
//! Production code uses [`ProcessHookTools`], which runs the tools exactly as
//! `docs/juju-contract.md` §2 specifies; tests may use an in-memory implementation.
//!
//! Secrets rule for every implementation: relation data, action parameters and secret
//! content may hold credentials. They go to the tools through stdin or 0600 files,
//! never argv; they are never logged, and the types that carry them redact `Debug`
//! ([`SecretContent`], [`ActionParams`]). Relation databags are plain maps: callers
//! must not log their values.

mod failure;
mod network;
mod ports;
mod process;
mod secrets;
mod status;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

pub use failure::classify_failure;
pub use network::{BindAddress, GoalState, GoalStatus, InterfaceAddress, NetworkInfo};
pub use ports::{Port, Protocol};
pub use process::ProcessHookTools;
pub use secrets::{
    InvalidSecretKey, RotatePolicy, SecretAddOptions, SecretContent, SecretGetOptions, SecretInfo,
    SecretOwner, SecretRef, SecretSetOptions, is_valid_secret_key,
};
pub use status::{Status, StatusName, StatusReport};

use crate::error::HookToolError;
use crate::names::{RelationId, SecretUri};

/// The result of a hook tool call.
pub type HookToolResult<T> = Result<T, HookToolError>;

/// The charm's configuration as `config-get --format=json` prints it: option name to
/// value (string, number, boolean; `secret` options hold a secret URI string). Options
/// that are unset and have no default are absent.
pub type ConfigValues = BTreeMap<String, serde_json::Value>;

/// A relation databag: all keys and values are strings.
pub type Databag = BTreeMap<String, String>;

/// Whose status, or which databag, a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// This unit.
    Unit,
    /// This application (needs leadership to write).
    App,
}

/// Which databag of a relation to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Bag {
    /// A unit's bag (this unit's or a remote unit's), by unit name, e.g. `postgresql/0`.
    Unit(String),
    /// An application's bag (this app's or the remote app's), by application name.
    App(String),
}

/// A `juju-log` level (loggo's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `TRACE`.
    Trace,
    /// `DEBUG`.
    Debug,
    /// `INFO`.
    Info,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
    /// `CRITICAL`.
    Critical,
}

impl LogLevel {
    /// The `--log-level` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "TRACE",
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Warning => "WARNING",
            Self::Error => "ERROR",
            Self::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action's parameters (`action-get --format=json`), validated and defaulted by
/// Juju. They may hold secrets (e.g. a password), so `Debug` shows keys only. Read them
/// as a map through `Deref`.
#[derive(Clone, PartialEq, Default)]
pub struct ActionParams(BTreeMap<String, serde_json::Value>);

impl ActionParams {
    /// Parameters from a map (for tests and in-memory implementations).
    pub fn new(params: BTreeMap<String, serde_json::Value>) -> Self {
        Self(params)
    }

    /// A string parameter, `None` if absent or not a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(serde_json::Value::as_str)
    }

    /// A boolean parameter, `None` if absent or not a boolean.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.0.get(key).and_then(serde_json::Value::as_bool)
    }

    /// The map itself.
    pub fn into_map(self) -> BTreeMap<String, serde_json::Value> {
        self.0
    }
}

impl Deref for ActionParams {
    type Target = BTreeMap<String, serde_json::Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl fmt::Debug for ActionParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

/// What a charm needs from Juju's hook tools. Synchronous (each call is a short
/// process) and object-safe: use it as `&dyn HookTools` or generically.
///
/// Writes to relation data, state, ports and secrets are buffered by Juju and committed
/// only if the dispatch exits 0; status, application version, logs and action logs take
/// effect at once. Reads see this hook's own pending writes (except `opened_ports`).
pub trait HookTools {
    /// All configuration values: `config-get --format=json` (one call per hook).
    fn config_get(&self) -> HookToolResult<ConfigValues>;

    /// The live relations on an endpoint, in Juju's order (lexicographic on the
    /// `endpoint:id` text): `relation-ids --format=json <endpoint>`. A relation being
    /// broken in this hook is not listed.
    fn relation_ids(&self, endpoint: &str) -> HookToolResult<Vec<RelationId>>;

    /// The remote units in a relation, sorted (peers: the other units of this app):
    /// `relation-list --format=json -r <id>`.
    fn relation_list(&self, relation: &RelationId) -> HookToolResult<Vec<String>>;

    /// The remote application of a relation, `None` if Juju does not know it:
    /// `relation-list --format=json -r <id> --app`.
    fn relation_remote_app(&self, relation: &RelationId) -> HookToolResult<Option<String>>;

    /// One databag of a relation: `relation-get --format=json -r <id> [--app] - <name>`.
    /// Values may be credentials: never log them.
    fn relation_get(&self, relation: &RelationId, bag: &Bag) -> HookToolResult<Databag>;

    /// Merges `data` into this unit's or (leader only) this app's databag; an empty
    /// value deletes the key. The data goes as JSON on stdin:
    /// `relation-set -r <id> [--app] --file -`. Empty `data` runs nothing.
    fn relation_set(
        &self,
        relation: &RelationId,
        scope: Scope,
        data: &Databag,
    ) -> HookToolResult<()>;

    /// Whether this unit is the leader (a `true` holds for at least 30 s):
    /// `is-leader --format=json`.
    fn is_leader(&self) -> HookToolResult<bool>;

    /// Sets this unit's or (leader only) the application's status, at once:
    /// `status-set --application=<True|False> <status> [-- <message>]`.
    fn status_set(&self, scope: Scope, status: &Status) -> HookToolResult<()>;

    /// This unit's or (leader only) the application's status:
    /// `status-get --include-data --format=json --application=<true|false>`.
    fn status_get(&self, scope: Scope) -> HookToolResult<StatusReport>;

    /// Sets the workload version shown by `juju status`, at once:
    /// `application-version-set -- <version>`.
    fn application_version_set(&self, version: &str) -> HookToolResult<()>;

    /// Opens a port (at commit): `open-port <port>`.
    fn open_port(&self, port: Port) -> HookToolResult<()>;

    /// Closes a port (at commit): `close-port <port>`.
    fn close_port(&self, port: Port) -> HookToolResult<()>;

    /// The ports opened before this hook (pending changes are not shown):
    /// `opened-ports --format=json`.
    fn opened_ports(&self) -> HookToolResult<Vec<Port>>;

    /// Writes to the unit's Juju log: `juju-log --log-level <LEVEL> -- <message>`.
    /// Never pass secrets.
    fn juju_log(&self, level: LogLevel, message: &str) -> HookToolResult<()>;

    /// The running action's parameters: `action-get --format=json`.
    fn action_get(&self) -> HookToolResult<ActionParams>;

    /// Sets action results; dotted keys nest (`a.b=c`). Values are on argv (the tool
    /// has no stdin form): never put secrets in results. `action-set <k>=<v> ...`;
    /// empty `results` runs nothing.
    fn action_set(&self, results: &BTreeMap<String, String>) -> HookToolResult<()>;

    /// Marks the running action failed (the process goes on): `action-fail -- <msg>`.
    fn action_fail(&self, message: &str) -> HookToolResult<()>;

    /// Sends a progress message for the running action: `action-log -- <msg>`.
    fn action_log(&self, message: &str) -> HookToolResult<()>;

    /// One value of this unit's controller-side charm state, `None` if absent:
    /// `state-get --format=json --strict <key>`.
    fn state_get(&self, key: &str) -> HookToolResult<Option<String>>;

    /// All of this unit's charm state: `state-get --format=json`.
    fn state_get_all(&self) -> HookToolResult<BTreeMap<String, String>>;

    /// Sets charm state keys (at commit; an empty value stores an empty string). The
    /// values go as JSON on stdin: `state-set --file -`. Empty `values` runs nothing.
    fn state_set(&self, values: &BTreeMap<String, String>) -> HookToolResult<()>;

    /// Deletes a charm state key (absent keys are fine): `state-delete <key>`.
    fn state_delete(&self, key: &str) -> HookToolResult<()>;

    /// Creates a secret (at commit) and returns its URI. Content never goes on argv.
    fn secret_add(
        &self,
        content: &SecretContent,
        options: &SecretAddOptions,
    ) -> HookToolResult<SecretUri>;

    /// Reads a secret's content: `secret-get --format=json <uri>|--label=<l>
    /// [--peek|--refresh]`. The result is secret: never log it.
    fn secret_get(
        &self,
        secret: &SecretRef,
        options: SecretGetOptions,
    ) -> HookToolResult<SecretContent>;

    /// Sets a new revision's content (if `content` is not empty) and/or metadata of an
    /// owned secret. Content never goes on argv.
    fn secret_set(
        &self,
        uri: &SecretUri,
        content: &SecretContent,
        options: &SecretSetOptions,
    ) -> HookToolResult<()>;

    /// Metadata of a secret this unit owns or manages:
    /// `secret-info-get --format=json <uri>|--label=<l>`.
    fn secret_info_get(&self, secret: &SecretRef) -> HookToolResult<SecretInfo>;

    /// Grants `view` on a secret to the remote app of a relation, or one of its units:
    /// `secret-grant <uri> -r <id> [--unit <unit>]`.
    fn secret_grant(
        &self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> HookToolResult<()>;

    /// Revokes a grant: `secret-revoke <uri> -r <id> [--unit <unit>]`.
    fn secret_revoke(
        &self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> HookToolResult<()>;

    /// Removes all revisions of a secret, or one: `secret-remove <uri> [--revision N]`.
    fn secret_remove(&self, uri: &SecretUri, revision: Option<u64>) -> HookToolResult<()>;

    /// The bare ids of the secrets this unit or app owns: `secret-ids --format=json`.
    fn secret_ids(&self) -> HookToolResult<Vec<String>>;

    /// This unit's addresses for a binding (an endpoint or extra binding):
    /// `network-get --format=json [-r <id>] <binding>`.
    fn network_get(
        &self,
        binding: &str,
        relation: Option<&RelationId>,
    ) -> HookToolResult<NetworkInfo>;

    /// The units and relations Juju is converging to: `goal-state --format=json`.
    fn goal_state(&self) -> HookToolResult<GoalState>;
}
