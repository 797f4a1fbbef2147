#![deny(missing_docs)]
//! A typed async client for Pebble, the service manager in each workload container of a Juju
//! sidecar charm, spoken to over `/charm/containers/<name>/pebble.socket`.
//!
//! - [`Layer`] / [`Plan`]: the layer model (every field of Pebble v1.19.2's schema) and the
//!   combined plan, with [`Plan::satisfies`] for idempotent apply.
//! - [`Pebble`]: the calls a charm makes, implemented by [`Client`] over the real socket and by
//!   in-memory fakes in tests.
//! - [`Error`]: Pebble being unreachable ([`Error::CannotConnect`]) is distinct from Pebble
//!   refusing a request ([`Error::Api`]), a failed change, a per-file error and a non-zero exit.
//!
//! Behaviour worth knowing (all checked against Pebble v1.19.2 by the tests in `tests/`):
//! - One [`Client`] keeps one keep-alive HTTP/1.1 connection pool on the socket; reuse it for
//!   every call of a hook.
//! - Change waits call `/v1/changes/{id}/wait` in slices of at most 4 s (Pebble's 504 means
//!   "not yet") until the client's change timeout ([`Client::with_change_timeout`]).
//! - Files: Pebble reports per-path failures inside an HTTP 200; they become [`Error::File`].
//!   Pebble fsyncs every pushed file, so a push costs about a millisecond: push only what
//!   changed.
//! - Exec: the exit code comes from the change; stdin that the process never reads is
//!   abandoned when the process exits (Pebble closes the control socket), instead of hanging.

mod changes;
mod checks;
mod client;
mod duration;
mod error;
mod exec;
mod files;
mod layer;
mod notices;
mod plan;
mod plan_endpoints;
mod services;
mod signals;
mod system;

use std::future::Future;

pub use changes::{Change, Task};
pub use checks::{CheckInfo, CheckStatus};
pub use client::{Client, RequestCounts};
pub use duration::{GoDuration, ParseDurationError};
pub use error::{BoxError, Error, ExecError};
pub use exec::{ExecOutput, ExecRequest};
pub use files::{FileInfo, FileType, MakeDirOptions, PushOptions};
pub use layer::{
    Check, CheckLevel, ExecCheck, HttpCheck, Layer, LayerYamlError, LogTarget, LogTargetType,
    Override, Service, ServiceAction, Startup, TcpCheck,
};
pub use notices::{Notice, NoticeType, NoticesQuery};
pub use plan::Plan;
pub use services::{ServiceInfo, ServiceStatus};
pub use system::SystemInfo;

/// The Pebble calls a charm makes on one workload container.
///
/// Service actions (`replan`, `start`, `stop`, `restart`) return once their change is ready
/// (or fail with [`Error::Timeout`] at the client's deadline) and surface a failed change as
/// [`Error::ChangeFailed`]. Paths are absolute paths inside the workload container.
pub trait Pebble {
    /// `GET /v1/system-info`; also the reachability probe (ops' `can_connect`).
    fn system_info(&self) -> impl Future<Output = Result<SystemInfo, Error>> + Send;

    /// `GET /v1/plan?format=yaml`, parsed into the typed model.
    fn plan(&self) -> impl Future<Output = Result<Plan, Error>> + Send;

