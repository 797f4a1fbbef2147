//! The client's error type: one variant per way a Pebble call can fail, each with a message that
//! reads well on its own (for example in a `juju status` line).

use std::path::PathBuf;
use std::time::Duration;

/// A boxed underlying cause (transport, I/O, parser).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a Pebble call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket is missing, refuses connections, or the connection broke: Pebble is not
    /// (or no longer) reachable. Distinct from [`Error::Api`], where Pebble answered.
    #[error("cannot connect to Pebble at {}: {}", socket.display(), root_cause(source.as_ref()))]
    CannotConnect {
        /// The Unix socket path tried.
        socket: PathBuf,
        /// Why the connection failed.
        #[source]
        source: BoxError,
    },
    /// Pebble answered with its error envelope.
    #[error("Pebble refused {request} ({status}): {message}")]
    Api {
        /// The request, e.g. `POST /v1/layers`.
        request: String,
        /// The HTTP status code.
        status: u16,
        /// Pebble's `result.message`.
        message: String,
        /// Pebble's `result.kind` when it gave one (`not-found`, `permission-denied`, ...).
        kind: Option<String>,
    },
    /// A change (service action, replan, exec) ended in error.
    #[error("Pebble change {id} ({kind}) failed: {err}")]
    ChangeFailed {
        /// The change id.
        id: String,
        /// The change kind (`start`, `replan`, `exec`, ...).
        kind: String,
        /// Pebble's `err` text (lists the failed tasks and their reasons).
        err: String,
    },
    /// One path of a files call failed; Pebble reports these inside an HTTP 200.
    #[error("Pebble file operation on {path} failed ({}): {message}", kind.as_deref().unwrap_or("error"))]
    File {
        /// The path that failed.
        path: String,
        /// `not-found`, `permission-denied`, `generic-file-error`, when Pebble gave one.
        kind: Option<String>,
        /// Pebble's message.
        message: String,
    },
    /// A command ran and exited non-zero.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// Something did not finish within its deadline.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was being waited for.
        what: String,
        /// The deadline that passed.
        after: Duration,
    },
    /// The caller passed something Pebble would reject or that cannot be sent safely.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// Which argument.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Pebble answered something this client cannot read.
    #[error("unexpected answer from Pebble to {context}: {source}")]
    Protocol {
        /// The request and what was being read.
        context: String,
        /// The parse or framing error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// True for [`Error::Api`] or [`Error::File`] with kind `not-found`.
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::Api { kind, status, .. } => {
                kind.as_deref() == Some("not-found") || *status == 404
            }
            Self::File { kind, .. } => kind.as_deref() == Some("not-found"),
            _ => false,
        }
    }

    /// Builds a [`Error::Protocol`] from any error.
    pub(crate) fn protocol(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Protocol {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Builds a [`Error::InvalidInput`].
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

// Errors cross task boundaries and go into boxed errors: keep them Send + Sync.
const _: fn() = || {
    fn is_send_sync<T: Send + Sync + 'static>() {}
    is_send_sync::<Error>();
};

/// A command that ran to completion with a non-zero exit code.
///
/// The message names only the program (arguments may hold secrets) and the last line of stderr.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "command {program:?} exited with code {exit_code}{}",
    stderr_tail(stderr)
)]
pub struct ExecError {
    /// `command[0]` of the request.
    pub program: String,
    /// The exit code (Pebble reports -1 for a process it had to kill).
    pub exit_code: i32,
    /// Everything the command wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything the command wrote to stderr.
    pub stderr: Vec<u8>,
}

impl std::fmt::Debug for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Output may be large; show sizes, not content.
        f.debug_struct("ExecError")
            .field("program", &self.program)
            .field("exit_code", &self.exit_code)
            .field("stdout_len", &self.stdout.len())
            .field("stderr_len", &self.stderr.len())
            .finish()
    }
}

impl ExecError {
    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The innermost cause (for example `No such file or directory (os error 2)`), which says more
/// than the transport's own wrapper message.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

const STDERR_TAIL_CHARS: usize = 200;

/// `": <last non-empty stderr line>"`, shortened, or nothing.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    match text.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
        Some(line) if line.chars().count() > STDERR_TAIL_CHARS => {
            let short: String = line.chars().take(STDERR_TAIL_CHARS).collect();
            format!(": {short}…")
        }
        Some(line) => format!(": {line}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_error_message_shows_program_code_and_last_stderr_line() {
        let err = ExecError {
            program: "indico".into(),
            exit_code: 2,
            stdout: b"ignored".to_vec(),
            stderr: b"warning: x\nerror: database missing\n\n".to_vec(),
        };
        assert_eq!(
            err.to_string(),
            "command \"indico\" exited with code 2: error: database missing"
        );
    }

    #[test]
    fn api_error_reads_as_one_line() {
        let err = Error::Api {
            request: "POST /v1/layers".into(),
            status: 400,
            message: "layer \"x\" already exists".into(),
            kind: None,
        };
        assert_eq!(
            err.to_string(),
            "Pebble refused POST /v1/layers (400): layer \"x\" already exists"
        );
        assert!(!err.is_not_found());
    }
}
