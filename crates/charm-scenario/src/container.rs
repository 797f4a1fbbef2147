//! One workload container as its Pebble shows it: reachability, layers (in order, by
//! label), the services' run state (and the definition each was started with, so that a
//! replan restarts exactly what Pebble would), files, canned exec answers, check
//! statuses and notices.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use pebble_client::{CheckStatus, ExecRequest, Layer, Notice, Plan, Service, ServiceStatus};

use crate::layers::{LayerError, combine_layers};

/// A service's run state inside the fake Pebble.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRuntime {
    /// `active`, `inactive`, `backoff`, `error`.
    pub status: ServiceStatus,
    /// The plan's definition of the service when it was last started; a replan restarts
    /// the service when the plan's definition now differs.
    pub started_with: Option<Service>,
}

/// A file in the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Its bytes.
    pub content: Vec<u8>,
    /// Mode bits (Pebble's default for a push is `0o644`).
    pub permissions: u32,
    /// Owner name, when set.
    pub user: Option<String>,
    /// Owner UID, when set.
    pub user_id: Option<u32>,
    /// Group name, when set.
    pub group: Option<String>,
    /// Group GID, when set.
    pub group_id: Option<u32>,
}

impl FileEntry {
    /// A `0o644` file holding `content`, owner unset.
    pub fn new(content: impl Into<Vec<u8>>) -> Self {
        Self {
            content: content.into(),
            permissions: 0o644,
            user: None,
            user_id: None,
            group: None,
            group_id: None,
        }
    }
}

/// What a canned command returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecResult {
    /// The exit code (non-zero: the call fails with `Error::Exec`).
    pub exit_code: i32,
    /// stdout.
    pub stdout: Vec<u8>,
    /// stderr.
    pub stderr: Vec<u8>,
}

impl ExecResult {
    /// Exit 0 printing `stdout`.
    pub fn ok(stdout: impl Into<Vec<u8>>) -> Self {
        Self {
            exit_code: 0,
            stdout: stdout.into(),
            stderr: Vec::new(),
        }
    }

    /// Exit `exit_code` printing `stderr`.
    pub fn fail(exit_code: i32, stderr: impl Into<Vec<u8>>) -> Self {
        Self {
            exit_code,
            stdout: Vec::new(),
            stderr: stderr.into(),
        }
    }
}

/// A function computing a command's result from the whole request.
pub type ExecFn = Arc<dyn Fn(&ExecRequest) -> ExecResult + Send + Sync>;

/// How a command is answered.
#[derive(Clone)]
pub enum ExecResponse {
    /// Always the same result.
    Fixed(ExecResult),
    /// Computed from the request (its argv, environment, stdin ...).
    Dynamic(ExecFn),
}

impl fmt::Debug for ExecResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(result) => f.debug_tuple("Fixed").field(result).finish(),
            Self::Dynamic(_) => f.write_str("Dynamic(..)"),
        }
    }
}

impl PartialEq for ExecResponse {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Fixed(a), Self::Fixed(b)) => a == b,
            (Self::Dynamic(a), Self::Dynamic(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Answers commands whose argv starts with `prefix` (the longest matching prefix wins).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecHandler {
    /// The argv prefix, e.g. `["indico", "db"]`.
    pub prefix: Vec<String>,
    /// The answer.
    pub response: ExecResponse,
}

/// A check's status inside the fake Pebble (checks in the plan without one are `up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckRuntime {
    /// `up`, `down`, `inactive`.
    pub status: CheckStatus,
    /// Consecutive failures.
    pub failures: u32,
}

/// One workload container's Pebble.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// `false`: every Pebble call fails with `CannotConnect`.
    pub can_connect: bool,
    /// Layers in the order they were added, with their labels.
    pub layers: Vec<(String, Layer)>,
    /// Services' run state, by name (services of the plan not listed are inactive).
    pub services: BTreeMap<String, ServiceRuntime>,
    /// Files by absolute path.
    pub files: BTreeMap<String, FileEntry>,
    /// Directories by absolute path (`/` always exists; parents of files are implied).
    pub dirs: BTreeSet<String>,
    /// Canned command answers.
    pub execs: Vec<ExecHandler>,
    /// Checks' statuses by name.
    pub checks: BTreeMap<String, CheckRuntime>,
    /// Notices.
    pub notices: Vec<Notice>,
    /// `system-info`'s boot id.
    pub boot_id: String,
    /// Services whose process exits at once: starting them fails the change (as Pebble
    /// reports a service that exits within its first second) and leaves them in `error`.
    pub failing_services: BTreeSet<String>,
}

