//! Errors of the model layer: bad charm files, unknown names, bad values, persistence.

use std::path::PathBuf;

/// What went wrong reading, changing or persisting the model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A charm file is malformed.
    #[error("{file}: {detail}")]
    InvalidCharm {
        /// Which file.
        file: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// No application of that name.
    #[error("application {0:?} not found")]
    UnknownApplication(String),
    /// No unit of that name.
    #[error("unit {0:?} not found")]
    UnknownUnit(String),
    /// The application has no such endpoint.
    #[error("application {application:?} has no endpoint {endpoint:?}")]
    UnknownEndpoint {
        /// The application.
        application: String,
        /// The endpoint asked for.
        endpoint: String,
    },
    /// The charm has no such config option.
    #[error("application {application:?} has no config option {key:?}")]
    UnknownOption {
        /// The application.
        application: String,
        /// The option asked for.
        key: String,
    },
    /// A config value does not fit the option's type.
    #[error("option {key:?} expects a {expected} value, got {value:?}")]
    InvalidConfigValue {
        /// The option.
        key: String,
        /// Its type.
        expected: &'static str,
        /// What was given.
        value: String,
    },
    /// The charm has no such action.
    #[error("charm {charm:?} has no action {action:?}")]
    UnknownAction {
        /// The charm.
        charm: String,
        /// The action asked for.
        action: String,
    },
    /// Action parameters do not match `actions.yaml`.
    #[error("invalid parameters for action {action:?}: {detail}")]
    InvalidActionParams {
        /// The action.
        action: String,
        /// What is wrong.
        detail: String,
    },
    /// A relation cannot be made or found.
    #[error("relation: {0}")]
    Relation(String),
    /// A name is already taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// Some other invalid request, with its reason.
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing the persisted model failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The persisted model is not valid JSON of the expected shape.
    #[error("model file {} is corrupt: {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The decoding error.
        source: serde_json::Error,
    },
}
