//! [`FakePebble`]: an in-memory [`Pebble`] for one container of a run, reading and
//! changing that container in the run's [`State`](crate::State), recording every call.
//!
//! It behaves like Pebble where a charm can tell: an unreachable container fails every
//! call with `CannotConnect`; layers need `override` and combine by label; a replan
//! restarts the running services whose definition changed and starts the enabled ones
//! that are not running, and touches nothing else; files need their parent directory
//! unless `make_dirs`; commands are answered by the longest matching argv prefix, and
//! one with no answer fails as an unknown executable would.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use pebble_client::{
    CheckInfo, CheckLevel, CheckStatus, Error, ExecError, ExecOutput, ExecRequest, FileInfo,
    FileType, Layer, MakeDirOptions, Notice, NoticesQuery, Pebble, Plan, PushOptions, ServiceInfo,
    ServiceStatus, Startup, SystemInfo,
};

use crate::container::{Container, ExecResponse, FileEntry, ServiceRuntime};
use crate::layers::merge_layer;
use crate::record::{PebbleCall, RecordedPebbleCall, ServiceTransition, ServiceTransitionKind};

/// The fixed time reported for service and file timestamps.
const FAKE_TIME: &str = "2026-01-01T00:00:00Z";
/// Pebble's version as the fake reports it.
const FAKE_VERSION: &str = "v1.19.2";

/// Every container of a run plus what was done to them.
#[derive(Debug, Default)]
pub(crate) struct PebbleWorld {
    pub(crate) containers: BTreeMap<String, Container>,
    pub(crate) calls: Vec<RecordedPebbleCall>,
    pub(crate) transitions: Vec<ServiceTransition>,
}

/// Locks the world; a poisoned lock (a panic in another call) still yields the data,
/// which no call leaves half-changed.
pub(crate) fn lock(world: &Mutex<PebbleWorld>) -> MutexGuard<'_, PebbleWorld> {
    world
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The Pebble of one container in a run. Cheap to clone; all clones share the run's
/// state.
#[derive(Debug, Clone)]
pub struct FakePebble {
    container: String,
    world: Arc<Mutex<PebbleWorld>>,
}

fn socket_of(container: &str) -> PathBuf {
    PathBuf::from(format!("/charm/containers/{container}/pebble.socket"))
}

fn api_error(request: &str, status: u16, message: impl Into<String>) -> Error {
    Error::Api {
        request: request.to_owned(),
        status,
        message: message.into(),
        kind: None,
    }
}

fn file_error(path: &str, kind: &str, message: impl Into<String>) -> Error {
    Error::File {
        path: path.to_owned(),
        kind: Some(kind.to_owned()),
        message: message.into(),
    }
}

fn check_path(path: &str) -> Result<(), Error> {
    if !path.starts_with('/') {
        return Err(Error::InvalidInput {
            what: "path".to_owned(),
            reason: format!("{path:?} must be absolute"),
        });
    }
    Ok(())
}

fn parent_of(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((parent, _)) => parent,
    }
}

fn name_of(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// Shell-style glob on a name: `*` any run, `?` one character.
fn glob_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

fn add_parents(container: &mut Container, path: &str) {
    let mut dir = parent_of(path);
    while dir != "/" {
        container.dirs.insert(dir.to_owned());
        dir = parent_of(dir);
    }
}

fn file_info(path: &str, entry: Option<&FileEntry>) -> FileInfo {
    FileInfo {
        path: path.to_owned(),
        name: name_of(path).to_owned(),
        file_type: if entry.is_some() {
            FileType::File
        } else {
            FileType::Directory
        },
        size: entry.map(|e| e.content.len() as u64),
        permissions: entry.map_or(0o755, |e| e.permissions),
        last_modified: FAKE_TIME.to_owned(),
        user_id: entry.and_then(|e| e.user_id),
        user: entry.and_then(|e| e.user.clone()),
        group_id: entry.and_then(|e| e.group_id),
        group: entry.and_then(|e| e.group.clone()),
    }
}

impl FakePebble {
    pub(crate) fn new(container: impl Into<String>, world: Arc<Mutex<PebbleWorld>>) -> Self {
        Self {
            container: container.into(),
            world,
        }
    }

    /// The container this Pebble belongs to.
    pub fn container_name(&self) -> &str {
        &self.container
    }

    /// Records `call`, then runs `body` on the container if Pebble is reachable.
    fn with_container<T>(
        &self,
        call: PebbleCall,
        body: impl FnOnce(&mut Container, &mut Vec<ServiceTransition>, &str) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut world = lock(&self.world);
        let PebbleWorld {
            containers,
            calls,
            transitions,
        } = &mut *world;
        let result = match containers.get_mut(&self.container) {
            None => Err(Error::CannotConnect {
                socket: socket_of(&self.container),
                source: Box::new(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                )),
            }),
            Some(c) if !c.can_connect => Err(Error::CannotConnect {
                socket: socket_of(&self.container),
                source: Box::new(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "connection refused",
                )),
            }),
            Some(c) => body(c, transitions, &self.container),
        };
        calls.push(RecordedPebbleCall {
            container: self.container.clone(),
            call,
            succeeded: result.is_ok(),
        });
        result
    }
}

