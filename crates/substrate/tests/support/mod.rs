//! What the pod end-to-end tests share: running the substrate's command line from the
//! repository root, and deploying the charm under test.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where the Dockerfiles are).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Runs `indico-substrate <args>` from the repository root, with quick hook retries.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_indico-substrate"))
        .args(args)
        .current_dir(repo_root())
        .env("INDICO_SUBSTRATE_RETRY_MIN", "1")
        .output()
        .expect("indico-substrate runs")
}

/// [`cli`] that must succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Deploys the charm under test as `app`: the unpacked `.charm` in `$INDICO_CHARM_DIR`
/// when set (deployed as Juju would, its own `dispatch` and YAML; the images still come
/// from this repository's Dockerfiles), else this repository with the release binary
/// (`$INDICO_CHARM_BINARY`, or built here).
pub fn deploy_charm(app: &str) {
    let repo = repo_root();
    match std::env::var_os("INDICO_CHARM_DIR") {
        Some(charm_dir) => {
            let charm_dir = PathBuf::from(charm_dir);
            assert!(
                charm_dir.join("dispatch").is_file() && charm_dir.join("manifest.yaml").is_file(),
                "INDICO_CHARM_DIR={} is not an unpacked .charm",
                charm_dir.display()
            );
            ok(&[
                "deploy",
                charm_dir.to_str().expect("a UTF-8 path"),
                app,
                "--repo",
                repo.to_str().expect("a UTF-8 path"),
            ]);
        }
        None => {
            let binary = charm_binary(&repo);
            ok(&[
                "deploy",
                ".",
                app,
                "--binary",
                binary.to_str().expect("a UTF-8 path"),
            ]);
        }
    }
}

fn charm_binary(repo: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("INDICO_CHARM_BINARY") {
        return PathBuf::from(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "indico-charm",
            "--bin",
            "indico-charm",
        ])
        .current_dir(repo)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the charm failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo.join("target"), PathBuf::from)
        .join("release")
        .join("indico-charm")
}

// ---- Shared by the fault and security suites (`pod_faults`, `pod_security`). ----

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indico_substrate::engine::Engine;
use indico_substrate::model::{Model, Unit};

/// The workload containers of an Indico unit.
pub const WORKLOADS: [&str; 4] = [
    "indico",
    "indico-celery",
    "indico-nginx",
    "nginx-prometheus-exporter",
];

/// [`cli`] with extra environment for the command (and for the controller it starts, which
/// inherits it: e.g. `INDICO_SUBSTRATE_UPDATE_STATUS`).
pub fn cli_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_indico-substrate"))
        .args(args)
        .current_dir(repo_root())
        .env("INDICO_SUBSTRATE_RETRY_MIN", "1")
        .envs(env.iter().copied())
        .output()
        .expect("indico-substrate runs")
}

/// The substrate's state directory (`$INDICO_SUBSTRATE_DIR` or the default).
pub fn state_dir() -> PathBuf {
    indico_substrate::engine::StateDir::default_path()
}

/// The podman engine of that state directory (its private image store and network).
pub fn engine() -> Engine {
    Engine::open(&state_dir()).expect("the substrate engine opens")
}

/// What `status`, `pods` and `debug-log` say, for a failure message.
pub fn diagnosis() -> String {
    let status = cli(&["status"]);
    let pods = cli(&["pods"]);
    let log = cli(&["debug-log", "-n", "40"]);
    format!(
        "status:\n{}\npods:\n{}\ndebug-log (last 40 lines):\n{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&pods.stdout),
        String::from_utf8_lossy(&log.stdout)
    )
}

/// A unit as the persisted model has it (`None` while the model is being rewritten or the
/// unit does not exist).
pub fn unit_record(name: &str) -> Option<Unit> {
    let model = Model::load(&state_dir().join("model.json")).ok()?;
    let (app, _) = name.split_once('/')?;
    model
        .applications
        .get(app)?
        .units
        .values()
        .find(|u| u.name == name)
        .cloned()
}

/// The unit's pod address (fails with the diagnosis when it has none).
pub fn unit_address(name: &str) -> String {
    unit_record(name)
        .and_then(|u| u.address)
        .unwrap_or_else(|| panic!("{name} has no address\n{}", diagnosis()))
}

/// The unit's workload status, message and agent status.
pub fn workload_status(name: &str) -> Option<(String, String, String)> {
    unit_record(name).map(|u| {
        (
            u.workload.current.status,
            u.workload.current.message,
            u.agent.current.status,
        )
    })
}

