//! The transport: one keep-alive HTTP/1.1 client over the Unix socket, and the reading of
//! Pebble's response envelope (sync, async, error) into results and typed errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Pebble ignores the Host header; this is what ops uses too.
const BASE_URL: &str = "http://localhost";
/// The socket Juju gives a sidecar charm for container `<name>`.
const CONTAINER_SOCKET_DIR: &str = "/charm/containers";
/// Deadline for one ordinary request (not waits or long polls, which add their own timeout).
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default deadline for a service action's change to be ready. Stopping a service can take its
/// kill-delay (5 s by default) plus 5 s more; starting takes at least 1 s.
const DEFAULT_CHANGE_TIMEOUT: Duration = Duration::from_secs(60);

/// A client for one Pebble daemon, reusing its connections (keep-alive) across calls.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    socket: PathBuf,
    request_timeout: Duration,
    change_timeout: Duration,
    /// Shared by clones: what this client (and its clones) sent, for the hook-end summary.
    counts: Arc<Counters>,
}

/// How many requests a [`Client`] (and its clones) has made so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// Every HTTP request, including each slice of a change wait and each exec websocket.
    pub requests: u64,
    /// The requests that may change the container: every method other than GET.
    pub writes: u64,
}

impl std::ops::Add for RequestCounts {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            requests: self.requests + other.requests,
            writes: self.writes + other.writes,
        }
    }
}

/// The atomic counters behind [`RequestCounts`] (the charm runs on a current-thread
/// runtime, but the client is `Send + Sync` and must stay so).
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    writes: AtomicU64,
}

/// Pebble's response envelope (`type`, `status-code`, `change`, `result`).
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    change: Option<String>,
    #[serde(default)]
    result: Option<serde_json::Value>,
}

/// `result` of an error envelope.
#[derive(Deserialize)]
struct ErrorResult {
    #[serde(default)]
    message: String,
    #[serde(default)]
    kind: Option<String>,
}

impl Client {
    /// A client for the Pebble listening on `socket`. Nothing is connected until the first call.
    pub fn new(socket: impl Into<PathBuf>) -> Result<Self, Error> {
        let socket = socket.into();
        let http = reqwest::Client::builder()
            .unix_socket(socket.as_path())
            .no_proxy()
            .build()
            .map_err(|e| Error::protocol("building the HTTP client", e))?;
        Ok(Self {
            http,
            socket,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            change_timeout: DEFAULT_CHANGE_TIMEOUT,
            counts: Arc::default(),
        })
    }

    /// The requests this client and its clones have made so far: a charm reports them at
    /// the end of a hook, so that a no-op hook is seen to write nothing.
    pub fn request_counts(&self) -> RequestCounts {
        RequestCounts {
            requests: self.counts.requests.load(Ordering::Relaxed),
            writes: self.counts.writes.load(Ordering::Relaxed),
        }
    }

    /// Counts one request about to be sent (`write`: anything but a GET).
    pub(crate) fn count_request(&self, write: bool) {
        self.counts.requests.fetch_add(1, Ordering::Relaxed);
        if write {
            self.counts.writes.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A client for workload container `container` of a sidecar charm
    /// (`/charm/containers/<container>/pebble.socket`).
    pub fn for_container(container: &str) -> Result<Self, Error> {
        if container.is_empty() || container == "." || container == ".." || container.contains('/')
        {
            return Err(Error::invalid(
                "container name",
                format!("{container:?} must be a non-empty name without '/'"),
            ));
        }
        Self::new(
            Path::new(CONTAINER_SOCKET_DIR)
                .join(container)
                .join("pebble.socket"),
        )
    }

    /// Sets how long service actions and replans may take before [`Error::Timeout`].
    pub fn with_change_timeout(mut self, timeout: Duration) -> Self {
        self.change_timeout = timeout;
        self
    }

    /// Sets the deadline of one ordinary request.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The socket this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The deadline of one ordinary request.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The deadline for service actions' changes.
    pub(crate) fn change_timeout(&self) -> Duration {
        self.change_timeout
    }

    /// Starts a request to `path` (which begins with `/v1/`). Every request is built here
    /// just before it is sent, so this is where it is counted.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.count_request(method != Method::GET);
        self.http.request(method, format!("{BASE_URL}{path}"))
    }

    /// Sends a request with the client's request timeout.
    pub(crate) async fn send(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<Response, Error> {
        self.send_within(what, request, self.request_timeout).await
    }

    /// Sends a request that may take up to `timeout` (waits, long polls), mapping transport
    /// failures to [`Error::CannotConnect`] / [`Error::Timeout`].
    pub(crate) async fn send_within(
        &self,
        what: &str,
        request: RequestBuilder,
        timeout: Duration,
    ) -> Result<Response, Error> {
        tracing::debug!(request = what, "pebble request");
        request
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| self.transport_error(what, e, timeout))
    }

    fn transport_error(&self, what: &str, error: reqwest::Error, timeout: Duration) -> Error {
        if error.is_timeout() {
            Error::Timeout {
                what: format!("Pebble to answer {what}"),
                after: timeout,
            }
        } else if error.is_connect() || error.is_request() {
            Error::CannotConnect {
                socket: self.socket.clone(),
                source: error.into(),
            }
        } else {
            Error::protocol(what, error)
        }
    }

    /// Reads an envelope; error envelopes become [`Error::Api`]. Returns the status, the
    /// change id (async answers) and the `result`.
    pub(crate) async fn read_envelope(
        &self,
        what: &str,
        response: Response,
    ) -> Result<(StatusCode, Option<String>, serde_json::Value), Error> {
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(what, e, self.request_timeout))?;
        let (change, result) = parse_envelope(what, status.as_u16(), &body)?;
        Ok((status, change, result))
    }