    /// `POST /v1/layers`: add `layer` under `label`; with `combine`, merge it into an existing
    /// layer of that label instead of failing. Starts nothing; call [`Pebble::replan`].
    fn add_layer(
        &self,
        label: &str,
        layer: &Layer,
        combine: bool,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Restart services whose config changed and start every `startup: enabled` one.
    fn replan(&self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Start services (and what they require).
    fn start(&self, services: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;

    /// Stop services (and what depends on them).
    fn stop(&self, services: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;

    /// Stop then start services.
    fn restart(&self, services: &[&str]) -> impl Future<Output = Result<(), Error>> + Send;

    /// `GET /v1/services`; an empty `names` means all.
    fn services(
        &self,
        names: &[&str],
    ) -> impl Future<Output = Result<Vec<ServiceInfo>, Error>> + Send;

    /// `GET /v1/checks`, filtered by level (`None`: all) and names (empty: all).
    fn checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> impl Future<Output = Result<Vec<CheckInfo>, Error>> + Send;

    /// Write `content` to `path` atomically.
    fn push(
        &self,
        path: &str,
        content: &[u8],
        options: &PushOptions,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Read the file at `path`.
    fn pull(&self, path: &str) -> impl Future<Output = Result<Vec<u8>, Error>> + Send;

    /// List a directory (or, with `itself`, describe `path` itself), optionally filtered by a
    /// glob `pattern` on names.
    fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> impl Future<Output = Result<Vec<FileInfo>, Error>> + Send;

    /// Create a directory.
    fn make_dir(
        &self,
        path: &str,
        options: &MakeDirOptions,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Remove a file or directory (`recursive`: with its contents; a missing path is fine).
    fn remove_path(
        &self,
        path: &str,
        recursive: bool,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// Run a command to completion. A non-zero exit is [`Error::Exec`].
    fn exec(&self, request: &ExecRequest)
    -> impl Future<Output = Result<ExecOutput, Error>> + Send;

    /// `GET /v1/notices` with filters.
    fn notices(
        &self,
        query: &NoticesQuery,
    ) -> impl Future<Output = Result<Vec<Notice>, Error>> + Send;

    /// `GET /v1/notices/{id}`.
    fn notice(&self, id: &str) -> impl Future<Output = Result<Notice, Error>> + Send;

    /// Send a signal (`"SIGHUP"`, ...) to running services.
    fn send_signal(
        &self,
        signal: &str,
        services: &[&str],
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

impl Pebble for Client {
    async fn system_info(&self) -> Result<SystemInfo, Error> {
        Client::system_info(self).await
    }

    async fn plan(&self) -> Result<Plan, Error> {
        Client::plan(self).await
    }

    async fn add_layer(&self, label: &str, layer: &Layer, combine: bool) -> Result<(), Error> {
        Client::add_layer(self, label, layer, combine).await
    }

    async fn replan(&self) -> Result<(), Error> {
        Client::replan(self).await
    }

    async fn start(&self, services: &[&str]) -> Result<(), Error> {
        Client::start(self, services).await
    }

    async fn stop(&self, services: &[&str]) -> Result<(), Error> {
        Client::stop(self, services).await
    }

    async fn restart(&self, services: &[&str]) -> Result<(), Error> {
        Client::restart(self, services).await
    }

    async fn services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, Error> {
        Client::services(self, names).await
    }

    async fn checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, Error> {
        Client::checks(self, level, names).await
    }

    async fn push(&self, path: &str, content: &[u8], options: &PushOptions) -> Result<(), Error> {
        Client::push(self, path, content, options).await
    }

    async fn pull(&self, path: &str) -> Result<Vec<u8>, Error> {
        Client::pull(self, path).await
    }

    async fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, Error> {
        Client::list_files(self, path, pattern, itself).await
    }

    async fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), Error> {
        Client::make_dir(self, path, options).await
    }

    async fn remove_path(&self, path: &str, recursive: bool) -> Result<(), Error> {
        Client::remove_path(self, path, recursive).await
    }

    async fn exec(&self, request: &ExecRequest) -> Result<ExecOutput, Error> {
        Client::exec(self, request).await
    }

    async fn notices(&self, query: &NoticesQuery) -> Result<Vec<Notice>, Error> {
        Client::notices(self, query).await
    }

    async fn notice(&self, id: &str) -> Result<Notice, Error> {
        Client::notice(self, id).await
    }

    async fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), Error> {
        Client::send_signal(self, signal, services).await
    }
}
