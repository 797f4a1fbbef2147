//! Check status (`GET /v1/checks`) and starting/stopping checks (`POST /v1/checks`).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Error;
use crate::layer::{CheckLevel, Startup};

/// One entry of `GET /v1/checks`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CheckInfo {
    /// Check name.
    pub name: String,
    /// Level, if the check has one.
    #[serde(default)]
    pub level: Option<CheckLevel>,
    /// Startup mode (Pebble v1.19+; older daemons leave it out).
    #[serde(default)]
    pub startup: Option<Startup>,
    /// Current status.
    pub status: CheckStatus,
    /// Consecutive failures so far (0 when Pebble leaves it out).
    #[serde(default)]
    pub failures: u32,
    /// Consecutive successes (Pebble v1.23+ only).
    #[serde(default)]
    pub successes: Option<u64>,
    /// Failures before the check is down.
    pub threshold: u32,
    /// The id of the change running the check (`perform-check` or `recover-check`).
    #[serde(default)]
    pub change_id: Option<String>,
}

/// The status of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Passing (or failing fewer times than the threshold).
    Up,
    /// Failed `threshold` times in a row.
    Down,
    /// Not running (stopped, or startup disabled).
    Inactive,
    /// A status this client does not know (a newer Pebble).
    #[serde(other)]
    Unknown,
}

/// Body of `POST /v1/checks`.
#[derive(Serialize)]
struct ChecksRequest<'a> {
    action: &'a str,
    checks: &'a [&'a str],
}

/// `result` of `POST /v1/checks`.
#[derive(Deserialize)]
struct ChecksChanged {
    #[serde(default)]
    changed: Option<Vec<String>>,
}

impl Client {
    /// `GET /v1/checks`, sorted by name, filtered by level (`None`: all) and names (empty: all).
    pub async fn checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, Error> {
        let what = "GET /v1/checks";
        let mut request = self.request(Method::GET, "/v1/checks");
        if let Some(level) = level {
            request = request.query(&[("level", level.as_str())]);
        }
        if !names.is_empty() {
            request = request.query(&[("names", names.join(","))]);
        }
        let checks: Option<Vec<CheckInfo>> = self.call(what, request).await?;
        Ok(checks.unwrap_or_default())
    }

    /// Starts stopped checks (Pebble v1.19+); returns the names that actually changed.
    pub async fn start_checks(&self, checks: &[&str]) -> Result<Vec<String>, Error> {
        self.checks_action("start", checks).await
    }

    /// Stops running checks (Pebble v1.19+); returns the names that actually changed.
    pub async fn stop_checks(&self, checks: &[&str]) -> Result<Vec<String>, Error> {
        self.checks_action("stop", checks).await
    }

    async fn checks_action(&self, action: &str, checks: &[&str]) -> Result<Vec<String>, Error> {
        if checks.is_empty() {
            return Err(Error::invalid(
                format!("{action} checks request"),
                "no checks named",
            ));
        }
        let what = format!("POST /v1/checks ({action} {})", checks.join(","));
        let body = ChecksRequest { action, checks };
        let result: ChecksChanged = self
            .call(&what, self.request(Method::POST, "/v1/checks").json(&body))
            .await?;
        Ok(result.changed.unwrap_or_default())
    }
}
