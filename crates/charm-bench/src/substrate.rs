//! Driving the local substrate: `indico-substrate deploy` as a command (it stages the
//! charm, builds missing images and starts the controller), everything else through the
//! controller's socket API in process (so an action's password never reaches an argv),
//! and the persisted model for statuses and addresses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use indico_substrate::cli::api::{self, Request, Response};
use indico_substrate::engine::{Engine, StateDir};
use indico_substrate::model::{ActionRecord, Model, Unit};

use crate::BenchError;

/// The charm's application and unit.
pub const APP: &str = "indico";
/// The unit measured.
pub const UNIT: &str = "indico/0";
/// Its number in the application.
const UNIT_NUMBER: u32 = 0;
/// Its pod.
pub const POD: &str = "indico-0";
/// The backends and the charm endpoints they serve (as `indico-substrate up` deploys them).
pub const BACKENDS: [(&str, &str, &str); 3] = [
    ("postgresql", "postgresql", "database"),
    ("redis", "redis-broker", "redis-broker"),
    ("redis", "redis-cache", "redis-cache"),
];
/// The environment variable the controller reads for the update-status period (seconds).
pub const UPDATE_STATUS_ENV: &str = "INDICO_SUBSTRATE_UPDATE_STATUS";

/// One substrate state directory and the binaries that drive it.
#[derive(Debug, Clone)]
pub struct Substrate {
    /// `indico-substrate`.
    pub cli: PathBuf,
    /// The state directory (`INDICO_SUBSTRATE_DIR`).
    pub state_dir: PathBuf,
    /// The charm repository (Dockerfiles, metadata).
    pub repo: PathBuf,
    /// The update-status period given to a controller this bench starts.
    pub update_status_seconds: u64,
}

impl Substrate {
    fn cli_command(&self) -> Command {
        let mut command = Command::new(&self.cli);
        command
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env(UPDATE_STATUS_ENV, self.update_status_seconds.to_string());
        command
    }