fn plan_of(container: &Container, request: &str) -> Result<Plan, Error> {
    container
        .plan()
        .map_err(|e| api_error(request, 400, e.to_string()))
}

fn transition(
    transitions: &mut Vec<ServiceTransition>,
    container: &str,
    service: &str,
    kind: ServiceTransitionKind,
) {
    transitions.push(ServiceTransition {
        container: container.to_owned(),
        service: service.to_owned(),
        kind,
    });
}

fn is_running(container: &Container, name: &str) -> bool {
    container
        .services
        .get(name)
        .is_some_and(|s| s.status == ServiceStatus::Active)
}

/// Starts or restarts `names` (which must be in `plan`), recording transitions. A service
/// in [`Container::failing_services`] ends in `error`; the change then fails as Pebble's
/// does, naming each such service.
fn start_services(
    container: &mut Container,
    transitions: &mut Vec<ServiceTransition>,
    container_name: &str,
    plan: &Plan,
    names: &[String],
    restart: bool,
) -> Result<(), String> {
    let mut failed = Vec::new();
    for name in names {
        let running = is_running(container, name);
        if running && !restart {
            continue;
        }
        let kind = if running {
            ServiceTransitionKind::Restarted
        } else {
            ServiceTransitionKind::Started
        };
        transition(transitions, container_name, name, kind);
        let status = if container.failing_services.contains(name) {
            failed.push(format!(
                "- Start service \"{name}\" (cannot start service: exited quickly with code 1)"
            ));
            ServiceStatus::Error
        } else {
            ServiceStatus::Active
        };
        container.services.insert(
            name.clone(),
            ServiceRuntime {
                status,
                started_with: plan.services.get(name).cloned(),
            },
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cannot perform the following tasks:\n{}",
            failed.join("\n")
        ))
    }
}

/// The error of a change that failed with `err`.
fn change_failed(kind: &str, err: String) -> Error {
    Error::ChangeFailed {
        id: "1".to_owned(),
        kind: kind.to_owned(),
        err,
    }
}

