//! `indico-substrate controller`: the long-running controller process. `deploy` starts it
//! in the background when none answers (its log is `<state>/controller.log`); it serves
//! [`Request`]s on `<state>/controller.socket` until `down`.
//!
//! A controller started on a model that has applications (the previous one died) first
//! resumes them, as jujud does after a restart: providers' servers start again, and each
//! charm unit's agent runs again with the runtime its application was deployed with,
//! which `deploy` records in `<state>/runtimes.json` (see
//! [`Controller::resume`](crate::agent::Controller::resume)).
//!
//! Tunables (environment, for tests and impatient humans):
//! `INDICO_SUBSTRATE_RETRY_MIN` (seconds, default 5: first retry of a failed hook),
//! `INDICO_SUBSTRATE_RETRY_MAX` (default 300), `INDICO_SUBSTRATE_UPDATE_STATUS`
//! (default 300), `INDICO_SUBSTRATE_PEBBLE_POLL` (default 2).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::CliError;
use super::api::{Request, Response, Runtime, socket_path};
use crate::agent::{
    Backoff, Controller, ControllerConfig, Dispatcher, LocalDispatcher, PodDispatcher,
};
use crate::engine::Engine;
use crate::model::{AppKind, Fault, Model};
use crate::providers::{PostgresqlProvider, RedisProvider, RemoteApplication};

/// How long `down` waits for every application to go.
const DOWN_TIMEOUT: Duration = Duration::from_secs(180);

fn seconds_from_env(name: &str, default: f64) -> Result<Duration, CliError> {
    match std::env::var(name) {
        Ok(text) => text
            .parse::<f64>()
            .ok()
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "{name}={text:?} is not a positive number of seconds"
                ))
            }),
        Err(_) => Ok(Duration::from_secs_f64(default)),
    }
}

/// The controller configuration for `state_dir`, with the environment's tunables.
pub fn config(state_dir: &Path) -> Result<ControllerConfig, CliError> {
    let mut config = ControllerConfig::in_dir(state_dir);
    config.backoff = Backoff {
        min: seconds_from_env("INDICO_SUBSTRATE_RETRY_MIN", 5.0)?,
        max: seconds_from_env("INDICO_SUBSTRATE_RETRY_MAX", 300.0)?,
        factor: 2,
    };
    config.update_status_interval = seconds_from_env("INDICO_SUBSTRATE_UPDATE_STATUS", 300.0)?;
    config.pebble_poll_interval = seconds_from_env("INDICO_SUBSTRATE_PEBBLE_POLL", 2.0)?;
    Ok(config)
}

/// The `jujuc` binary installed next to this one.
pub fn jujuc_path() -> Result<PathBuf, CliError> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Other(format!("cannot find this program: {e}")))?;
    let jujuc = exe.with_file_name("jujuc");
    if jujuc.is_file() {
        Ok(jujuc)
    } else {
        Err(CliError::Other(format!(
            "{} is missing: build it with `cargo build -p indico-substrate --bins`",
            jujuc.display()
        )))
    }
}

/// Where each charm application's [`Runtime`] is recorded for a later controller.
fn runtimes_path(state_dir: &Path) -> PathBuf {
    state_dir.join("runtimes.json")
}

