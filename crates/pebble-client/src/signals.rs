//! `POST /v1/signals`: sending a signal to running services (e.g. SIGHUP to reload).

use reqwest::Method;
use serde::Serialize;

use crate::client::Client;
use crate::error::Error;

/// Body of `POST /v1/signals`.
#[derive(Serialize)]
struct SignalRequest<'a> {
    signal: &'a str,
    services: &'a [&'a str],
}

impl Client {
    /// Sends `signal` (a name such as `"SIGHUP"`) to each of `services`; Pebble answers 500
    /// if one is not running.
    pub async fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), Error> {
        if services.is_empty() {
            return Err(Error::invalid("signal request", "no services named"));
        }
        let what = format!("POST /v1/signals ({signal} to {})", services.join(","));
        let body = SignalRequest { signal, services };
        let _: serde_json::Value = self
            .call(&what, self.request(Method::POST, "/v1/signals").json(&body))
            .await?;
        Ok(())
    }
}