fn known_services(plan: &Plan, names: &[&str], request: &str) -> Result<Vec<String>, Error> {
    names
        .iter()
        .map(|name| {
            if plan.services.contains_key(*name) {
                Ok((*name).to_owned())
            } else {
                Err(api_error(
                    request,
                    400,
                    format!("service \"{name}\" does not exist"),
                ))
            }
        })
        .collect()
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

impl Pebble for FakePebble {
    async fn system_info(&self) -> Result<SystemInfo, Error> {
        self.with_container(PebbleCall::SystemInfo, |c, _, _| {
            Ok(SystemInfo {
                boot_id: c.boot_id.clone(),
                version: FAKE_VERSION.to_owned(),
                http_address: None,
            })
        })
    }

    async fn plan(&self) -> Result<Plan, Error> {
        self.with_container(PebbleCall::Plan, |c, _, _| plan_of(c, "GET /v1/plan"))
    }

    async fn add_layer(&self, label: &str, layer: &Layer, combine: bool) -> Result<(), Error> {
        let call = PebbleCall::AddLayer {
            label: label.to_owned(),
            layer: layer.clone(),
            combine,
        };
        self.with_container(call, |c, _, _| {
            const REQUEST: &str = "POST /v1/layers";
            if label.is_empty() {
                return Err(api_error(REQUEST, 400, "label must be set"));
            }
            let mut layers = c.layers.clone();
            match layers.iter_mut().find(|(l, _)| l == label) {
                Some(_) if !combine => {
                    return Err(api_error(
                        REQUEST,
                        400,
                        format!("layer \"{label}\" already exists"),
                    ));
                }
                Some((_, existing)) => merge_layer(existing, layer, label)
                    .map_err(|e| api_error(REQUEST, 400, e.to_string()))?,
                None => {
                    // Validate the new layer on its own first (override everywhere).
                    merge_layer(&mut Layer::default(), layer, label)
                        .map_err(|e| api_error(REQUEST, 400, e.to_string()))?;
                    layers.push((label.to_owned(), layer.clone()));
                }
            }
            // The combined plan must stay valid, or Pebble refuses the layer.
            let candidate = Container {
                layers,
                ..Container::default()
            };
            candidate
                .plan()
                .map_err(|e| api_error(REQUEST, 400, e.to_string()))?;
            c.layers = candidate.layers;
            Ok(())
        })
    }

    async fn replan(&self) -> Result<(), Error> {
        self.with_container(PebbleCall::Replan, |c, transitions, name| {
            let plan = plan_of(c, "POST /v1/services")?;
            let changed: Vec<String> = plan
                .services
                .iter()
                .filter(|(n, service)| {
                    c.services.get(*n).is_some_and(|s| {
                        s.status == ServiceStatus::Active
                            && s.started_with.as_ref() != Some(*service)
                    })
                })
                .map(|(n, _)| n.clone())
                .collect();
            let restarted = start_services(c, transitions, name, &plan, &changed, true);
            let enabled: Vec<String> = plan
                .services
                .iter()
                .filter(|(_, s)| s.startup == Some(Startup::Enabled))
                .map(|(n, _)| n.clone())
                .collect();
            let started = start_services(c, transitions, name, &plan, &enabled, false);
            restarted
                .and(started)
                .map_err(|err| change_failed("replan", err))
        })
    }

    async fn start(&self, services: &[&str]) -> Result<(), Error> {
        let call = PebbleCall::Start {
            services: owned(services),
        };
        self.with_container(call, |c, transitions, name| {
            let plan = plan_of(c, "POST /v1/services")?;
            let names = known_services(&plan, services, "POST /v1/services")?;
            start_services(c, transitions, name, &plan, &names, false)
                .map_err(|err| change_failed("start", err))
        })
    }

    async fn stop(&self, services: &[&str]) -> Result<(), Error> {
        let call = PebbleCall::Stop {
            services: owned(services),
        };
        self.with_container(call, |c, transitions, name| {
            let plan = plan_of(c, "POST /v1/services")?;
            for service in known_services(&plan, services, "POST /v1/services")? {
                if let Some(runtime) = c.services.get_mut(&service) {
                    if runtime.status == ServiceStatus::Active {
                        runtime.status = ServiceStatus::Inactive;
                        transition(transitions, name, &service, ServiceTransitionKind::Stopped);
                    }
                }
            }
            Ok(())
        })
    }

    async fn restart(&self, services: &[&str]) -> Result<(), Error> {
        let call = PebbleCall::Restart {
            services: owned(services),
        };
        self.with_container(call, |c, transitions, name| {
            let plan = plan_of(c, "POST /v1/services")?;
            let names = known_services(&plan, services, "POST /v1/services")?;
            start_services(c, transitions, name, &plan, &names, true)
                .map_err(|err| change_failed("restart", err))
        })
    }

    async fn services(&self, names: &[&str]) -> Result<Vec<ServiceInfo>, Error> {
        self.with_container(PebbleCall::Services, |c, _, _| {
            let plan = plan_of(c, "GET /v1/services")?;
            Ok(plan
                .services
                .iter()
                .filter(|(n, _)| names.is_empty() || names.contains(&n.as_str()))
                .map(|(n, s)| ServiceInfo {
                    name: n.clone(),
                    startup: s.startup.unwrap_or(Startup::Disabled),
                    current: c
                        .services
                        .get(n)
                        .map_or(ServiceStatus::Inactive, |r| r.status),
                    current_since: c.services.get(n).map(|_| FAKE_TIME.to_owned()),
                })
                .collect())
        })
    }

    async fn checks(
        &self,
        level: Option<CheckLevel>,
        names: &[&str],
    ) -> Result<Vec<CheckInfo>, Error> {
        self.with_container(PebbleCall::Checks, |c, _, _| {
            let plan = plan_of(c, "GET /v1/checks")?;
            Ok(plan
                .checks
                .iter()
                .filter(|(n, _)| names.is_empty() || names.contains(&n.as_str()))
                .filter(|(_, check)| level.is_none() || check.level == level)
                .map(|(n, check)| {
                    let startup = check.startup.unwrap_or(Startup::Enabled);
                    let runtime = c.checks.get(n);
                    let status = match (runtime, startup) {
                        (Some(r), _) => r.status,
                        (None, Startup::Enabled) => CheckStatus::Up,
                        (None, Startup::Disabled) => CheckStatus::Inactive,
                    };
                    CheckInfo {
                        name: n.clone(),
                        level: check.level,
                        startup: Some(startup),
                        status,
                        failures: runtime.map_or(0, |r| r.failures),
                        successes: None,
                        threshold: check.threshold.filter(|t| *t != 0).unwrap_or(3),
                        change_id: None,
                    }
                })
                .collect())
        })
    }

    async fn push(&self, path: &str, content: &[u8], options: &PushOptions) -> Result<(), Error> {
        let call = PebbleCall::Push {
            path: path.to_owned(),
            content: content.to_vec(),
            permissions: options.permissions,
        };
        self.with_container(call, |c, _, _| {
            check_path(path)?;
            if c.is_dir(path) {
                return Err(file_error(
                    path,
                    "generic-file-error",
                    format!("open {path}: is a directory"),
                ));
            }
            if options.make_dirs {
                add_parents(c, path);
            } else if !c.is_dir(parent_of(path)) {
                return Err(file_error(
                    path,
                    "not-found",
                    format!("open {path}: no such file or directory"),
                ));
            }
            c.files.insert(
                path.to_owned(),
                FileEntry {
                    content: content.to_vec(),
                    permissions: options.permissions.unwrap_or(0o644),
                    user: options.user.clone(),
                    user_id: options.user_id,
                    group: options.group.clone(),
                    group_id: options.group_id,
                },
            );
            Ok(())
        })
    }

    async fn pull(&self, path: &str) -> Result<Vec<u8>, Error> {
        let call = PebbleCall::Pull {
            path: path.to_owned(),
        };
        self.with_container(call, |c, _, _| {
            check_path(path)?;
            match c.files.get(path) {
                Some(entry) => Ok(entry.content.clone()),
                None if c.is_dir(path) => Err(file_error(
                    path,
                    "generic-file-error",
                    "can only read a regular file",
                )),
                None => Err(file_error(
                    path,
                    "not-found",
                    format!("stat {path}: no such file or directory"),
                )),
            }
        })
    }

    async fn list_files(
        &self,
        path: &str,
        pattern: Option<&str>,
        itself: bool,
    ) -> Result<Vec<FileInfo>, Error> {
        let call = PebbleCall::ListFiles {
            path: path.to_owned(),
        };
        self.with_container(call, |c, _, _| {
            check_path(path)?;
            if let Some(entry) = c.files.get(path) {
                return Ok(vec![file_info(path, Some(entry))]);
            }
            if !c.is_dir(path) {
                return Err(file_error(
                    path,
                    "not-found",
                    format!("stat {path}: no such file or directory"),
                ));
            }
            if itself {
                return Ok(vec![file_info(path, None)]);
            }
            let dir = path.trim_end_matches('/');
            let mut children: BTreeMap<String, Option<&FileEntry>> = BTreeMap::new();
            let prefix = format!("{dir}/");
            for (file, entry) in &c.files {
                if let Some(rest) = file.strip_prefix(&prefix) {
                    match rest.split_once('/') {
                        None => {
                            children.insert(file.clone(), Some(entry));
                        }
                        Some((sub, _)) => {
                            children.entry(format!("{prefix}{sub}")).or_insert(None);
                        }
                    }
                }
            }
            for d in &c.dirs {
                if let Some(rest) = d.strip_prefix(&prefix) {
                    let sub = rest.split('/').next().unwrap_or(rest);
                    if !sub.is_empty() {
                        children.entry(format!("{prefix}{sub}")).or_insert(None);
                    }
                }
            }
            Ok(children
                .into_iter()
                .filter(|(p, _)| pattern.is_none_or(|pat| glob_matches(pat, name_of(p))))
                .map(|(p, entry)| file_info(&p, entry))
                .collect())
        })
    }

    async fn make_dir(&self, path: &str, options: &MakeDirOptions) -> Result<(), Error> {
        let call = PebbleCall::MakeDir {
            path: path.to_owned(),
        };
        self.with_container(call, |c, _, _| {
            check_path(path)?;
            let path = path.trim_end_matches('/');
            if c.files.contains_key(path) {
                return Err(file_error(
                    path,
                    "generic-file-error",
                    format!("mkdir {path}: file exists"),
                ));
            }
            if c.is_dir(path) {
                return if options.make_parents {
                    Ok(())
                } else {
                    Err(file_error(
                        path,
                        "generic-file-error",
                        format!("mkdir {path}: file exists"),
                    ))
                };
            }
            if options.make_parents {
                add_parents(c, path);
            } else if !c.is_dir(parent_of(path)) {
                return Err(file_error(
                    path,
                    "not-found",
                    format!("mkdir {path}: no such file or directory"),
                ));
            }
            c.dirs.insert(path.to_owned());
            Ok(())
        })
    }

    async fn remove_path(&self, path: &str, recursive: bool) -> Result<(), Error> {
        let call = PebbleCall::RemovePath {
            path: path.to_owned(),
        };
        self.with_container(call, |c, _, _| {
            check_path(path)?;
            let path = path.trim_end_matches('/');
            if c.files.remove(path).is_some() {
                return Ok(());
            }
            if !c.is_dir(path) {
                return if recursive {
                    Ok(())
                } else {
                    Err(file_error(
                        path,
                        "not-found",
                        format!("remove {path}: no such file or directory"),
                    ))
                };
            }
            let prefix = format!("{path}/");
            let has_children = c.files.keys().any(|f| f.starts_with(&prefix))
                || c.dirs.iter().any(|d| d.starts_with(&prefix));
            if has_children && !recursive {
                return Err(file_error(
                    path,
                    "generic-file-error",
                    format!("remove {path}: directory not empty"),
                ));
            }
            c.files.retain(|f, _| !f.starts_with(&prefix));
            c.dirs.retain(|d| d != path && !d.starts_with(&prefix));
            Ok(())
        })
    }

    async fn exec(&self, request: &ExecRequest) -> Result<ExecOutput, Error> {
        let call = PebbleCall::Exec {
            request: request.clone(),
        };
        self.with_container(call, |c, _, _| {
            let program = request.command.first().cloned().unwrap_or_default();
            if program.is_empty() {
                return Err(Error::InvalidInput {
                    what: "command".to_owned(),
                    reason: "must not be empty".to_owned(),
                });
            }
            let handler = c
                .execs
                .iter()
                .filter(|h| request.command.starts_with(&h.prefix))
                .max_by_key(|h| h.prefix.len())
                .ok_or_else(|| {
                    api_error(
                        "POST /v1/exec",
                        400,
                        format!("cannot find executable \"{program}\""),
                    )
                })?;
            let result = match &handler.response {
                ExecResponse::Fixed(result) => result.clone(),
                ExecResponse::Dynamic(answer) => answer(request),
            };
            if result.exit_code == 0 {
                Ok(ExecOutput {
                    exit_code: 0,
                    stdout: result.stdout,
                    stderr: result.stderr,
                })
            } else {
                Err(Error::Exec(ExecError {
                    program,
                    exit_code: result.exit_code,
                    stdout: result.stdout,
                    stderr: result.stderr,
                }))
            }
        })
    }

    async fn notices(&self, query: &NoticesQuery) -> Result<Vec<Notice>, Error> {
        self.with_container(PebbleCall::Notices, |c, _, _| {
            Ok(c.notices
                .iter()
                .filter(|n| query.types.is_empty() || query.types.contains(&n.notice_type))
                .filter(|n| query.keys.is_empty() || query.keys.contains(&n.key))
                .filter(|n| {
                    query
                        .after
                        .as_deref()
                        .is_none_or(|after| n.last_repeated.as_str() > after)
                })
                .cloned()
                .collect())
        })
    }

    async fn notice(&self, id: &str) -> Result<Notice, Error> {
        let call = PebbleCall::Notice { id: id.to_owned() };
        self.with_container(call, |c, _, _| {
            c.notices
                .iter()
                .find(|n| n.id == id)
                .cloned()
                .ok_or_else(|| Error::Api {
                    request: format!("GET /v1/notices/{id}"),
                    status: 404,
                    message: format!("cannot find notice with ID \"{id}\""),
                    kind: Some("not-found".to_owned()),
                })
        })
    }

    async fn send_signal(&self, signal: &str, services: &[&str]) -> Result<(), Error> {
        let call = PebbleCall::SendSignal {
            signal: signal.to_owned(),
            services: owned(services),
        };
        self.with_container(call, |c, _, _| {
            let plan = plan_of(c, "POST /v1/signals")?;
            let names = known_services(&plan, services, "POST /v1/signals")?;
            if let Some(stopped) = names.iter().find(|n| !is_running(c, n)) {
                return Err(api_error(
                    "POST /v1/signals",
                    400,
                    format!("cannot send signal to \"{stopped}\": service is not running"),
                ));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_matches("*.conf", "nginx.conf"));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("*.conf", "nginx.confx"));
        assert!(glob_matches("*", ""));
    }

    #[test]
    fn parents_and_names() {
        assert_eq!(parent_of("/etc/nginx/nginx.conf"), "/etc/nginx");
        assert_eq!(parent_of("/etc"), "/");
        assert_eq!(name_of("/etc/nginx/"), "nginx");
    }
}
