//! The layer model: services, checks and log targets exactly as Pebble v1.19.2's `plan.go`
//! defines them, serialised to and from the layer YAML.
//!
//! Field names are kebab-case, unset fields are `None` and left out of the YAML, and unknown
//! fields are rejected at every level, as Pebble does. [`Plan`](crate::Plan) reuses the same
//! service, check and log-target types for what `GET /v1/plan` returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::GoDuration;

/// One Pebble layer (`POST /v1/layers` sends it as YAML).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Layer {
    /// One-line summary of the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Longer description of the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Services by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, Service>,
    /// Health checks by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<String, Check>,
    /// Log forwarding targets by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_targets: BTreeMap<String, LogTarget>,
}

/// How an object in this layer combines with the same-named object of lower layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Override {
    /// Fields are merged into the lower object (lists appended, maps merged key by key).
    Merge,
    /// The lower object is replaced wholesale.
    Replace,
}

/// Whether `replan`/`autostart` start a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Startup {
    /// Started by `replan` and `autostart`.
    Enabled,
    /// Only started explicitly (Pebble's default for services).
    Disabled,
}

/// What Pebble does when a service exits or one of its checks fails.
///
/// `on-success` accepts `restart | shutdown | failure-shutdown | ignore`; `on-failure` and
/// `on-check-failure` accept `restart | shutdown | success-shutdown | ignore`. Pebble rejects a
/// value in the wrong field when the layer is added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceAction {
    /// Restart the service after the backoff delay (the default).
    Restart,
    /// Shut Pebble down (exit code reflects the service's outcome).
    Shutdown,
    /// Shut Pebble down with a failure exit code.
    FailureShutdown,
    /// Shut Pebble down with a success exit code.
    SuccessShutdown,
    /// Do nothing.
    Ignore,
}

/// A service of a layer (Pebble's `plan.Service`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Service {
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether replan/autostart start it (default disabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<Startup>,
    /// Required in every layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#override: Option<Override>,
    /// Command line, shlex-split by Pebble (no shell); `[ ... ]` holds default arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Start after these services (ordering only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Start before these services (ordering only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before: Vec<String>,
    /// Services started with this one and stopped before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Extra environment, on top of Pebble's own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Run as this UID (must agree with `user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u32>,
    /// Run as this user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Run with this GID (needs a user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u32>,
    /// Run with this group name (needs a user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Working directory of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Action when the service exits with code 0 (default restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<ServiceAction>,
    /// Action when the service exits non-zero (default restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<ServiceAction>,
    /// Action per check when that check goes down.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub on_check_failure: BTreeMap<String, ServiceAction>,
    /// First restart delay (default 500ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_delay: Option<GoDuration>,
    /// Multiplier applied to the delay after each restart (default 2.0, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_factor: Option<f64>,
    /// Upper bound of the restart delay (default 30s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_limit: Option<GoDuration>,
    /// Grace time between SIGTERM and SIGKILL on stop (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_delay: Option<GoDuration>,
    /// Workload this service belongs to (Pebble v1.20+ only; v1.19.2 rejects it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

/// Which health level a check contributes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckLevel {
    /// Liveness (`/v1/health?level=alive`).
    Alive,
    /// Readiness (`/v1/health?level=ready`, which includes alive checks).
    Ready,
}

impl CheckLevel {
    /// The wire value (`alive` / `ready`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alive => "alive",
            Self::Ready => "ready",
        }
    }
}

/// A health check of a layer (Pebble's `plan.Check`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Check {
    /// Required in every layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#override: Option<Override>,
    /// Health level this check feeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<CheckLevel>,
    /// Whether replan starts the check (default enabled; Pebble v1.19+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<Startup>,
    /// Time between runs (default 10s, not zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<GoDuration>,
    /// Time limit of one run (default 3s, capped to the period, not zero).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<GoDuration>,
    /// Consecutive failures before the check is down (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    /// HTTP GET check (success is a 2xx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpCheck>,
    /// TCP connect check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheck>,
    /// Command check (success is exit code 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecCheck>,
}

/// `http:` of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HttpCheck {
    /// URL to GET (required in the combined plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Extra request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// `tcp:` of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TcpCheck {
    /// Port to connect to (required in the combined plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Host to connect to (default `localhost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// `exec:` of a check.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExecCheck {
    /// Command line (shlex-split, required in the combined plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Inherit environment, user, group and working dir from this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_context: Option<String>,
    /// Extra environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Run as this UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u32>,
    /// Run as this user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Run with this GID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u32>,
    /// Run with this group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
}

