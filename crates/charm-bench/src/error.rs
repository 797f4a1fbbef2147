//! The bench's error type: one enum naming what failed and on what.

use std::path::PathBuf;

/// What went wrong while benchmarking.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file or socket operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A command could not run or failed.
    #[error("{command} failed: {detail}")]
    Command {
        /// The command, without secrets.
        command: String,
        /// Exit status and the end of its stderr.
        detail: String,
    },
    /// A file had content the bench cannot read.
    #[error("{what} is malformed: {detail}")]
    Malformed {
        /// Which file or output.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// Waited too long for something.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
    },
    /// The substrate's model could not be read.
    #[error(transparent)]
    Model(#[from] indico_substrate::model::ModelError),
    /// The substrate's engine failed.
    #[error(transparent)]
    Engine(#[from] indico_substrate::engine::EngineError),
    /// Packing the charm failed.
    #[error(transparent)]
    Pack(#[from] charm_pack::PackError),
}

impl BenchError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
