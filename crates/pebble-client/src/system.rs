//! `GET /v1/system-info` and `GET /v1/health`: is the daemon there, which process is it, and are
//! its checks healthy.

use reqwest::Method;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;
use crate::layer::CheckLevel;

/// What `GET /v1/system-info` returns.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SystemInfo {
    /// Changes when a new Pebble process starts (when Pebble is PID 1); Juju fires
    /// `<container>-pebble-ready` on a new value.
    pub boot_id: String,
    /// Pebble's version, e.g. `v1.19.2`.
    pub version: String,
    /// The `--http` listener address, if any.
    #[serde(default)]
    pub http_address: Option<String>,
}

/// `result` of `GET /v1/health`.
#[derive(Deserialize)]
struct Health {
    healthy: bool,
}

impl Client {
    /// `GET /v1/system-info`: Pebble's version and boot id; fails with
    /// [`Error::CannotConnect`] when the daemon is not there.
    pub async fn system_info(&self) -> Result<SystemInfo, Error> {
        let what = "GET /v1/system-info";
        self.call(what, self.request(Method::GET, "/v1/system-info"))
            .await
    }

    /// `GET /v1/health`: true unless a matching check is down (Pebble answers 502 then).
    pub async fn health(&self, level: Option<CheckLevel>, names: &[&str]) -> Result<bool, Error> {
        let what = "GET /v1/health";
        let mut request = self.request(Method::GET, "/v1/health");
        if let Some(level) = level {
            request = request.query(&[("level", level.as_str())]);
        }
        if !names.is_empty() {
            request = request.query(&[("names", names.join(","))]);
        }
        let health: Health = self.call(what, request).await?;
        Ok(health.healthy)
    }
}