    /// Runs the CLI with `args` (none of them secret); returns its stdout.
    pub fn run_cli(&self, args: &[&str]) -> Result<String, BenchError> {
        let output = self
            .cli_command()
            .args(args)
            .output()
            .map_err(|e| BenchError::io("run", &self.cli, e))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
            return Err(BenchError::Command {
                command: format!("indico-substrate {}", args.join(" ")),
                detail: format!(
                    "{}: {}",
                    output.status,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Removes everything (the model, pods, the backends' databases and servers).
    pub fn down(&self) -> Result<(), BenchError> {
        self.run_cli(&["down"]).map(|_| ())
    }

    /// Builds the base and workload images when missing (content-hashed: cached runs are
    /// quick), so that the cold deploy is timed without image builds.
    pub fn build_images(&self) -> Result<(), BenchError> {
        let repo = self.repo.to_string_lossy().into_owned();
        self.run_cli(&["build-images", "--repo", &repo]).map(|_| ())
    }

    /// Deploys the charm with `dispatch` as its dispatch binary.
    pub fn deploy_charm(&self, dispatch: &Path) -> Result<(), BenchError> {
        let repo = self.repo.to_string_lossy().into_owned();
        let binary = dispatch.to_string_lossy().into_owned();
        self.run_cli(&["deploy", &repo, APP, "--repo", &repo, "--binary", &binary])
            .map(|_| ())
    }

    /// Deploys the three backends and integrates each with the charm.
    pub fn deploy_backends(&self) -> Result<(), BenchError> {
        for (provider, app, endpoint) in BACKENDS {
            self.run_cli(&["deploy", provider, app])?;
            self.request(&Request::Integrate {
                a: format!("{APP}:{endpoint}"),
                b: app.to_owned(),
            })?;
        }
        Ok(())
    }

    /// Sends one request to the controller; an error answer is an error.
    pub fn request(&self, request: &Request) -> Result<Response, BenchError> {
        let what = format!("{request:?}");
        let what = what
            .split([' ', '{'])
            .next()
            .unwrap_or("request")
            .to_owned();
        let response = api::send(&self.state_dir, request, Duration::from_secs(900))
            .map_err(|e| BenchError::io("talk to the controller in", &self.state_dir, e))?;
        match response {
            Response::Error { message } => Err(BenchError::Command {
                command: format!("controller {what}"),
                detail: message,
            }),
            other => Ok(other),
        }
    }

    /// Sets `key=value` on the charm.
    pub fn config_set(&self, key: &str, value: &str) -> Result<(), BenchError> {
        let values = BTreeMap::from([(key.to_owned(), value.to_owned())]);
        self.request(&Request::ConfigSet {
            app: APP.into(),
            values,
        })
        .map(|_| ())
    }

    /// Resets `key` to its default.
    pub fn config_reset(&self, key: &str) -> Result<(), BenchError> {
        self.request(&Request::ConfigReset {
            app: APP.into(),
            keys: vec![key.to_owned()],
        })
        .map(|_| ())
    }

    /// Runs an action and waits for its record; a failed action is an error.
    pub fn run_action(
        &self,
        action: &str,
        params: BTreeMap<String, String>,
    ) -> Result<ActionRecord, BenchError> {
        let response = self.request(&Request::Run {
            unit: UNIT.into(),
            action: action.into(),
            params,
            wait_seconds: 600,
        })?;
        match response {
            Response::Action { action: record } if record.status == "completed" => Ok(record),
            Response::Action { action: record } => Err(BenchError::Command {
                command: format!("action {action}"),
                detail: format!("{}: {}", record.status, record.message),
            }),
            other => Err(BenchError::Malformed {
                what: format!("the answer to action {action}"),
                detail: format!("{other:?}"),
            }),
        }
    }

    /// The persisted model.
    pub fn model(&self) -> Result<Model, BenchError> {
        Ok(Model::load(&self.state_dir.join("model.json"))?)
    }

    /// The measured unit as the model has it now (`None`: not deployed).
    pub fn unit(&self) -> Result<Option<Unit>, BenchError> {
        let model = self.model()?;
        Ok(model
            .applications
            .get(APP)
            .and_then(|a| a.units.get(&UNIT_NUMBER))
            .cloned())
    }

    /// Waits until the unit's workload is active and its agent idle; returns its address.
    pub fn wait_active_idle(&self, timeout: Duration) -> Result<String, BenchError> {
        let start = Instant::now();
        loop {
            if let Some(unit) = self.unit()?
                && unit.workload.current.status == "active"
                && unit.agent.current.status == "idle"
                && let Some(address) = unit.address
            {
                return Ok(address);
            }
            if start.elapsed() > timeout {
                let last = self
                    .unit()?
                    .map(|u| {
                        format!(
                            "{} {} | agent {}",
                            u.workload.current.status,
                            u.workload.current.message,
                            u.agent.current.status
                        )
                    })
                    .unwrap_or_else(|| "not deployed".into());
                return Err(BenchError::Timeout {
                    what: format!("{UNIT} active and idle (last: {last})"),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The unit's `/charm/containers` directory on this host.
    pub fn unit_containers_dir(&self) -> PathBuf {
        StateDir::new(self.state_dir.clone()).unit_containers_dir(POD)
    }

    /// The unit agent's hook-tool socket on this host.
    pub fn agent_socket(&self) -> PathBuf {
        self.unit_containers_dir()
            .join(".juju-agent")
            .join("agent.socket")
    }

    /// The PID of the pod's charm container (its network namespace is the pod's).
    pub fn pod_netns_pid(&self) -> Result<u32, BenchError> {
        let engine = Engine::open(&self.state_dir)?;
        let container = format!("{POD}-charm");
        let out =
            engine
                .podman()
                .run(["inspect", "--format", "{{.State.Pid}}", container.as_str()])?;
        out.stdout
            .trim()
            .parse()
            .map_err(|e| BenchError::Malformed {
                what: format!("the PID of {container}"),
                detail: format!("{:?}: {e}", out.stdout.trim()),
            })
    }

    /// Restarts the pod's workload containers (Pebble and every service start afresh).
    pub fn restart_workloads(&self) -> Result<(), BenchError> {
        let engine = Engine::open(&self.state_dir)?;
        let names: Vec<String> = [
            "indico",
            "indico-celery",
            "indico-nginx",
            "nginx-prometheus-exporter",
        ]
        .iter()
        .map(|c| format!("{POD}-{c}"))
        .collect();
        let mut args = vec!["restart", "--time", "10"];
        args.extend(names.iter().map(String::as_str));
        engine.podman().run(args)?;
        Ok(())
    }

    /// A file in the workload container `container` of the pod (a static asset to fetch).
    pub fn exec_in(&self, container: &str, script: &str) -> Result<String, BenchError> {
        let engine = Engine::open(&self.state_dir)?;
        let name = format!("{POD}-{container}");
        Ok(engine
            .podman()
            .run(["exec", name.as_str(), "sh", "-c", script])?
            .stdout)
    }
}
