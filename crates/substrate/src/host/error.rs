//! Errors of the host-services layer.

use std::path::PathBuf;
use std::process::ExitStatus;

/// What went wrong while preparing a host-side server.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
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
    /// A program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A command failed; `stderr` is what it said.
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line (never containing a secret).
        command: String,
        /// Exit status.
        status: ExitStatus,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// An input was invalid (e.g. an SQL identifier).
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// A server did not come up in time.
    #[error("timed out after {seconds:.1} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: f64,
    },
}

impl HostError {
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

/// Runs a command with optional stdin, capturing output; non-zero exit is an error.
pub(crate) fn run(
    command: &mut std::process::Command,
    description: &str,
    stdin: Option<&[u8]>,
) -> Result<std::process::Output, HostError> {
    use std::io::Write;
    use std::process::Stdio;
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| HostError::Spawn {
            program: program.clone(),
            source,
        })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).map_err(|source| HostError::Spawn {
            program: program.clone(),
            source,
        })?;
    }
    let output = child
        .wait_with_output()
        .map_err(|source| HostError::Spawn { program, source })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(HostError::CommandFailed {
            command: description.to_owned(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}
