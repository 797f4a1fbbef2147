//! Errors of the engine layer.

use std::path::PathBuf;
use std::process::ExitStatus;

/// What went wrong while driving podman, debootstrap or the state directory.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A filesystem operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A program could not be started at all.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A command ran and failed; `stderr` is what it said (trimmed).
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line (no secrets are ever passed in argv).
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its standard error, trimmed to the last lines.
        stderr: String,
    },
    /// A command's output was not what podman documents.
    #[error("unexpected output from `{command}`: {detail}")]
    UnexpectedOutput {
        /// The command line.
        command: String,
        /// What was wrong.
        detail: String,
    },
    /// An input to the engine is invalid (a unit name, a missing file, ...).
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// Waiting for something exceeded its deadline.
    #[error("timed out after {seconds:.1} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: f64,
    },
}

impl EngineError {
    /// Shorthand for [`EngineError::Io`].
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
