//! `indico-substrate`: a command line that reads like Juju and kubectl.
//!
//! Model commands (`deploy`, `integrate`, `remove-relation`, `config`, `run`, `scale`,
//! `remove`, `fault`, `down`) talk to the controller over its socket ([`api`]); `deploy`
//! starts the controller in the background when none runs ([`daemon`]). `status`,
//! `config <app>` and `debug-log` read the persisted model and log; `pods` asks podman.
//! The engine's commands (`env`, `build-images`, `pod-up`, `pod-down`, `purge`) are
//! kept as they were.
//!
//! Errors print `ERROR <message>` on stderr: exit 2 for bad usage, 1 otherwise.

pub mod api;
mod charm_source;
pub mod daemon;
mod engine_commands;
mod pods;
mod status;
mod up;

use std::collections::BTreeMap;
use std::io::{BufRead, Seek};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use crate::engine::{BASE_IMAGE, Engine, EngineError, StateDir};
use crate::model::{Model, ModelError};
use api::{Request, Response, Runtime};

pub use charm_source::stage as stage_charm;
pub use pods::{PodRow, render as render_pods};
pub use status::render as render_status;

/// What went wrong in a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The model refused.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The agent layer failed.
    #[error(transparent)]
    Agent(#[from] crate::agent::AgentError),
    /// A file operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The controller said no.
    #[error("{0}")]
    Controller(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Local substrate for the Indico charm: a Juju-like model of podman pods with real Pebble.
#[derive(Debug, Parser)]
#[command(version, name = "indico-substrate")]
struct Cli {
    /// State directory (default: $INDICO_SUBSTRATE_DIR or /var/lib/indico-substrate).
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Deploy Indico with PostgreSQL and both Redis from this repository, wait until it is
    /// active and print where it answers (prepares the host and builds what is missing).
    Up {
        /// This repository.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Seconds to wait for the unit to become active.
        #[arg(long, default_value_t = 1200)]
        wait: u64,
    },
    /// Run the controller in the foreground (deploy starts one in the background).
    Controller,
    /// Deploy a charm directory (N units), or a remote application: postgresql, redis.
    Deploy {
        /// A charm directory (e.g. `.` for this repository), `postgresql` or `redis`.
        charm: String,
        /// The application name (default: the charm's name, or the provider's).
        app: Option<String>,
        /// Number of units.
        #[arg(short = 'n', long = "num-units", default_value_t = 1)]
        units: u32,
        /// Run the charm as host processes, without pods (charms without workloads).
        #[arg(long)]
        local: bool,
        /// Where the Dockerfiles are (default: the charm directory).
        #[arg(long)]
        repo: Option<PathBuf>,
        /// The charm binary to use as dispatch (default: the charm's release build).
        #[arg(long)]
        binary: Option<PathBuf>,
    },
    /// Relate two applications (`app` or `app:endpoint`).
    Integrate {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Remove the relation between two applications.
    RemoveRelation {
        /// One side.
        a: String,
        /// The other side.
        b: String,
    },
    /// Show config (`config APP [KEY]`), set it (`config APP k=v ...`) or reset it.
    Config {
        /// The application.
        app: String,
        /// A key to show, or key=value pairs to set.
        args: Vec<String>,
        /// Options to reset to their defaults (comma-separated).
        #[arg(long, value_delimiter = ',')]
        reset: Vec<String>,
    },
    /// Run an action on a unit and show its results: `run indico/0 add-admin email=...`.
    Run {
        /// The unit.
        unit: String,
        /// The action.
        action: String,
        /// Parameters as key=value.
        params: Vec<String>,
        /// Do not wait for the result.
        #[arg(long)]
        background: bool,
        /// How long to wait, in seconds.
        #[arg(long, default_value_t = 600)]
        wait: u64,
    },
    /// Show applications, units and integrations.
    Status,
    /// Change an application's number of units.
    Scale {
        /// The application.
        app: String,
        /// Units wanted.
        units: u32,
    },
    /// Remove an application.
    Remove {
        /// The application.
        app: String,
    },
    /// Show the debug log (hooks, tool logs, charm output).
    DebugLog {
        /// How many lines of history.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        /// Keep printing new lines.
        #[arg(long)]
        follow: bool,
        /// Only lines of this unit (e.g. indico/0) or application.
        #[arg(long)]
        include: Option<String>,
    },
    /// List the units' pods like kubectl: NAME READY STATUS RESTARTS AGE.
    Pods,
    /// Make the next call(s) of a hook tool fail with exit code 1 (fault injection).
    Fault {
        /// The tool, e.g. relation-get.
        tool: String,
        /// Only calls made by this unit.
        #[arg(long)]
        unit: Option<String>,
        /// How many calls fail.
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// Remove every application, stop the controller and forget the model.
    Down,
    /// Write the engine configuration and print the environment podman needs.
    Env,
    /// Make the base image (if missing) and build the workload images (if changed).
    BuildImages {
        /// The charm repository (where indico.Dockerfile is).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Bring up a unit's pod from the current images (no agent).
    PodUp {
        /// Unit, e.g. indico/0.
        unit: String,
        /// The charm repository.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Remove a unit's pod and its directories.
    PodDown {
        /// Unit, e.g. indico/0.
        unit: String,
    },
    /// Remove every substrate pod and the substrate network (images stay).
    Purge,
}

/// Runs the command line; the binary's `main`.
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ERROR {err}");
            match err {
                CliError::Usage(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn run(cli: Cli) -> Result<(), CliError> {
    let state_dir = cli.state_dir.clone().unwrap_or_else(StateDir::default_path);
    std::fs::create_dir_all(&state_dir).map_err(|e| CliError::io("create", &state_dir, e))?;
    let engine = || Engine::open(&state_dir);
    match cli.command {
        Cmd::Up { repo, wait } => up::up(&state_dir, &repo, Duration::from_secs(wait)),
        Cmd::Controller => daemon::run(&state_dir),
        Cmd::Deploy {
            charm,
            app,
            units,
            local,
            repo,
            binary,
        } => deploy(
            &state_dir,
            &charm,
            app,
            units,
            local,
            repo,
            binary.as_deref(),
        ),
        Cmd::Integrate { a, b } => command(&state_dir, Request::Integrate { a, b }),
        Cmd::RemoveRelation { a, b } => command(&state_dir, Request::RemoveRelation { a, b }),
        Cmd::Config { app, args, reset } => config(&state_dir, app, args, reset),
        Cmd::Run {
            unit,
            action,
            params,
            background,
            wait,
        } => run_action(&state_dir, unit, action, &params, background, wait),
        Cmd::Status => {
            let model = load_model(&state_dir)?;
            let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
            print!("{}", status::render(&model, now.get(11..).unwrap_or(&now)));
            Ok(())
        }
        Cmd::Scale { app, units } => command(&state_dir, Request::Scale { app, units }),
        Cmd::Remove { app } => command(&state_dir, Request::Remove { app }),
        Cmd::DebugLog {
            lines,
            follow,
            include,
        } => debug_log(&state_dir, lines, follow, include.as_deref()),
        Cmd::Pods => {
            print!("{}", pods::render(&pods::gather(&engine()?)?));
            Ok(())
        }
        Cmd::Fault { tool, unit, count } => {
            command(&state_dir, Request::Fault { tool, unit, count })
        }
        Cmd::Down => down(&state_dir),
        Cmd::Env => {
            engine_commands::env(&engine()?);
            Ok(())
        }
        Cmd::BuildImages { repo } => engine_commands::build_images_command(&engine()?, &repo),
        Cmd::PodUp { unit, repo } => engine_commands::pod_up(&engine()?, &unit, &repo),
        Cmd::PodDown { unit } => engine_commands::pod_down(&engine()?, &unit),
        Cmd::Purge => engine_commands::purge(&engine()?),
    }
}

fn model_path(state_dir: &Path) -> PathBuf {
    state_dir.join("model.json")
}

fn load_model(state_dir: &Path) -> Result<Model, CliError> {
    let path = model_path(state_dir);
    if !path.exists() {
        return Err(CliError::Usage(format!(
            "no model in {}: deploy something first",
            state_dir.display()
        )));
    }
    Ok(Model::load(&path)?)
}

/// Sends `request` to the running controller and prints its message.
fn command(state_dir: &Path, request: Request) -> Result<(), CliError> {
    match send(state_dir, &request, Duration::from_secs(600))? {
        Response::Ok { message } => {
            if !message.is_empty() {
                println!("{message}");
            }
            Ok(())
        }
        Response::Action { action } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&action).unwrap_or_default()
            );
            Ok(())
        }
        Response::Error { message } => Err(CliError::Controller(message)),
    }
}

fn send(state_dir: &Path, request: &Request, timeout: Duration) -> Result<Response, CliError> {
    if !api::is_running(state_dir) {
        if !model_path(state_dir).exists() {
            return Err(CliError::Usage(format!(
                "no controller runs for {} (deploy starts one)",
                state_dir.display()
            )));
        }
        // A model without a live controller: the controller died. A new one resumes the
        // unit agents from their journal, as jujud picks up its units after a crash.
        ensure_controller(state_dir)?;
    }
    api::send(state_dir, request, timeout)
        .map_err(|e| CliError::Other(format!("cannot talk to the controller: {e}")))
}

/// Starts the controller in the background unless one answers.
fn ensure_controller(state_dir: &Path) -> Result<(), CliError> {
    if api::is_running(state_dir) {
        return Ok(());
    }
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Other(format!("cannot find this program: {e}")))?;
    let log_path = state_dir.join("controller.log");
    // 0600: the log holds hook output and relation details of the whole model.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .map_err(|e| CliError::io("open", &log_path, e))?;
    // A log an older version created world-readable is tightened too.
    log.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| CliError::io("chmod", &log_path, e))?;
    let err_log = log
        .try_clone()
        .map_err(|e| CliError::io("open", &log_path, e))?;
    eprintln!("starting the controller (log: {})", log_path.display());
    let mut command = std::process::Command::new(exe);
    let mut child = crate::daemon_fds::close_inherited_fds(&mut command)
        .arg("--state-dir")
        .arg(state_dir)
        .arg("controller")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .process_group(0)
        .spawn()
        .map_err(|e| CliError::Other(format!("cannot start the controller: {e}")))?;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if api::is_running(state_dir) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last: Vec<&str> = tail.lines().rev().take(5).collect();
            return Err(CliError::Other(format!(
                "the controller exited ({status}): {}",
                last.into_iter().rev().collect::<Vec<_>>().join("\n")
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(CliError::Other(format!(
        "the controller did not answer within 20 s; see {}",
        log_path.display()
    )))
}

fn provider_kind(charm: &str) -> Option<&'static str> {
    match charm {
        "postgresql" | "postgresql-k8s" => Some("postgresql"),
        "redis" | "redis-k8s" => Some("redis"),
        _ => None,
    }
}

fn deploy(
    state_dir: &Path,
    charm: &str,
    app: Option<String>,
    units: u32,
    local: bool,
    repo: Option<PathBuf>,
    binary: Option<&Path>,
) -> Result<(), CliError> {
    if let Some(provider) = provider_kind(charm) {
        let app = app.unwrap_or_else(|| provider.to_owned());
        ensure_controller(state_dir)?;
        return command(
            state_dir,
            Request::AddRemote {
                app,
                provider: provider.to_owned(),
            },
        );
    }
    let source = PathBuf::from(charm);
    if !source.is_dir() {
        return Err(CliError::Usage(format!(
            "{charm:?} is neither a charm directory nor a known provider (postgresql, redis)"
        )));
    }
    if units == 0 {
        return Err(CliError::Usage("--num-units must be at least 1".into()));
    }
    let name = crate::model::CharmMeta::load(&source)?.name;
    let app = app.unwrap_or(name);
    let staged = charm_source::stage(&source, &state_dir.join("charms").join(&app), binary)?;
    let runtime = if local {
        Runtime::Local
    } else {
        let repo = repo.unwrap_or_else(|| source.clone());
        let [indico, nginx, exporter] =
            engine_commands::build_images(&Engine::open(state_dir)?, &repo, false)?;
        Runtime::Pods {
            charm: BASE_IMAGE.to_owned(),
            indico,
            nginx,
            exporter,
        }
    };
    ensure_controller(state_dir)?;
    if !local {
        eprintln!("creating {units} pod(s) and starting the unit agents...");
    }
    command(
        state_dir,
        Request::Deploy {
            app,
            charm_dir: staged,
            units,
            runtime,
        },
    )
}

fn config(
    state_dir: &Path,
    app: String,
    args: Vec<String>,
    reset: Vec<String>,
) -> Result<(), CliError> {
    if !reset.is_empty() {
        if !args.is_empty() {
            return Err(CliError::Usage(
                "--reset cannot be combined with other arguments".into(),
            ));
        }
        return command(state_dir, Request::ConfigReset { app, keys: reset });
    }
    if args.iter().any(|a| a.contains('=')) {
        let mut values = BTreeMap::new();
        for arg in &args {
            let (k, v) = arg
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("expected key=value, got {arg:?}")))?;
            values.insert(k.to_owned(), v.to_owned());
        }
        return command(state_dir, Request::ConfigSet { app, values });
    }
    let model = load_model(state_dir)?;
    let application = model.app(&app)?;
    match args.as_slice() {
        [] => {
            let mut settings = serde_json::Map::new();
            for (key, option) in &application.charm.options {
                let mut entry = serde_json::Map::new();
                entry.insert("type".into(), option.kind.as_str().into());
                if let Some(default) = &option.default {
                    entry.insert("default".into(), default.clone());
                }
                if let Some(value) = application.config.get(key) {
                    entry.insert("value".into(), value.clone());
                    let source = if Some(value) == option.default.as_ref() {
                        "default"
                    } else {
                        "user"
                    };
                    entry.insert("source".into(), source.into());
                } else {
                    entry.insert("source".into(), "unset".into());
                }
                settings.insert(key.clone(), entry.into());
            }
            let doc = serde_json::json!({"application": app, "charm": application.charm.name, "settings": settings});
            print!("{}", serde_yaml::to_string(&doc).unwrap_or_default());
        }
        [key] => {
            if !application.charm.options.contains_key(key) {
                return Err(ModelError::UnknownOption {
                    application: app.clone(),
                    key: key.clone(),
                }
                .into());
            }
            match application.config.get(key) {
                Some(serde_json::Value::String(s)) => println!("{s}"),
                Some(other) => println!("{other}"),
                None => {}
            }
        }
        _ => {
            return Err(CliError::Usage(
                "show one key, or set key=value pairs".into(),
            ));
        }
    }
    Ok(())
}

fn run_action(
    state_dir: &Path,
    unit: String,
    action: String,
    params: &[String],
    background: bool,
    wait: u64,
) -> Result<(), CliError> {
    let mut values = BTreeMap::new();
    for p in params {
        let (k, v) = p.split_once('=').ok_or_else(|| {
            CliError::Usage(format!("action parameters are key=value, got {p:?}"))
        })?;
        values.insert(k.to_owned(), v.to_owned());
    }
    let wait_seconds = if background { 0 } else { wait.max(1) };
    let request = Request::Run {
        unit: unit.clone(),
        action,
        params: values,
        wait_seconds,
    };
    match send(state_dir, &request, Duration::from_secs(wait_seconds + 30))? {
        Response::Ok { message } => {
            println!("{message}");
            Ok(())
        }
        Response::Error { message } => Err(CliError::Controller(message)),
        Response::Action { action } => {
            eprintln!(
                "Running operation {} with 1 task\n  - task {} on {}\n",
                action.id,
                action.id,
                crate::agent::unit_tag(&unit)
            );
            let results = serde_json::Value::Object(action.results.clone().into_iter().collect());
            if !action.log.is_empty() {
                for line in &action.log {
                    eprintln!("{line}");
                }
            }
            print!("{}", serde_yaml::to_string(&results).unwrap_or_default());
            if action.status == "completed" {
                Ok(())
            } else {
                let code = action
                    .results
                    .get("return-code")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?")
                    .to_owned();
                Err(CliError::Controller(format!(
                    "the following task failed:\n id {:?} with return code {code}: {}",
                    action.id.to_string(),
                    action.message
                )))
            }
        }
    }
}

fn debug_log(
    state_dir: &Path,
    lines: usize,
    follow: bool,
    include: Option<&str>,
) -> Result<(), CliError> {
    let path = state_dir.join("debug.log");
    let filter = include.map(|i| {
        let entity = if i.contains('/') {
            format!("unit-{}:", i.replace('/', "-"))
        } else {
            format!("unit-{i}-")
        };
        let app = format!("application-{i}:");
        (entity, app)
    });
    let keep = |line: &str| match &filter {
        None => true,
        Some((unit, app)) => line.starts_with(unit.as_str()) || line.starts_with(app.as_str()),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let matching: Vec<&str> = text.lines().filter(|l| keep(l)).collect();
    for line in &matching[matching.len().saturating_sub(lines)..] {
        println!("{line}");
    }
    if !follow {
        return Ok(());
    }
    let mut file = std::fs::File::open(&path).map_err(|e| CliError::io("open", &path, e))?;
    file.seek(std::io::SeekFrom::Start(text.len() as u64))
        .map_err(|e| CliError::io("seek", &path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => std::thread::sleep(Duration::from_millis(200)),
            Ok(_) => {
                if keep(&line) {
                    print!("{line}");
                }
            }
            Err(e) => return Err(CliError::io("read", &path, e)),
        }
    }
}

fn down(state_dir: &Path) -> Result<(), CliError> {
    if api::is_running(state_dir) {
        eprintln!("removing every application (hooks stop and remove run)...");
        match api::send(state_dir, &Request::Down, Duration::from_secs(300)) {
            Ok(Response::Ok { message }) => eprintln!("{message}"),
            Ok(Response::Error { message }) => eprintln!("warning: {message}"),
            Ok(Response::Action { .. }) => {}
            Err(err) => eprintln!("warning: {err}"),
        }
    }
    // Whatever an earlier controller left behind.
    if let Ok(model) = Model::load(&model_path(state_dir)) {
        let engine = Engine::open(state_dir)?;
        for app in model.applications.values() {
            for unit in app.units.values().filter(|_| app.is_charm()) {
                if let Ok(name) = crate::engine::UnitName::parse(&unit.name) {
                    crate::engine::PodSpec::down(&engine, &name)?;
                }
            }
            if let crate::model::AppKind::Provider { provider } = &app.kind
                && provider == "redis"
                && let Some(port) = app.provider_data.get("port").and_then(|p| p.parse().ok())
            {
                let redis = crate::host::HostRedis {
                    port,
                    address: crate::host::ServiceAddress::default().address,
                    dir: state_dir.join("providers").join("redis").join(&app.name),
                };
                if let Err(err) = redis.stop() {
                    eprintln!("warning: stopping redis for {}: {err}", app.name);
                }
            }
        }
    }
    // The agents' journal and the apps' runtimes go with the model (a dead controller
    // could not remove them itself).
    for file in [
        "model.json",
        "controller.socket",
        "agents.json",
        "runtimes.json",
    ] {
        let _ = std::fs::remove_file(state_dir.join(file));
    }
    println!("The model is gone.");
    Ok(())
}
