//! Errors of the unit agent and controller.

use std::path::PathBuf;

use crate::engine::EngineError;
use crate::model::ModelError;
use crate::providers::ProviderError;

/// What went wrong running units.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A model operation was refused (unknown name, bad value ...).
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The container engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A remote application's server failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A file operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Something else, with its reason.
    #[error("{0}")]
    Other(String),
}

impl AgentError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
