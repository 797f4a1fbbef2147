//! Service status (`GET /v1/services`) and service actions (`POST /v1/services`: start, stop,
//! restart, replan, autostart), each waited on until its change is ready.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::changes::Change;
use crate::client::Client;
use crate::error::Error;
use crate::layer::Startup;

/// One entry of `GET /v1/services`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServiceInfo {
    /// Service name.
    pub name: String,
    /// Startup mode (an unset startup is reported as disabled).
    pub startup: Startup,
    /// Current state.
    pub current: ServiceStatus,
    /// When the current state began (RFC 3339); absent if never started.
    #[serde(default)]
    pub current_since: Option<String>,
}

/// The `current` state of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceStatus {
    /// Starting or running.
    Active,
    /// Never started, stopped or stopping.
    Inactive,
    /// Exited and waiting to be restarted.
    Backoff,
    /// Exited and not restarted.
    Error,
    /// A state this client does not know (a newer Pebble).
    #[serde(other)]
    Unknown,
}

impl ServiceInfo {
    /// True when the service is starting or running.
    pub fn is_running(&self) -> bool {
        self.current == ServiceStatus::Active
    }
}

/// Body of `POST /v1/services`.
#[derive(Serialize)]
struct ServicesRequest<'a> {
    action: &'a str,
    services: &'a [&'a str],
}

impl Client {
    /// `GET /v1/services`, sorted by name; an empty `names` means all (unknown names are
    /// skipped, not errors).
    pub async fn services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, Error> {
        let what = "GET /v1/services";
        let mut request = self.request(Method::GET, "/v1/services");
        if !names.is_empty() {
            request = request.query(&[("names", names.join(","))]);
        }
        self.call(what, request).await
    }

    /// Starts services and what they require; fails with [`Error::ChangeFailed`] if one exits
    /// within Pebble's 1 s start window.
    pub async fn start(&self, services: &[&str]) -> Result<(), Error> {
        self.service_action("start", services).await.map(drop)
    }

    /// Stops services and what depends on them.
    pub async fn stop(&self, services: &[&str]) -> Result<(), Error> {
        self.service_action("stop", services).await.map(drop)
    }

    /// Stops, then starts services.
    pub async fn restart(&self, services: &[&str]) -> Result<(), Error> {
        self.service_action("restart", services).await.map(drop)
    }

    /// Restarts services whose config changed and starts every `startup: enabled` one
    /// (checks are replanned too).
    pub async fn replan(&self) -> Result<(), Error> {
        self.service_action("replan", &[]).await.map(drop)
    }

    /// Starts every `startup: enabled` service; Pebble answers `no-default-services` if there
    /// is none.
    pub async fn autostart(&self) -> Result<(), Error> {
        self.service_action("autostart", &[]).await.map(drop)
    }

    /// Posts a service action and waits for its change (up to the client's change timeout).
    async fn service_action(&self, action: &str, services: &[&str]) -> Result<Change, Error> {
        let takes_names = matches!(action, "start" | "stop" | "restart");
        if takes_names && services.is_empty() {
            return Err(Error::invalid(
                format!("{action} request"),
                "no services named",
            ));
        }
        let what = format!("POST /v1/services ({action} {})", services.join(","));
        let body = ServicesRequest { action, services };
        let (change, _) = self
            .call_async(
                &what,
                self.request(Method::POST, "/v1/services").json(&body),
            )
            .await?;
        self.wait_change(&change, self.change_timeout())
            .await?
            .into_result()
    }
}
