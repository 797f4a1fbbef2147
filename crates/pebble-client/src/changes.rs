//! Changes (`GET /v1/changes/{id}`) and waiting for them (`/wait` in a loop until a deadline).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::client::Client;
use crate::duration::GoDuration;
use crate::error::Error;

/// A change: the async work behind service actions, replan and exec.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Change {
    /// Change id (a decimal string).
    pub id: String,
    /// `start`, `stop`, `restart`, `replan`, `autostart`, `exec`, `perform-check`, ...
    pub kind: String,
    /// Human summary, e.g. `Start service "web"`.
    pub summary: String,
    /// `Do`, `Doing`, `Done`, `Error`, `Hold`, ...
    pub status: String,
    /// True once the change finished (Done, Undone, Error, Hold).
    pub ready: bool,
    /// Present only when the change failed.
    #[serde(default)]
    pub err: Option<String>,
    /// The change's tasks.
    #[serde(default)]
    pub tasks: Vec<Task>,
}

/// One task of a change.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Task {
    /// Task id.
    pub id: String,
    /// Task kind (`start`, `stop`, `exec`, ...).
    pub kind: String,
    /// Human summary.
    pub summary: String,
    /// Task status.
    pub status: String,
    /// Log lines (`<RFC3339> <LEVEL> <message>`), e.g. a crashed service's last output.
    #[serde(default)]
    pub log: Vec<String>,
    /// Task data; exec tasks carry `exit-code`.
    #[serde(default)]
    pub data: BTreeMap<String, serde_json::Value>,
}

/// Longest single `/wait` call; below the request timeout so a slow change is not mistaken
/// for a dead socket (ops uses 4 s as well).
const WAIT_SLICE: Duration = Duration::from_secs(4);
/// Extra time a `/wait` request gets on top of its server-side timeout.
const WAIT_GRACE: Duration = Duration::from_secs(5);

impl Change {
    /// The exit code an exec change's first task recorded, if any.
    pub fn exit_code(&self) -> Option<i32> {
        self.tasks
            .first()?
            .data
            .get("exit-code")?
            .as_i64()
            .and_then(|c| i32::try_from(c).ok())
    }

    /// [`Error::ChangeFailed`] if the change ended in error.
    pub fn into_result(self) -> Result<Self, Error> {
        match &self.err {
            Some(err) => Err(Error::ChangeFailed {
                id: self.id.clone(),
                kind: self.kind.clone(),
                err: err.clone(),
            }),
            None => Ok(self),
        }
    }
}

impl Client {
    /// `GET /v1/changes/{id}`.
    pub async fn change(&self, id: &str) -> Result<Change, Error> {
        let what = format!("GET /v1/changes/{id}");
        let path = format!("/v1/changes/{}", path_segment(id)?);
        self.call(&what, self.request(Method::GET, &path)).await
    }

    /// Waits until change `id` is ready, calling `/wait` in slices of at most 4 s (a 504
    /// means "not yet") until `timeout` has passed, then fails with [`Error::Timeout`].
    /// Returns the change whatever its outcome; see [`Change::into_result`].
    pub async fn wait_change(&self, id: &str, timeout: Duration) -> Result<Change, Error> {
        let what = format!("GET /v1/changes/{id}/wait");
        let path = format!("/v1/changes/{}/wait", path_segment(id)?);
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Timeout {
                    what: format!("change {id} to finish"),
                    after: timeout,
                });
            }
            // Never send 0: Pebble reads it as "wait forever".
            let slice = remaining.min(WAIT_SLICE).max(Duration::from_millis(1));
            let request = self
                .request(Method::GET, &path)
                .query(&[("timeout", GoDuration::from(slice).to_string())]);
            let response = self.send_within(&what, request, slice + WAIT_GRACE).await?;
            if response.status() == StatusCode::GATEWAY_TIMEOUT {
                continue;
            }
            let (_, _, result) = self.read_envelope(&what, response).await?;
            return crate::client::decode(&what, result);
        }
    }
}

/// Ids go into the URL path, so only plain ids pass (Pebble's are decimal strings).
pub(crate) fn path_segment(id: &str) -> Result<&str, Error> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Error::invalid("id", format!("{id:?} is not a Pebble id")));
    }
    Ok(id)
}
