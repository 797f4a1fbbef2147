//! Workload status values: what a charm sets with `status-set` and reads with
//! `status-get`.

use std::fmt;

use serde::Deserialize;

/// A status a charm may set (Juju refuses `error` and `unknown` from charms).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Status {
    /// Everything works.
    Active,
    /// Everything works, with something the operator should know (Juju shows `active`
    /// and the message), e.g. that files in a detached S3 bucket are no longer served.
    ActiveWithMessage(String),
    /// Needs a human: bad config, a missing relation that will not appear by itself.
    Blocked(String),
    /// Waiting for something outside the charm's control that will come.
    Waiting(String),
    /// The charm is doing something that takes a while.
    Maintenance(String),
}

impl Status {
    /// The name Juju uses: `active`, `blocked`, `waiting`, `maintenance`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Active | Self::ActiveWithMessage(_) => "active",
            Self::Blocked(_) => "blocked",
            Self::Waiting(_) => "waiting",
            Self::Maintenance(_) => "maintenance",
        }
    }

    /// Whether Juju shows this as `active`, with or without a message.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active | Self::ActiveWithMessage(_))
    }

    /// The message (empty for `Active`).
    pub fn message(&self) -> &str {
        match self {
            Self::Active => "",
            Self::ActiveWithMessage(m)
            | Self::Blocked(m)
            | Self::Waiting(m)
            | Self::Maintenance(m) => m,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            "" => f.write_str(self.name()),
            message => write!(f, "{}: {message}", self.name()),
        }
    }
}

/// A status name as `status-get` reports it, including those only Juju sets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusName {
    /// `active`.
    Active,
    /// `blocked`.
    Blocked,
    /// `waiting`.
    Waiting,
    /// `maintenance`.
    Maintenance,
    /// `error` (set by Juju when a hook failed).
    Error,
    /// `unknown` (nothing set yet).
    Unknown,
    /// `terminated` (the unit is gone).
    Terminated,
}

/// What `status-get --include-data` reports for the unit or the application.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusReport {
    /// The status name.
    pub status: StatusName,
    /// The message, empty if none.
    #[serde(default)]
    pub message: String,
}