impl Default for Container {
    fn default() -> Self {
        Self {
            can_connect: true,
            layers: Vec::new(),
            services: BTreeMap::new(),
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            execs: Vec::new(),
            checks: BTreeMap::new(),
            notices: Vec::new(),
            boot_id: "00000000-0000-4000-8000-000000000001".to_owned(),
            failing_services: BTreeSet::new(),
        }
    }
}

impl Container {
    /// A reachable container with an empty plan.
    pub fn new() -> Self {
        Self::default()
    }

    /// A container whose Pebble cannot be reached.
    pub fn unreachable() -> Self {
        Self {
            can_connect: false,
            ..Self::default()
        }
    }

    /// With reachability set.
    pub fn with_can_connect(mut self, can_connect: bool) -> Self {
        self.can_connect = can_connect;
        self
    }

    /// With a layer appended under `label`.
    pub fn with_layer(mut self, label: impl Into<String>, layer: Layer) -> Self {
        self.layers.push((label.into(), layer));
        self
    }

    /// With a file at `path` (mode 0644).
    pub fn with_file(mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), FileEntry::new(content));
        self
    }

    /// With commands starting with `prefix` answered by `result`.
    pub fn with_exec<S: Into<String>>(
        mut self,
        prefix: impl IntoIterator<Item = S>,
        result: ExecResult,
    ) -> Self {
        self.execs.push(ExecHandler {
            prefix: prefix.into_iter().map(Into::into).collect(),
            response: ExecResponse::Fixed(result),
        });
        self
    }

    /// With commands starting with `prefix` answered by `answer(request)`.
    pub fn with_exec_fn<S: Into<String>>(
        mut self,
        prefix: impl IntoIterator<Item = S>,
        answer: impl Fn(&ExecRequest) -> ExecResult + Send + Sync + 'static,
    ) -> Self {
        self.execs.push(ExecHandler {
            prefix: prefix.into_iter().map(Into::into).collect(),
            response: ExecResponse::Dynamic(Arc::new(answer)),
        });
        self
    }

    /// With check `name` in status `status` after `failures` consecutive failures.
    pub fn with_check_status(
        mut self,
        name: impl Into<String>,
        status: CheckStatus,
        failures: u32,
    ) -> Self {
        self.checks
            .insert(name.into(), CheckRuntime { status, failures });
        self
    }

    /// With service `name` in status `status` (keeping what it was started with).
    pub fn with_service_status(mut self, name: impl Into<String>, status: ServiceStatus) -> Self {
        let name = name.into();
        let started_with = self
            .plan()
            .ok()
            .and_then(|p| p.services.get(&name).cloned());
        self.services
            .entry(name)
            .and_modify(|s| s.status = status)
            .or_insert(ServiceRuntime {
                status,
                started_with,
            });
        self
    }

    /// With service `name` exiting at once whenever it is started.
    pub fn with_failing_service(mut self, name: impl Into<String>) -> Self {
        self.failing_services.insert(name.into());
        self
    }

    /// With every `startup: enabled` service of the current plan running, started with
    /// its current definition (as after a replan).
    pub fn with_enabled_services_running(mut self) -> Self {
        if let Ok(plan) = self.plan() {
            for (name, service) in plan.services {
                if service.startup == Some(pebble_client::Startup::Enabled) {
                    self.services.insert(
                        name,
                        ServiceRuntime {
                            status: ServiceStatus::Active,
                            started_with: Some(service),
                        },
                    );
                }
            }
        }
        self
    }

    /// The combined plan of all layers, as Pebble computes it.
    pub fn plan(&self) -> Result<Plan, LayerError> {
        combine_layers(
            self.layers
                .iter()
                .map(|(label, layer)| (label.as_str(), layer)),
        )
    }

    /// Whether `path` is an existing directory (`/`, a declared one, or a parent of a
    /// file).
    pub fn is_dir(&self, path: &str) -> bool {
        let path = path.trim_end_matches('/');
        if path.is_empty() || self.dirs.contains(path) {
            return true;
        }
        let prefix = format!("{path}/");
        self.files.keys().any(|f| f.starts_with(&prefix))
            || self.dirs.iter().any(|d| d.starts_with(&prefix))
    }

    /// The service names currently running.
    pub fn running_services(&self) -> Vec<&str> {
        self.services
            .iter()
            .filter(|(_, s)| s.status == ServiceStatus::Active)
            .map(|(n, _)| n.as_str())
            .collect()
    }
}
