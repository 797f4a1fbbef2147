//! The error types of this crate: one enum for reading the hook environment, one for
//! running hook tools, one for setting up logging.
//!
//! No error's `Display` ever carries a secret: hook-tool errors hold the tool's name and
//! its stderr (which Juju never fills with secret values), never the stdin or files
//! that carried relation data or secret content.

use std::io;

/// Why the hook environment could not be turned into a [`crate::JujuContext`].
///
/// Each variant names the environment variable at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContextError {
    /// A variable Juju always sets for this kind of hook is absent.
    #[error("environment variable {var} is not set")]
    Missing {
        /// The variable's name, e.g. `JUJU_UNIT_NAME`.
        var: &'static str,
    },
    /// A variable is set but its value is unusable.
    #[error("environment variable {var} has an invalid value {value:?}: {reason}")]
    Malformed {
        /// The variable's name, e.g. `JUJU_RELATION_ID`.
        var: &'static str,
        /// The value found (environment values are never secret).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why a hook tool call failed.
///
/// The variant is chosen from the tool's exit code and its stderr (see
/// [`crate::hook_tools::classify_failure`]). `message` is stderr without the leading
/// `ERROR ` and trimmed.
#[derive(Debug, thiserror::Error)]
pub enum HookToolError {
    /// The relation id is unknown or the relation is gone (`relation not found`).
    #[error("{tool}: relation not found: {message}")]
    RelationNotFound {
        /// The hook tool, e.g. `relation-get`.
        tool: &'static str,
        /// stderr without `ERROR `.
        message: String,
    },
    /// The operation needs leadership and this unit is not the leader
    /// (`this unit is not the leader`, `cannot write relation settings`).
    #[error("{tool}: not the leader: {message}")]
    NotLeader {
        /// The hook tool.
        tool: &'static str,
        /// stderr without `ERROR `.
        message: String,
    },
    /// The controller refused access (`permission denied`, `access denied`).
    #[error("{tool}: permission denied: {message}")]
    PermissionDenied {
        /// The hook tool.
        tool: &'static str,
        /// stderr without `ERROR `.
        message: String,
    },
    /// A `secret-*` tool could not find the secret, label or key.
    #[error("{tool}: secret not found: {message}")]
    SecretNotFound {
        /// The hook tool.
        tool: &'static str,
        /// stderr without `ERROR `.
        message: String,
    },
    /// An `action-*` tool was called outside an action.
    #[error("{tool}: not running an action")]
    NotRunningAction {
        /// The hook tool.
        tool: &'static str,
    },
    /// The tool rejected its arguments (exit code 2): a bug in the caller or a
    /// Juju version that does not know a flag.
    #[error("{tool}: usage error: {message}")]
    Usage {
        /// The hook tool.
        tool: &'static str,
        /// stderr without `ERROR `.
        message: String,
    },
    /// The tool failed for any other reason (exit code 1 or another non-zero code;
    /// `exit_code` is `None` when it was killed by a signal).
    #[error("{tool} failed (exit code {}): {message}", exit_code.map_or_else(|| "none, killed by a signal".to_owned(), |c| c.to_string()))]
    Failed {
        /// The hook tool.
        tool: &'static str,
        /// The exit code, `None` if killed by a signal.
        exit_code: Option<i32>,
        /// stderr without `ERROR `.
        message: String,
    },
    /// The tool could not be started, or its stdin or stdout could not be used.
    #[error("{tool}: cannot run: {source}")]
    Spawn {
        /// The hook tool.
        tool: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The tool succeeded but its output is not what the contract says it prints.
    /// The output itself is not kept: it may be secret content.
    #[error("{tool}: unexpected output: {reason}")]
    Decode {
        /// The hook tool.
        tool: &'static str,
        /// What did not parse (a JSON error position, never the output itself).
        reason: String,
    },
    /// An argument was refused before running the tool (e.g. an invalid secret key
    /// or action result key); the tool would have refused it too.
    #[error("{tool}: invalid argument: {reason}")]
    InvalidArgument {
        /// The hook tool.
        tool: &'static str,
        /// What is wrong, naming the key or value kind (never a secret value).
        reason: String,
    },
    /// The private temporary files that carry secret content could not be written.
    #[error("{tool}: cannot prepare secret content files: {source}")]
    SecretFiles {
        /// The hook tool.
        tool: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl HookToolError {
    /// The hook tool this error came from.
    pub fn tool(&self) -> &'static str {
        match self {
            Self::RelationNotFound { tool, .. }
            | Self::NotLeader { tool, .. }
            | Self::PermissionDenied { tool, .. }
            | Self::SecretNotFound { tool, .. }
            | Self::NotRunningAction { tool }
            | Self::Usage { tool, .. }
            | Self::Failed { tool, .. }
            | Self::Spawn { tool, .. }
            | Self::Decode { tool, .. }
            | Self::InvalidArgument { tool, .. }
            | Self::SecretFiles { tool, .. } => tool,
        }
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// A global `tracing` subscriber was already installed.
    #[error("a global tracing subscriber is already set: {0}")]
    AlreadySet(#[from] tracing::subscriber::SetGlobalDefaultError),
}