/// The recorded runtimes (none when the file is missing).
fn load_runtimes(state_dir: &Path) -> Result<BTreeMap<String, Runtime>, CliError> {
    let path = runtimes_path(state_dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| CliError::Other(format!("{} is not valid: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(CliError::io("read", path, e)),
    }
}

/// Records that `app` runs with `runtime` (0600: it is the substrate's own state).
fn record_runtime(state_dir: &Path, app: &str, runtime: &Runtime) -> Result<(), CliError> {
    let mut runtimes = load_runtimes(state_dir)?;
    runtimes.insert(app.to_owned(), runtime.clone());
    let path = runtimes_path(state_dir);
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(&runtimes)
        .map_err(|e| CliError::Other(format!("cannot encode the runtimes: {e}")))?;
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| CliError::io("write", path, e))
}

/// How units of a charm deployed from `charm_dir` with `runtime` run.
fn dispatcher(
    state_dir: &Path,
    charm_dir: &Path,
    runtime: &Runtime,
) -> Result<Arc<dyn Dispatcher>, CliError> {
    let jujuc = jujuc_path()?;
    Ok(match runtime.images() {
        Some(images) => {
            let engine = Engine::open(state_dir)?;
            Arc::new(PodDispatcher::new(engine, charm_dir, &jujuc).with_images(images))
        }
        None => Arc::new(LocalDispatcher::new(
            &state_dir.join("local"),
            charm_dir,
            &jujuc,
        )),
    })
}

/// Resumes what `model` (left by an earlier controller) holds: providers first, so that
/// resumed charms find their servers. A failure is logged and leaves that application
/// without agents; the others still resume.
fn resume(controller: &Controller, state_dir: &Path, model: &Model) -> Result<(), CliError> {
    let runtimes = load_runtimes(state_dir)?;
    for app in model.applications.values().filter(|a| !a.is_charm()) {
        match controller.resume_remote(&app.name) {
            Ok(()) => tracing::info!(app = %app.name, "provider resumed"),
            Err(err) => tracing::error!(%err, app = %app.name, "cannot resume the provider"),
        }
    }
    for app in model.applications.values() {
        let AppKind::Charm { dir } = &app.kind else {
            continue;
        };
        let resumed = runtimes
            .get(&app.name)
            .ok_or_else(|| {
                CliError::Other(format!(
                    "no runtime recorded for {} in {}",
                    app.name,
                    runtimes_path(state_dir).display()
                ))
            })
            .and_then(|runtime| dispatcher(state_dir, Path::new(dir), runtime))
            .and_then(|d| Ok(controller.resume(&app.name, d)?));
        match resumed {
            Ok(units) => tracing::info!(app = %app.name, ?units, "unit agents resumed"),
            Err(err) => {
                tracing::error!(%err, app = %app.name, "cannot resume the unit agents")
            }
        }
    }
    Ok(())
}

/// Runs the controller in this process until `down`.
pub fn run(state_dir: &Path) -> Result<(), CliError> {
    let config = config(state_dir)?;
    let model = if config.model_path.exists() {
        Model::load(&config.model_path)?
    } else {
        Model::new("substrate")
    };
    let providers: Vec<Arc<dyn RemoteApplication>> = vec![
        Arc::new(PostgresqlProvider::new()),
        Arc::new(RedisProvider::new(
            &state_dir.join("providers").join("redis"),
        )),
    ];
    let earlier = model.clone();
    let controller = Controller::new(config, model, providers);
    resume(&controller, state_dir, &earlier)?;
    let socket = socket_path(state_dir);
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket)
        .map_err(|e| CliError::Other(format!("cannot listen on {}: {e}", socket.display())))?;
    tracing::info!(socket = %socket.display(), "controller up");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let controller = controller.clone();
        let state_dir = state_dir.to_path_buf();
        let handle = std::thread::spawn(move || serve(stream, &controller, &state_dir));
        if handle.join().unwrap_or(false) {
            break;
        }
    }
    controller.shutdown();
    let _ = std::fs::remove_file(&socket);
    Ok(())
}

/// Answers one connection; returns whether the controller should exit.
fn serve(mut stream: UnixStream, controller: &Controller, state_dir: &Path) -> bool {
    let mut body = Vec::new();
    if stream.read_to_end(&mut body).is_err() {
        return false;
    }
    let (response, exit) = match serde_json::from_slice::<Request>(&body) {
        Ok(request) => {
            tracing::info!(request = ?request.redacted(), "request");
            let exit = request == Request::Down;
            (handle(controller, state_dir, request), exit)
        }
        Err(err) => (
            Response::Error {
                message: format!("bad request: {err}"),
            },
            false,
        ),
    };
    let bytes = serde_json::to_vec(&response).unwrap_or_default();
    let _ = stream.write_all(&bytes);
    exit
}

fn ok(message: impl Into<String>) -> Response {
    Response::Ok {
        message: message.into(),
    }
}

fn handle(controller: &Controller, state_dir: &Path, request: Request) -> Response {
    match execute(controller, state_dir, request) {
        Ok(response) => response,
        Err(err) => Response::Error {
            message: err.to_string(),
        },
    }
}