    /// Sends a request that answers synchronously and decodes its `result`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<T, Error> {
        self.call_within(what, request, self.request_timeout).await
    }

    /// [`Client::call`] for a request that may take up to `timeout`.
    pub(crate) async fn call_within<T: DeserializeOwned>(
        &self,
        what: &str,
        request: RequestBuilder,
        timeout: Duration,
    ) -> Result<T, Error> {
        let response = self.send_within(what, request, timeout).await?;
        let (_, _, result) = self.read_envelope(what, response).await?;
        decode(what, result)
    }

    /// Sends a request that starts a change; returns the change id and the `result`.
    pub(crate) async fn call_async(
        &self,
        what: &str,
        request: RequestBuilder,
    ) -> Result<(String, serde_json::Value), Error> {
        let response = self.send(what, request).await?;
        let (_, change, result) = self.read_envelope(what, response).await?;
        let change =
            change.ok_or_else(|| Error::protocol(what, "an async response without a change id"))?;
        Ok((change, result))
    }
}

/// Parses an envelope body; an error envelope becomes [`Error::Api`].
pub(crate) fn parse_envelope(
    what: &str,
    status: u16,
    body: &[u8],
) -> Result<(Option<String>, serde_json::Value), Error> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| Error::protocol(format!("{what} (HTTP {status})"), e))?;
    let result = envelope.result.unwrap_or(serde_json::Value::Null);
    if envelope.kind == "error" {
        let detail: ErrorResult = serde_json::from_value(result).unwrap_or(ErrorResult {
            message: String::new(),
            kind: None,
        });
        let message = if detail.message.is_empty() {
            StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_owned()
        } else {
            detail.message
        };
        return Err(Error::Api {
            request: what.to_owned(),
            status,
            message,
            kind: detail.kind,
        });
    }
    Ok((envelope.change, result))
}

/// Decodes a `result` into `T`, naming the request on failure.
pub(crate) fn decode<T: DeserializeOwned>(
    what: &str,
    value: serde_json::Value,
) -> Result<T, Error> {
    serde_json::from_value(value).map_err(|e| Error::protocol(what, e))
}

/// Rejects a path Pebble would refuse (relative) or that cannot be put in a header safely.
pub(crate) fn check_path(path: &str) -> Result<(), Error> {
    if !path.starts_with('/') {
        return Err(Error::invalid("path", format!("{path:?} must be absolute")));
    }
    if path.contains(['"', '\r', '\n', '\0']) {
        return Err(Error::invalid(
            "path",
            format!("{path:?} contains a quote, NUL or line break"),
        ));
    }
    Ok(())
}

/// Renders mode bits as Pebble's 3-digit octal string.
pub(crate) fn permissions_text(mode: u32) -> Result<String, Error> {
    if mode > 0o777 {
        return Err(Error::invalid(
            "permissions",
            format!("{mode:#o} has bits beyond 0o777"),
        ));
    }
    Ok(format!("{mode:03o}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_socket_is_the_one_juju_mounts() {
        let client = Client::for_container("indico-nginx").unwrap();
        assert_eq!(
            client.socket(),
            Path::new("/charm/containers/indico-nginx/pebble.socket")
        );
        for bad in ["", ".", "..", "a/b", "../x"] {
            let err = Client::for_container(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn permissions_render_as_three_octal_digits() {
        assert_eq!(permissions_text(0o600).unwrap(), "600");
        assert_eq!(permissions_text(0o7).unwrap(), "007");
        assert!(permissions_text(0o4755).is_err());
    }

    #[test]
    fn error_envelope_without_message_falls_back_to_the_status_text() {
        let err = parse_envelope("GET /v1/x", 404, br#"{"type":"error","result":{}}"#).unwrap_err();
        assert_eq!(err.to_string(), "Pebble refused GET /v1/x (404): Not Found");
        let err = parse_envelope("GET /v1/x", 200, b"not json").unwrap_err();
        assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    }
}