/// Kind of log forwarding target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogTargetType {
    /// Grafana Loki push API.
    Loki,
    /// Syslog over TCP.
    Syslog,
    /// OpenTelemetry (Pebble v1.24+ only).
    Opentelemetry,
}

/// A log forwarding target of a layer (Pebble's `plan.LogTarget`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LogTarget {
    /// Required in every layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#override: Option<Override>,
    /// Target kind (required in the combined plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<LogTargetType>,
    /// Target URL (required in the combined plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Services whose logs go there: names, `all`, `-name`, `-all` (later entries win).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Labels attached to every entry (keys must not start with `pebble_`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A layer's YAML could not be produced or read.
#[derive(Debug, thiserror::Error)]
#[error("invalid layer YAML: {0}")]
pub struct LayerYamlError(#[from] serde_yaml::Error);

impl Layer {
    /// Parses layer YAML, rejecting unknown fields as Pebble does.
    pub fn from_yaml(text: &str) -> Result<Self, LayerYamlError> {
        Ok(serde_yaml::from_str(text)?)
    }

    /// Renders the layer as the YAML `POST /v1/layers` sends.
    pub fn to_yaml(&self) -> Result<String, LayerYamlError> {
        Ok(serde_yaml::to_string(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
summary: indico
description: the whole schema
services:
  web:
    summary: s
    description: d
    startup: enabled
    override: replace
    command: /bin/web --port 8080 [ --verbose ]
    after: [db]
    before: [cron]
    requires: [db]
    environment: {A: "1"}
    user-id: 1000
    user: indico
    group-id: 1000
    group: indico
    working-dir: /srv
    on-success: ignore
    on-failure: restart
    on-check-failure: {up: restart}
    backoff-delay: 60s
    backoff-factor: 1.5
    backoff-limit: 2m
    kill-delay: 10s
checks:
  up:
    override: merge
    level: ready
    startup: disabled
    period: 5s
    timeout: 1s
    threshold: 2
    http: {url: "http://localhost:8080/", headers: {X: y}}
  port:
    override: replace
    tcp: {port: 8080, host: 127.0.0.1}
  cmd:
    override: replace
    exec:
      command: /bin/true
      service-context: web
      environment: {B: "2"}
      user-id: 0
      user: root
      group-id: 0
      group: root
      working-dir: /
log-targets:
  loki:
    override: replace
    type: loki
    location: http://loki:3100/loki/api/v1/push
    services: [all, -web]
    labels: {unit: indico-0}
"#;

    #[test]
    fn every_field_round_trips_through_yaml() {
        let layer = Layer::from_yaml(FULL).unwrap();
        let web = &layer.services["web"];
        assert_eq!(web.kill_delay, Some(GoDuration::from_secs(10)));
        assert_eq!(web.backoff_factor, Some(1.5));
        assert_eq!(web.on_check_failure["up"], ServiceAction::Restart);
        assert_eq!(layer.checks["port"].tcp.as_ref().unwrap().port, Some(8080));
        assert_eq!(layer.log_targets["loki"].r#type, Some(LogTargetType::Loki));
        let yaml = layer.to_yaml().unwrap();
        assert!(yaml.contains("backoff-delay: 1m0s"), "{yaml}");
        assert!(yaml.contains("log-targets:"), "{yaml}");
        assert_eq!(Layer::from_yaml(&yaml).unwrap(), layer);
    }

    #[test]
    fn unset_fields_are_left_out() {
        let mut layer = Layer::default();
        layer.services.insert(
            "s".into(),
            Service {
                r#override: Some(Override::Replace),
                command: Some("sleep 1".into()),
                ..Service::default()
            },
        );
        let yaml = layer.to_yaml().unwrap();
        assert_eq!(
            yaml,
            "services:\n  s:\n    override: replace\n    command: sleep 1\n"
        );
    }

    #[test]
    fn unknown_fields_are_rejected_at_every_level() {
        for bad in [
            "bogus: 1",
            "services: {s: {override: replace, bogus: 1}}",
            "checks: {c: {override: replace, http: {url: x, bogus: 1}}}",
            "log-targets: {l: {override: replace, bogus: 1}}",
            "services: {s: {override: sideways}}",
        ] {
            let err = Layer::from_yaml(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid layer YAML"), "{bad}: {err}");
        }
    }
}