fn execute(
    controller: &Controller,
    state_dir: &Path,
    request: Request,
) -> Result<Response, CliError> {
    Ok(match request {
        Request::Ping => ok("pong"),
        Request::Deploy {
            app,
            charm_dir,
            units,
            runtime,
        } => {
            let dispatcher = dispatcher(state_dir, &charm_dir, &runtime)?;
            controller.deploy(&app, &charm_dir, units, dispatcher)?;
            record_runtime(state_dir, &app, &runtime)?;
            let place = if runtime == Runtime::Local {
                "as local processes"
            } else {
                "in pods"
            };
            ok(format!("Deployed {app:?} with {units} unit(s) {place}"))
        }
        Request::AddRemote { app, provider } => {
            controller.add_remote(&app, &provider)?;
            ok(format!(
                "Deployed {app:?} (played by the substrate's {provider} provider)"
            ))
        }
        Request::Integrate { a, b } => {
            let id = controller.integrate(&a, &b)?;
            ok(format!("Integrated {a} and {b} (relation {id})"))
        }
        Request::RemoveRelation { a, b } => {
            let id = controller.remove_relation(&a, &b)?;
            ok(format!("Removing relation {id} between {a} and {b}"))
        }
        Request::ConfigSet { app, values } => {
            controller.config_set(&app, &values)?;
            ok("")
        }
        Request::ConfigReset { app, keys } => {
            controller.config_reset(&app, &keys)?;
            ok("")
        }
        Request::Run {
            unit,
            action,
            params,
            wait_seconds,
        } => {
            let id = controller.run_action(&unit, &action, &params)?;
            if wait_seconds == 0 {
                return Ok(ok(format!("Scheduled operation {id} on {unit}")));
            }
            let done = controller.wait_for(Duration::from_secs(wait_seconds), |m| {
                m.actions
                    .get(&id)
                    .is_some_and(|a| a.status == "completed" || a.status == "failed")
            });
            match done {
                Ok(model) => match model.actions.get(&id) {
                    Some(action) => Response::Action {
                        action: action.clone(),
                    },
                    None => Response::Error {
                        message: format!("action {id} vanished"),
                    },
                },
                Err(_) => Response::Error {
                    message: format!(
                        "action {id} did not finish within {wait_seconds} s; it keeps running"
                    ),
                },
            }
        }
        Request::Scale { app, units } => {
            controller.scale(&app, units)?;
            ok(format!("Scaling {app} to {units} unit(s)"))
        }
        Request::Remove { app } => {
            controller.remove_application(&app)?;
            ok(format!("Removing application {app}"))
        }
        Request::Fault { tool, unit, count } => {
            if !crate::hook_tools::TOOL_NAMES.contains(&tool.as_str()) {
                return Err(CliError::Usage(format!("unknown hook tool {tool:?}")));
            }
            controller.inject_fault(Fault {
                tool: tool.clone(),
                unit,
                count,
            });
            ok(format!("The next {count} call(s) of {tool} will fail"))
        }
        Request::Down => {
            // Charms first, so that providers clean up each relation as it ends.
            let model = controller.model();
            for app in model.applications.values().filter(|a| a.is_charm()) {
                if let Err(err) = controller.remove_application(&app.name) {
                    tracing::warn!(%err, app = %app.name, "removing");
                }
            }
            let _ = controller.wait_for(DOWN_TIMEOUT, |m| {
                m.applications.values().all(|a| !a.is_charm())
            });
            for app in model.applications.values().filter(|a| !a.is_charm()) {
                if let Err(err) = controller.remove_application(&app.name) {
                    tracing::warn!(%err, app = %app.name, "removing");
                }
            }
            let gone = controller.wait_for(DOWN_TIMEOUT, |m| m.applications.is_empty());
            match gone {
                Ok(_) => {
                    if let Err(err) = std::fs::remove_file(runtimes_path(state_dir))
                        && err.kind() != std::io::ErrorKind::NotFound
                    {
                        tracing::warn!(%err, "cannot remove the recorded runtimes");
                    }
                    ok("Everything removed; the controller stops")
                }
                Err(model) => Response::Error {
                    message: format!(
                        "still present after {} s: {}",
                        DOWN_TIMEOUT.as_secs(),
                        model
                            .applications
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
            }
        }
    })
}