/// The debug log's length in bytes now (an offset for [`debug_log_since`]).
pub fn debug_log_len() -> u64 {
    std::fs::metadata(state_dir().join("debug.log")).map_or(0, |m| m.len())
}

/// The debug log written since `offset` (bytes).
pub fn debug_log_since(offset: u64) -> String {
    let text = std::fs::read(state_dir().join("debug.log")).unwrap_or_default();
    let from = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    String::from_utf8_lossy(&text[from..]).into_owned()
}

/// Polls `done` every half second until it holds or `limit` passes (then fails naming
/// `what`, with the diagnosis); returns the seconds it took and prints them.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> f64 {
    let start = Instant::now();
    loop {
        if done() {
            let took = start.elapsed().as_secs_f64();
            println!("  {what}: {took:.1} s");
            return took;
        }
        if start.elapsed() > limit {
            panic!("not {what} within {} s\n{}", limit.as_secs(), diagnosis());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// [`wait_until`] that returns what it waited for, with the diagnosis, instead of failing
/// (for a suite that goes on to its other checks and fails at the end).
pub fn try_wait_until(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) -> Result<f64, String> {
    let start = Instant::now();
    loop {
        if done() {
            let took = start.elapsed().as_secs_f64();
            println!("  {what}: {took:.1} s");
            return Ok(took);
        }
        if start.elapsed() > limit {
            let failure = format!("not {what} within {} s\n{}", limit.as_secs(), diagnosis());
            println!("  FAILED: {failure}");
            return Err(failure);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Waits (up to `limit`) until `unit` shows workload `status` with a message that
/// `message` accepts, and its agent is idle.
pub fn wait_status(
    unit: &str,
    status: &str,
    what: &str,
    limit: Duration,
    message: impl Fn(&str) -> bool,
) -> f64 {
    wait_until(&format!("{unit} {status} ({what})"), limit, || {
        workload_status(unit)
            .is_some_and(|(s, m, agent)| s == status && message(&m) && agent == "idle")
    })
}

/// Waits (up to `limit`) until `unit` is active with no message and its agent idle.
pub fn wait_active_within(unit: &str, limit: Duration) -> f64 {
    wait_status(unit, "active", "no message", limit, str::is_empty)
}

/// The podman name of `container` in `unit`'s pod.
pub fn container_name(unit: &str, container: &str) -> String {
    format!("{}-{container}", unit.replace('/', "-"))
}

/// The Pebble client of one workload container of a unit, on the host-side socket.
pub fn pebble(unit: &str, container: &str) -> pebble_client::Client {
    let socket = state_dir()
        .join("units")
        .join(unit.replace('/', "-"))
        .join("containers")
        .join(container)
        .join("pebble.socket");
    pebble_client::Client::new(socket)
        .expect("a Pebble client on a socket path")
        .with_request_timeout(Duration::from_secs(10))
}

/// Runs `future` on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// The Pebble plan of a workload container, or `None` while its Pebble does not answer.
pub fn try_plan(unit: &str, container: &str) -> Option<pebble_client::Plan> {
    block_on(pebble(unit, container).plan()).ok()
}

/// The plans of every workload container of `unit` (fails if one does not answer).
pub fn plans(unit: &str) -> BTreeMap<String, pebble_client::Plan> {
    WORKLOADS
        .iter()
        .map(|c| {
            let plan = try_plan(unit, c)
                .unwrap_or_else(|| panic!("{unit} {c}: Pebble does not answer\n{}", diagnosis()));
            ((*c).to_owned(), plan)
        })
        .collect()
}

/// One variable of one service's environment in the container's plan.
pub fn service_env(unit: &str, container: &str, service: &str, key: &str) -> Option<String> {
    try_plan(unit, container)?
        .services
        .get(service)?
        .environment
        .get(key)
        .cloned()
}

/// The Pebble boot id of a workload container, or `None` while it does not answer.
pub fn boot_id(unit: &str, container: &str) -> Option<String> {
    block_on(pebble(unit, container).system_info())
        .ok()
        .map(|i| i.boot_id)
}

/// A service's `current` status and `current-since`, as its container's Pebble reports it.
pub fn service_state(unit: &str, container: &str, service: &str) -> Option<(String, String)> {
    let services = block_on(pebble(unit, container).services(&[service])).ok()?;
    let info = services.into_iter().find(|s| s.name == service)?;
    Some((
        format!("{:?}", info.current).to_lowercase(),
        info.current_since.unwrap_or_default(),
    ))
}

/// A process of a container as the host sees it.
#[derive(Debug, Clone)]
pub struct ContainerProcess {
    /// The pid in the container's namespace.
    pub pid: u32,
    /// The parent's pid in the container's namespace.
    pub ppid: u32,
    /// The pid on the host (what `kill` on the host takes).
    pub host_pid: u32,
    /// The command line.
    pub args: String,
}

/// The processes of a podman container (`podman top pid ppid hpid args`); empty while the
/// container is not running.
pub fn container_processes(container: &str) -> Vec<ContainerProcess> {
    let Ok(out) = engine()
        .podman()
        .run(["top", container, "pid", "ppid", "hpid", "args"])
    else {
        return Vec::new();
    };
    out.stdout
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let pid = words.next()?.parse().ok()?;
            let ppid = words.next()?.parse().ok()?;
            let host_pid = words.next()?.parse().ok()?;
            let args = words.collect::<Vec<_>>().join(" ");
            Some(ContainerProcess {
                pid,
                ppid,
                host_pid,
                args,
            })
        })
        .collect()
}

/// The host pid of a container's PID 1, or `None` while it is not running.
pub fn container_init_pid(container: &str) -> Option<u32> {
    let out = engine()
        .podman()
        .run(["inspect", "--format", "{{.State.Pid}}", container])
        .ok()?;
    out.stdout.trim().parse().ok().filter(|pid| *pid > 0)
}

/// How often podman restarted a container.
pub fn container_restarts(container: &str) -> u64 {
    engine()
        .podman()
        .run(["inspect", "--format", "{{.RestartCount}}", container])
        .ok()
        .and_then(|o| o.stdout.trim().parse().ok())
        .unwrap_or(0)
}

/// Sends `signal` (e.g. `KILL`, `STOP`, `CONT`) to a host pid.
pub fn signal(host_pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), host_pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {host_pid} failed");
}

/// Runs a command in a container of the substrate (its stdout; fails on a non-zero exit).
pub fn exec_in(container: &str, command: &[&str]) -> String {
    let mut args = vec!["exec", container];
    args.extend_from_slice(command);
    match engine().podman().run(args) {
        Ok(out) => out.stdout,
        Err(e) => panic!("podman exec {container} {command:?}: {e}"),
    }
}

/// Deploys the charm as `app` with PostgreSQL `pg` and Redis `broker` and `cache`, related.
/// `env` goes to the first command, which starts the controller when none runs.
pub fn deploy_stack(app: &str, pg: &str, broker: &str, cache: &str, env: &[(&str, &str)]) {
    let first = cli_env(&["deploy", "postgresql", pg], env);
    assert!(
        first.status.success(),
        "deploy postgresql: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    ok(&["deploy", "redis", broker]);
    ok(&["deploy", "redis", cache]);
    deploy_charm(app);
    ok(&["integrate", app, pg]);
    ok(&["integrate", &format!("{app}:redis-broker"), broker]);
    ok(&["integrate", &format!("{app}:redis-cache"), cache]);
}

/// Removes a test's applications when dropped (and the controller, when the test started
/// it).
pub struct Teardown {
    /// Whether the test started the controller (then `down`).
    pub started_controller: bool,
    /// The applications to remove otherwise.
    pub apps: Vec<String>,
}

impl Teardown {
    /// Notes whether a controller runs now, before the test deploys anything.
    pub fn new(apps: &[&str]) -> Self {
        Self {
            started_controller: !indico_substrate::cli::api::is_running(&state_dir()),
            apps: apps.iter().map(|a| (*a).to_owned()).collect(),
        }
    }
}

impl Drop for Teardown {
    fn drop(&mut self) {
        if self.started_controller {
            let _ = cli(&["down"]);
            return;
        }
        for app in &self.apps {
            let _ = cli(&["remove", app]);
        }
    }
}

/// The `Location` header of a response (empty when there is none).
pub fn location(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Cookies by name, as a browser keeps them for one site. The tests address a pod by its IP
/// and name the site in the Host header, so reqwest's own cookie store (which files cookies
/// under the URL's host) would not send them back.
#[derive(Default)]
pub struct Jar(BTreeMap<String, String>);

impl Jar {
    /// Keeps the cookies a response sets.
    pub fn take(&mut self, response: &reqwest::blocking::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, v)) = pair.split_once('=') {
                self.0.insert(name.trim().to_owned(), v.trim().to_owned());
            }
        }
    }

    /// The `Cookie` header that sends them all.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
