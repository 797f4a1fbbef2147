//! Workload and agent statuses with their history, as `juju status` and `status-get` show
//! them.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How many entries of status history the model keeps per entity.
pub const HISTORY_LIMIT: usize = 100;

/// A status value with its message, data and when it was set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `active`, `blocked`, `maintenance`, `waiting`, `unknown`, `error`, `terminated`
    /// (workload) or `allocating`, `idle`, `executing`, `error` (agent).
    pub status: String,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// Extra data (Juju's `status-data`), e.g. the failed hook's relation id.
    #[serde(default)]
    pub data: BTreeMap<String, Value>,
    /// Milliseconds since the Unix epoch.
    pub since_ms: u64,
}

impl Status {
    /// A status set now.
    pub fn now(status: &str, message: &str) -> Self {
        Self {
            status: status.to_owned(),
            message: message.to_owned(),
            data: BTreeMap::new(),
            since_ms: now_ms(),
        }
    }

    /// `since` as RFC 3339 with second precision, UTC.
    pub fn since_rfc3339(&self) -> String {
        let time = UNIX_EPOCH + std::time::Duration::from_millis(self.since_ms);
        humantime::format_rfc3339_seconds(time).to_string()
    }
}

/// A status with its history (newest last, at most [`HISTORY_LIMIT`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusWithHistory {
    /// The current status.
    pub current: Status,
    /// Earlier and current statuses, oldest first.
    #[serde(default)]
    pub history: Vec<Status>,
}

impl StatusWithHistory {
    /// Starts with `status`.
    pub fn new(status: Status) -> Self {
        Self {
            history: vec![status.clone()],
            current: status,
        }
    }

    /// Sets a new status and records it.
    pub fn set(&mut self, status: Status) {
        self.history.push(status.clone());
        if self.history.len() > HISTORY_LIMIT {
            let excess = self.history.len() - HISTORY_LIMIT;
            self.history.drain(..excess);
        }
        self.current = status;
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
