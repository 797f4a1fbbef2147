//! The controller: owns the live [`Model`], runs one agent thread per charm unit, answers
//! hook tool calls, plays the providers, and persists the model after every change.
//!
//! Event sources and what they queue (Juju's order, contract §1.2):
//! - a new unit: `install`, `<rel>-relation-created` for every existing relation (peers
//!   too), `leader-elected` (leader) or `leader-settings-changed`, `config-changed`,
//!   `start`, then `-relation-joined`/`-relation-changed` per remote unit and an
//!   application `-relation-changed` when the remote application bag has data;
//!   `<container>-pebble-ready` comes from the Pebble poller, unordered with `start`;
//! - `integrate`: `relation-created`, then joined/changed as above, on every unit;
//! - a committed bag change: `relation-changed` on the units that see the writer;
//! - `config`: `config-changed`; a timer: `update-status`; `run`: the action;
//! - `remove-relation`: `relation-departed` per member, then `relation-broken`; a
//!   removed unit also runs `stop` and `remove`.
//!
//! A hook's buffered changes are committed only when `dispatch` exits 0; a failure puts
//! the unit's agent in `error` with `hook failed: "<name>"` and retries the same hook
//! with [`Backoff`] until it succeeds.
//!
//! Restarts: every queue change is also written to the agents' journal
//! (`controller/journal.rs`, `<state>/agents.json`). A controller started on a model that
//! has units resumes their agents ([`Controller::resume`]) as jujud does after a restart:
//! the hook that failed or was running is retried first (queued actions may run ahead of
//! it, as while a hook is in error), then `start` runs again on a started unit that is not
//! being removed (Juju's sidecar reboot resolver), then the hooks that were queued; the
//! update-status timer and the Pebble poller (hence `<container>-pebble-ready`) start
//! again.
//!
//! Locking: one mutex guards the model and the open hook contexts (tool calls and hook
//! bookkeeping take it briefly; `dispatch` runs without it); unit queues have their own
//! locks and are never held while the model lock is taken. The journal's lock is taken
//! last and briefly.

mod journal;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::AgentError;
use super::backoff::Backoff;
use super::bookkeeping::{begin_hook, end_hook, finish_action};
use super::debug_log::DebugLog;
use super::dispatch::{Dispatcher, OutputStream};
use super::env::{hook_env, new_context_id, unit_tag};
use super::fanout::{
    changed_hooks, departure_hooks, join_hooks, relation_ref, secret_changed_hooks,
};
use super::hook::{Hook, HookKind};
use super::pebble_watch::PebbleWatch;
use super::queue::{HookQueue, Next};
use crate::hook_tools::server::{ToolHost, ToolServer};
use crate::hook_tools::{BagOwner, HookContext, ToolError, ToolOutput, ToolRequest, run_tool};
use crate::model::{ActionRecord, AppKind, CharmMeta, Fault, Model, ModelError, Status, app_of};
use crate::providers::RemoteApplication;
use journal::{Journal, Resumed};

/// Tools whose effect is immediate: the model is saved after them.
const IMMEDIATE_TOOLS: [&str; 3] = ["status-set", "application-version-set", "action-log"];

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// Where the model is persisted.
    pub model_path: PathBuf,
    /// The debug log file.
    pub debug_log: PathBuf,
    /// The agents' journal (queued, running and failed hooks per unit).
    pub journal_path: PathBuf,
    /// Retry delays of failed hooks.
    pub backoff: Backoff,
    /// How often `update-status` runs (Juju's default: 5 min).
    pub update_status_interval: Duration,
    /// How often each workload's Pebble is polled.
    pub pebble_poll_interval: Duration,
}

impl ControllerConfig {
    /// Juju's defaults, with files in `state_dir`.
    pub fn in_dir(state_dir: &Path) -> Self {
        Self {
            model_path: state_dir.join("model.json"),
            debug_log: state_dir.join("debug.log"),
            journal_path: state_dir.join("agents.json"),
            backoff: Backoff::default(),
            update_status_interval: Duration::from_secs(300),
            pebble_poll_interval: Duration::from_secs(2),
        }
    }
}

struct State {
    model: Model,
    contexts: HashMap<String, HookContext>,
}

struct UnitHandle {
    queue: Arc<HookQueue>,
    thread: Option<JoinHandle<()>>,
    _server: ToolServer,
    _watch: Option<PebbleWatch>,
}

struct Inner {
    config: ControllerConfig,
    state: Mutex<State>,
    log: DebugLog,
    units: Mutex<BTreeMap<String, UnitHandle>>,
    dispatchers: Mutex<BTreeMap<String, Arc<dyn Dispatcher>>>,
    providers: BTreeMap<&'static str, Arc<dyn RemoteApplication>>,
    journal: Mutex<Journal>,
    /// What an earlier controller's journal held, per unit, until the unit is resumed.
    earlier: Mutex<BTreeMap<String, Resumed>>,
}

/// The substrate's controller. Cloning shares it.
#[derive(Clone)]
pub struct Controller {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("model_path", &self.inner.config.model_path)
            .finish_non_exhaustive()
    }
}

/// The hook-tool host: a weak handle, so servers do not keep the controller alive.
struct Host(Weak<Inner>);

impl ToolHost for Host {
    fn call(&self, request: &ToolRequest) -> ToolOutput {
        let Some(inner) = self.0.upgrade() else {
            return ToolOutput::error(&ToolError::Run("the controller is shutting down".into()));
        };
        inner.call_tool(request)
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a consistent-enough model for a test
        // substrate; keep serving rather than cascading panics.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self, model: &Model) {
        if let Err(err) = model.save(&self.config.model_path) {
            tracing::error!(%err, "cannot persist the model");
        }
    }

    fn call_tool(&self, request: &ToolRequest) -> ToolOutput {
        let mut state = self.lock();
        let State { model, contexts } = &mut *state;
        let Some(ctx) = contexts.get_mut(&request.context_id) else {
            return ToolOutput::error(&ToolError::Run(format!(
                "bad request: wrong context ID; got {:?}",
                request.context_id
            )));
        };
        let output = run_tool(ctx, model, request);
        let entity = unit_tag(&ctx.unit);
        let logger = format!("unit.{}.juju-log", ctx.unit);
        for line in ctx.take_logs() {
            self.log.write(&entity, &line.level, &logger, &line.message);
        }
        if IMMEDIATE_TOOLS.contains(&request.tool.as_str()) && output.code == 0 {
            self.save(model);
        }
        output
    }

    fn queue(&self, unit: &str) -> Option<Arc<HookQueue>> {
        self.units
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(unit)
            .map(|h| Arc::clone(&h.queue))
    }

    fn journal(&self) -> MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `hook` on `unit`'s queue, journaled. The journal's lock is held across the
    /// push so that concurrent pushes reach both in the same order.
    fn push(&self, unit: &str, queue: &HookQueue, hook: Hook) {
        let mut journal = self.journal();
        journal.pushed(unit, &hook);
        queue.push(hook);
    }

    /// Marks `hook` failed on `unit` (retried after `delay`), journaled.
    fn fail(&self, unit: &str, queue: &HookQueue, hook: Hook, attempts: u32, delay: Duration) {
        self.journal().failed(unit, &hook, attempts);
        queue.fail(hook, attempts, delay);
    }

    /// Clears `unit`'s failed hook, journaled.
    fn resolve(&self, unit: &str, queue: &HookQueue) {
        self.journal().resolved(unit);
        queue.resolve();
    }

    fn enqueue(&self, work: Vec<(String, Hook)>) {
        for (unit, hook) in work {
            if let Some(queue) = self.queue(&unit) {
                self.push(&unit, &queue, hook);
            }
        }
    }

    fn provider_of(&self, model: &Model, app: &str) -> Option<Arc<dyn RemoteApplication>> {
        match &model.applications.get(app)?.kind {
            AppKind::Provider { provider } => self.providers.get(provider.as_str()).cloned(),
            AppKind::Charm { .. } => None,
        }
    }

    /// Runs one hook on `unit` and queues what follows from it.
    fn run_hook(
        &self,
        unit: &str,
        hook: Hook,
        retry: Option<u32>,
        queue: &HookQueue,
        dispatcher: &dyn Dispatcher,
    ) {
        let name = hook.display_name();
        let prepared = {
            let mut state = self.lock();
            match begin_hook(&mut state.model, unit, &hook) {
                Some(info) => {
                    let id = new_context_id(unit, &hook);
                    let env = hook_env(&state.model, unit, &hook, &dispatcher.layout(unit), &id);
                    state
                        .contexts
                        .insert(id.clone(), HookContext::new(id.clone(), unit, info));
                    self.save(&state.model);
                    Some((id, env))
                }
                None => None,
            }
        };
        let Some((context_id, env)) = prepared else {
            if retry.is_some() {
                self.resolve(unit, queue);
            }
            return;
        };
        let entity = unit_tag(unit);
        let logger = format!("unit.{unit}.{name}");
        // Each line reaches the debug log as the charm writes it, as in Juju.
        let outcome = dispatcher.dispatch(unit, &env, &|stream, line| {
            let level = match stream {
                OutputStream::Stdout => "DEBUG",
                OutputStream::Stderr => "WARNING",
            };
            self.log.write(&entity, level, &logger, line);
        });

        let mut follow = Vec::new();
        let mut finished_relation = None;
        let mut removed_unit = false;
        {
            let mut state = self.lock();
            let Some(mut ctx) = state.contexts.remove(&context_id) else {
                return;
            };
            let model = &mut state.model;
            if let Some(action) = &hook.action {
                let report = outcome.succeeded().then(|| ctx.commit(model));
                finish_action(model, action.id, &ctx, &outcome);
                if let Ok(u) = model.unit_mut(unit)
                    && u.agent.current.status != "error"
                {
                    u.agent.set(Status::now("idle", ""));
                }
                if let Some(report) = report {
                    follow = self.react(model, unit, &report.changed_bags);
                    follow.extend(secret_changed_hooks(model, &report.new_revisions));
                }
            } else if outcome.succeeded() {
                self.log.write(
                    &entity,
                    "INFO",
                    "juju.worker.uniter.operation",
                    &format!("ran \"{name}\" hook (via hook dispatching script: dispatch)"),
                );
                let report = ctx.commit(model);
                end_hook(model, unit, &hook);
                if retry.is_some() {
                    self.resolve(unit, queue);
                }
                follow = self.react(model, unit, &report.changed_bags);
                follow.extend(secret_changed_hooks(model, &report.new_revisions));
                if hook.kind == HookKind::RelationBroken {
                    finished_relation = hook.relation.as_ref().map(|r| r.id);
                }
                removed_unit = hook.kind == HookKind::Remove;
            } else {
                let attempts = retry.unwrap_or(0) + 1;
                let failure = outcome.failure();
                self.log.write(
                    &entity,
                    "ERROR",
                    "juju.worker.uniter.operation",
                    &format!(
                        "hook \"{name}\" (via hook dispatching script: dispatch) failed: {failure}"
                    ),
                );
                if let Ok(u) = model.unit_mut(unit) {
                    let mut status = Status::now("error", &format!("hook failed: \"{name}\""));
                    if let Some(rel) = &hook.relation {
                        status
                            .data
                            .insert("relation-id".into(), Value::from(rel.id));
                        status.data.insert(
                            "remote-unit".into(),
                            Value::from(hook.remote_unit.clone().unwrap_or_default()),
                        );
                    }
                    u.agent.set(status);
                }
                self.fail(
                    unit,
                    queue,
                    hook.clone(),
                    attempts,
                    self.config.backoff.delay(attempts),
                );
            }
            self.save(&state.model);
        }
        self.enqueue(follow);
        if let Some(id) = finished_relation {
            self.finish_relation_removal(id);
        }
        if removed_unit {
            self.forget_unit(unit, dispatcher);
        }
    }

    /// After committed bag changes: providers answer, and the units that see each
    /// changed bag get `relation-changed`.
    fn react(
        &self,
        model: &mut Model,
        writer: &str,
        changed: &BTreeSet<(u64, BagOwner)>,
    ) -> Vec<(String, Hook)> {
        let mut all: BTreeSet<(u64, BagOwner)> = changed.clone();
        for (id, _) in changed {
            let Some(rel) = model.relations.get(id) else {
                continue;
            };
            let Some(remote) = rel.remote_app(app_of(writer)).map(str::to_owned) else {
                continue;
            };
            if let Some(provider) = self.provider_of(model, &remote) {
                all.extend(self.serve(model, provider.as_ref(), *id, &remote));
            }
        }
        changed_hooks(model, &all)
    }

    /// Lets a provider answer relation `id`; returns the bags it changed.
    fn serve(
        &self,
        model: &mut Model,
        provider: &dyn RemoteApplication,
        id: u64,
        app: &str,
    ) -> BTreeSet<(u64, BagOwner)> {
        let before = model.relations.get(&id).cloned();
        if let Err(err) = provider.serve(model, id, app) {
            self.log.write(
                &format!("application-{app}"),
                "ERROR",
                "substrate.provider",
                &err.to_string(),
            );
            return BTreeSet::new();
        }
        let (Some(before), Some(after)) = (before, model.relations.get(&id)) else {
            return BTreeSet::new();
        };
        let mut changed = BTreeSet::new();
        if before.app_bags.get(app) != after.app_bags.get(app) {
            changed.insert((id, BagOwner::App(app.to_owned())));
        }
        for (unit, bag) in &after.unit_bags {
            if app_of(unit) == app && before.unit_bags.get(unit) != Some(bag) {
                changed.insert((id, BagOwner::Unit(unit.clone())));
            }
        }
        changed
    }

    fn finish_relation_removal(&self, id: u64) {
        let units: Vec<Arc<HookQueue>> = self
            .units
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|h| Arc::clone(&h.queue))
            .collect();
        if units.iter().any(|q| q.has_relation_work(id)) {
            return;
        }
        let mut state = self.lock();
        let model = &mut state.model;
        let Some(rel) = model.relations.get(&id).cloned() else {
            return;
        };
        if !rel.dying {
            return;
        }
        for end in &rel.ends {
            if let Some(provider) = self.provider_of(model, &end.application)
                && let Err(err) = provider.relation_removed(model, id, &end.application)
            {
                self.log.write(
                    &format!("application-{}", end.application),
                    "ERROR",
                    "substrate.provider",
                    &err.to_string(),
                );
            }
        }
        model.relations.remove(&id);
        for app in model.applications.values_mut() {
            for unit in app.units.values_mut() {
                unit.joined.remove(&id);
            }
        }
        self.save(model);
    }

    fn forget_unit(&self, unit: &str, dispatcher: &dyn Dispatcher) {
        let handle = self
            .units
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(unit);
        if let Some(handle) = handle {
            handle.queue.stop();
            // The thread is the caller: let it end on its own.
            drop(handle.thread);
        }
        self.journal().forget(unit);
        if let Err(err) = dispatcher.stop_unit(unit) {
            tracing::warn!(%err, unit, "cannot stop the unit's runtime");
        }
        let mut follow = Vec::new();
        {
            let mut state = self.lock();
            let model = &mut state.model;
            let app = app_of(unit).to_owned();
            if let Ok(a) = model.app_mut(&app) {
                a.units.retain(|_, u| u.name != unit);
                if a.leader.as_deref() == Some(unit) {
                    a.leader = a.units.values().find(|u| !u.dying).map(|u| u.name.clone());
                    if let Some(leader) = a.leader.clone() {
                        follow.push((leader, Hook::plain(HookKind::LeaderElected)));
                    }
                }
            }
            self.save(model);
        }
        self.enqueue(follow);
    }
}

impl Controller {
    /// A controller for `model`, playing `providers`.
    pub fn new(
        config: ControllerConfig,
        model: Model,
        providers: Vec<Arc<dyn RemoteApplication>>,
    ) -> Self {
        let log = DebugLog::new(&config.debug_log);
        let (journal, earlier) = Journal::open(&config.journal_path);
        let inner = Inner {
            config,
            state: Mutex::new(State {
                model,
                contexts: HashMap::new(),
            }),
            log,
            units: Mutex::new(BTreeMap::new()),
            dispatchers: Mutex::new(BTreeMap::new()),
            providers: providers.into_iter().map(|p| (p.kind(), p)).collect(),
            journal: Mutex::new(journal),
            earlier: Mutex::new(earlier),
        };
        let controller = Self {
            inner: Arc::new(inner),
        };
        {
            let state = controller.inner.lock();
            controller.inner.save(&state.model);
        }
        controller
    }

    /// A copy of the model as it is now.
    pub fn model(&self) -> Model {
        self.inner.lock().model.clone()
    }

    /// The debug log file.
    pub fn debug_log(&self) -> &Path {
        self.inner.log.path()
    }

    /// Polls until `done(model)` holds or `timeout` passes; returns the last model
    /// either way (`Err` on timeout).
    pub fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&Model) -> bool,
    ) -> Result<Model, Box<Model>> {
        let start = Instant::now();
        loop {
            let model = self.model();
            if done(&model) {
                return Ok(model);
            }
            if start.elapsed() >= timeout {
                return Err(Box::new(model));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Whether every unit agent has nothing queued, running or waiting for a retry.
    pub fn is_idle(&self) -> bool {
        self.inner
            .units
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .all(|h| h.queue.is_idle())
    }

    /// Deploys the charm in `charm_dir` as `app` with `units` units run by `dispatcher`.
    pub fn deploy(
        &self,
        app: &str,
        charm_dir: &Path,
        units: u32,
        dispatcher: Arc<dyn Dispatcher>,
    ) -> Result<(), AgentError> {
        let charm = CharmMeta::load(charm_dir)?;
        if charm.containers.is_empty() {
            tracing::debug!(app, "the charm declares no containers");
        }
        let names = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            let kind = AppKind::Charm {
                dir: charm_dir.to_string_lossy().into_owned(),
            };
            let added = model.add_application(app, kind, charm, units)?;
            let names: Vec<String> = added.units.values().map(|u| u.name.clone()).collect();
            model.add_peer_relations(app)?;
            self.inner.save(model);
            names
        };
        self.inner
            .dispatchers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(app.to_owned(), Arc::clone(&dispatcher));
        for name in names {
            self.start_unit(&name, Arc::clone(&dispatcher), false)?;
        }
        Ok(())
    }

    /// Adds remote application `app` played by provider `kind` (`postgresql`, `redis`).
    pub fn add_remote(&self, app: &str, kind: &str) -> Result<(), AgentError> {
        let provider = self.inner.providers.get(kind).cloned().ok_or_else(|| {
            AgentError::Other(format!(
                "no provider {kind:?}; known: {}",
                self.inner
                    .providers
                    .keys()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let mut state = self.inner.lock();
        let model = &mut state.model;
        let kind = AppKind::Provider {
            provider: kind.to_owned(),
        };
        model.add_application(app, kind, provider.charm(), 1)?;
        if let Ok(a) = model.app_mut(app) {
            for unit in a.units.values_mut() {
                unit.workload.set(Status::now("active", ""));
                unit.agent.set(Status::now("idle", ""));
                unit.installed = true;
                unit.started = true;
            }
            a.status.set(Status::now("active", ""));
        }
        if let Err(err) = provider.start(model, app) {
            model.applications.remove(app);
            return Err(err.into());
        }
        self.inner.save(model);
        Ok(())
    }

    /// Starts `unit`'s runtime, hook-tool socket, agent and Pebble poller, and queues its
    /// deploy hooks; with `announce`, units already running see it join.
    fn start_unit(
        &self,
        unit: &str,
        dispatcher: Arc<dyn Dispatcher>,
        announce: bool,
    ) -> Result<(), AgentError> {
        let address = dispatcher.start_unit(unit)?;
        let (hooks, others) = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            if let Ok(u) = model.unit_mut(unit) {
                u.address = address;
            }
            let hooks = deploy_hooks(model, unit)?;
            let others = if announce {
                join_announcements(model, unit)
            } else {
                Vec::new()
            };
            self.inner.save(model);
            (hooks, others)
        };
        self.spawn_agent(unit, dispatcher, None, hooks)?;
        self.inner.enqueue(others);
        Ok(())
    }

    /// Resumes the agents of charm application `app`'s units, found in the model this
    /// controller was created with, run by `dispatcher` (see the module docs for what
    /// they run first). Returns the units resumed.
    pub fn resume(
        &self,
        app: &str,
        dispatcher: Arc<dyn Dispatcher>,
    ) -> Result<Vec<String>, AgentError> {
        let units: Vec<String> = {
            let state = self.inner.lock();
            let application = state.model.app(app)?;
            if !application.is_charm() {
                return Err(ModelError::Invalid(format!(
                    "{app} is a remote application; it has no unit agents"
                ))
                .into());
            }
            application.units.values().map(|u| u.name.clone()).collect()
        };
        self.inner
            .dispatchers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(app.to_owned(), Arc::clone(&dispatcher));
        for unit in &units {
            if self.inner.queue(unit).is_some() {
                return Err(AgentError::Other(format!("{unit}'s agent already runs")));
            }
            let earlier = self
                .inner
                .earlier
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(unit);
            let address = dispatcher.start_unit(unit)?;
            let (retry, hooks) = {
                let mut state = self.inner.lock();
                let model = &mut state.model;
                let u = model.unit_mut(unit)?;
                if address.is_some() {
                    u.address = address;
                }
                // The agent that ran the hook is gone; the retried hook sets it again.
                if u.agent.current.status == "executing" {
                    u.agent.set(Status::now("idle", ""));
                }
                let (installed, started, dying) = (u.installed, u.started, u.dying);
                let resumed = match earlier {
                    Some(resumed) => resumed,
                    // No journal: a unit that never installed starts over.
                    None if !installed => Resumed {
                        retry: None,
                        pending: deploy_hooks(model, unit)?,
                    },
                    None => Resumed::default(),
                };
                let mut hooks = Vec::new();
                // Juju's sidecar reboot resolver: `start` again on a restarted agent
                // (not on one being removed: its queue holds stop and remove).
                if started && !dying {
                    hooks.push(Hook::plain(HookKind::Start));
                }
                hooks.extend(resumed.pending);
                self.inner.save(model);
                (resumed.retry, hooks)
            };
            tracing::info!(unit, retry = ?retry.as_ref().map(|(h, _)| h.display_name()), queued = hooks.len(), "resuming the unit agent");
            self.spawn_agent(unit, Arc::clone(&dispatcher), retry, hooks)?;
        }
        Ok(units)
    }

    /// Starts again what remote application `app`'s provider runs (its server), found in
    /// the model this controller was created with.
    pub fn resume_remote(&self, app: &str) -> Result<(), AgentError> {
        let mut state = self.inner.lock();
        let model = &mut state.model;
        let provider = self.inner.provider_of(model, app).ok_or_else(|| {
            ModelError::Invalid(format!(
                "{app} is not a remote application played by a known provider"
            ))
        })?;
        provider.start(model, app)?;
        self.inner.save(model);
        Ok(())
    }

    /// Starts `unit`'s hook-tool socket, queue (`retry` first, then `hooks`), agent
    /// thread, update-status timer and Pebble poller.
    fn spawn_agent(
        &self,
        unit: &str,
        dispatcher: Arc<dyn Dispatcher>,
        retry: Option<(Hook, u32)>,
        hooks: Vec<Hook>,
    ) -> Result<(), AgentError> {
        let server = ToolServer::start(
            &dispatcher.host_socket(unit),
            Arc::new(Host(Arc::downgrade(&self.inner))),
        )
        .map_err(|e| AgentError::io("listen on", dispatcher.host_socket(unit), e))?;
        let queue = Arc::new(HookQueue::new());
        if let Some((hook, attempts)) = retry {
            self.inner
                .fail(unit, &queue, hook, attempts, Duration::ZERO);
        }
        for hook in hooks {
            self.inner.push(unit, &queue, hook);
        }
        queue.schedule_update_status(self.inner.config.update_status_interval);
        let containers = {
            let state = self.inner.lock();
            state.model.app(app_of(unit))?.charm.containers.clone()
        };
        let sockets: BTreeMap<String, PathBuf> = containers
            .iter()
            .filter_map(|c| dispatcher.pebble_socket(unit, c).map(|s| (c.clone(), s)))
            .collect();
        let watch = if sockets.is_empty() {
            None
        } else {
            let weak = Arc::downgrade(&self.inner);
            let owner = unit.to_owned();
            Some(
                PebbleWatch::start(sockets, self.inner.config.pebble_poll_interval, move |c| {
                    if let Some(inner) = weak.upgrade() {
                        inner.enqueue(vec![(owner.clone(), Hook::pebble_ready(c))]);
                    }
                })
                .map_err(|e| AgentError::Other(format!("cannot start the Pebble poller: {e}")))?,
            )
        };
        let thread = {
            let weak = Arc::downgrade(&self.inner);
            let queue = Arc::clone(&queue);
            let unit = unit.to_owned();
            let every = self.inner.config.update_status_interval;
            std::thread::Builder::new()
                .name(format!("agent-{}", unit.replace('/', "-")))
                .spawn(move || {
                    loop {
                        match queue.next(every) {
                            Next::Stop => break,
                            Next::Run { hook, retry } => {
                                let Some(inner) = weak.upgrade() else { break };
                                inner.journal().taken(&unit, &hook, retry);
                                inner.run_hook(&unit, *hook, retry, &queue, dispatcher.as_ref());
                                queue.done();
                                inner.journal().finished(&unit);
                            }
                        }
                    }
                })
                .map_err(|e| AgentError::Other(format!("cannot start the unit agent: {e}")))?
        };
        self.inner
            .units
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                unit.to_owned(),
                UnitHandle {
                    queue,
                    thread: Some(thread),
                    _server: server,
                    _watch: watch,
                },
            );
        Ok(())
    }

    /// Relates `a` and `b` (`app` or `app:endpoint`); returns the relation id.
    pub fn integrate(&self, a: &str, b: &str) -> Result<u64, AgentError> {
        let work = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            let id = model.integrate(a, b)?;
            let ends: Vec<String> = model.relations[&id]
                .ends
                .iter()
                .map(|e| e.application.clone())
                .collect();
            for app in &ends {
                if let Some(provider) = self.inner.provider_of(model, app) {
                    self.inner.serve(model, provider.as_ref(), id, app);
                }
            }
            let mut work = Vec::new();
            for app in &ends {
                let Ok(application) = model.app(app) else {
                    continue;
                };
                if !application.is_charm() {
                    continue;
                }
                for unit in application.units.values().filter(|u| !u.dying) {
                    if let Some(rel) = relation_ref(model, &unit.name, id) {
                        work.push((
                            unit.name.clone(),
                            Hook::relation(HookKind::RelationCreated, rel, None),
                        ));
                    }
                    for hook in join_hooks(model, &unit.name, id) {
                        work.push((unit.name.clone(), hook));
                    }
                }
            }
            self.inner.save(model);
            (id, work)
        };
        self.inner.enqueue(work.1);
        Ok(work.0)
    }

    /// Removes the relation between `a` and `b` (`app` or `app:endpoint`): departed and
    /// broken hooks run, then the relation is gone. Returns its id.
    pub fn remove_relation(&self, a: &str, b: &str) -> Result<u64, AgentError> {
        let split = |t: &str| -> (String, Option<String>) {
            match t.split_once(':') {
                Some((x, y)) => (x.to_owned(), Some(y.to_owned())),
                None => (t.to_owned(), None),
            }
        };
        let ((a_app, a_ep), (b_app, b_ep)) = (split(a), split(b));
        let (id, work) = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            model.app(&a_app)?;
            model.app(&b_app)?;
            let matches: Vec<u64> = model
                .relations
                .values()
                .filter(|r| !r.dying)
                .filter(|r| {
                    let fits = |app: &str, ep: &Option<String>| {
                        r.end_of(app)
                            .is_some_and(|e| ep.as_ref().is_none_or(|x| *x == e.endpoint))
                    };
                    !r.is_peer() && fits(&a_app, &a_ep) && fits(&b_app, &b_ep)
                })
                .map(|r| r.id)
                .collect();
            let id = match matches.as_slice() {
                [id] => *id,
                [] => {
                    return Err(
                        ModelError::Relation(format!("no relation between {a} and {b}")).into(),
                    );
                }
                _ => {
                    return Err(ModelError::Relation(format!(
                        "several relations between {a} and {b}; name the endpoints"
                    ))
                    .into());
                }
            };
            let work = departure_hooks(model, id);
            if let Some(rel) = model.relations.get_mut(&id) {
                rel.dying = true;
            }
            self.inner.save(model);
            (id, work)
        };
        self.inner.enqueue(work);
        self.inner.finish_relation_removal(id);
        Ok(id)
    }

    /// Sets config values given as text, checked against the charm's options.
    pub fn config_set(
        &self,
        app: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<(), AgentError> {
        self.change_config(app, |application| {
            for (key, text) in values {
                let option = application.charm.options.get(key).ok_or_else(|| {
                    ModelError::UnknownOption {
                        application: application.name.clone(),
                        key: key.clone(),
                    }
                })?;
                let value = option.kind.parse_value(key, text)?;
                application.config.insert(key.clone(), value);
            }
            Ok(())
        })
    }

    /// Resets options to their defaults.
    pub fn config_reset(&self, app: &str, keys: &[String]) -> Result<(), AgentError> {
        self.change_config(app, |application| {
            for key in keys {
                let option = application.charm.options.get(key).ok_or_else(|| {
                    ModelError::UnknownOption {
                        application: application.name.clone(),
                        key: key.clone(),
                    }
                })?;
                match &option.default {
                    Some(default) => application.config.insert(key.clone(), default.clone()),
                    None => application.config.remove(key),
                };
            }
            Ok(())
        })
    }

    fn change_config(
        &self,
        app: &str,
        change: impl FnOnce(&mut crate::model::Application) -> Result<(), ModelError>,
    ) -> Result<(), AgentError> {
        let work = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            let application = model.app_mut(app)?;
            if !application.is_charm() {
                return Err(ModelError::Invalid(format!(
                    "{app} is a remote application; it has no config"
                ))
                .into());
            }
            let before = application.config.clone();
            let mut changed = application.clone();
            change(&mut changed)?;
            let differs = changed.config != before;
            *application = changed;
            self.inner.save(model);
            if !differs {
                return Ok(());
            }
            model
                .app(app)?
                .units
                .values()
                .filter(|u| !u.dying)
                .map(|u| (u.name.clone(), Hook::plain(HookKind::ConfigChanged)))
                .collect()
        };
        self.inner.enqueue(work);
        Ok(())
    }

    /// Queues action `name` on `unit` with `key=value` parameters checked against
    /// actions.yaml; returns the action id.
    pub fn run_action(
        &self,
        unit: &str,
        name: &str,
        params: &BTreeMap<String, String>,
    ) -> Result<u64, AgentError> {
        let id = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            let u = model.unit(unit)?;
            if u.dying {
                return Err(ModelError::Invalid(format!("unit {unit} is being removed")).into());
            }
            let app = model.app(app_of(unit))?;
            if !app.is_charm() {
                return Err(ModelError::Invalid(format!(
                    "{unit} is a remote unit; it runs no actions"
                ))
                .into());
            }
            let params = app.charm.validate_action(name, params)?;
            let id = model.next_action_id;
            model.next_action_id += 1;
            model.actions.insert(
                id,
                ActionRecord {
                    id,
                    unit: unit.to_owned(),
                    name: name.to_owned(),
                    params,
                    status: "pending".into(),
                    message: String::new(),
                    results: BTreeMap::new(),
                    log: Vec::new(),
                },
            );
            self.inner.save(model);
            id
        };
        self.inner
            .enqueue(vec![(unit.to_owned(), Hook::action(id, name))]);
        Ok(id)
    }

    /// Adds a fault: the next `fault.count` calls of `fault.tool` fail.
    pub fn inject_fault(&self, fault: Fault) {
        let mut state = self.inner.lock();
        state.model.faults.push(fault);
        self.inner.save(&state.model);
    }

    /// Scales charm application `app` to `units` units.
    pub fn scale(&self, app: &str, units: u32) -> Result<(), AgentError> {
        let dispatcher = self
            .inner
            .dispatchers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(app)
            .cloned()
            .ok_or_else(|| {
                ModelError::Invalid(format!("{app} is not a charm deployed by this controller"))
            })?;
        let (added, removing) = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            let application = model.app_mut(app)?;
            let live: Vec<String> = application
                .units
                .values()
                .filter(|u| !u.dying)
                .map(|u| u.name.clone())
                .collect();
            let mut added = Vec::new();
            for _ in live.len() as u32..units {
                added.push(application.add_unit());
            }
            if application.leader.is_none() {
                application.leader = added.first().cloned();
            }
            let removing: Vec<String> = live
                .iter()
                .rev()
                .take(live.len().saturating_sub(units as usize))
                .cloned()
                .collect();
            self.inner.save(model);
            (added, removing)
        };
        for unit in added {
            self.start_unit(&unit, Arc::clone(&dispatcher), true)?;
        }
        for unit in removing {
            self.remove_unit(&unit);
        }
        Ok(())
    }

    fn remove_unit(&self, unit: &str) {
        let work = {
            let mut state = self.inner.lock();
            let model = &mut state.model;
            let Ok(u) = model.unit_mut(unit) else { return };
            u.dying = true;
            let mut work = Vec::new();
            let relations: Vec<u64> = model
                .relations
                .values()
                .filter(|r| r.involves(app_of(unit)))
                .map(|r| r.id)
                .collect();
            for id in relations {
                let Some(rel) = relation_ref(model, unit, id) else {
                    continue;
                };
                let members: Vec<String> = model
                    .unit(unit)
                    .map(|u| {
                        u.joined
                            .get(&id)
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .collect()
                    })
                    .unwrap_or_default();
                for m in members {
                    work.push((
                        unit.to_owned(),
                        Hook::relation(HookKind::RelationDeparted, rel.clone(), Some(m)),
                    ));
                }
                work.push((
                    unit.to_owned(),
                    Hook::relation(HookKind::RelationBroken, rel, None),
                ));
                // Other units that saw this one join see it depart.
                for app in model.applications.values().filter(|a| a.is_charm()) {
                    for other in app.units.values().filter(|o| o.name != unit) {
                        if other.joined.get(&id).is_some_and(|s| s.contains(unit))
                            && let Some(r) = relation_ref(model, &other.name, id)
                        {
                            work.push((
                                other.name.clone(),
                                Hook::relation(
                                    HookKind::RelationDeparted,
                                    r,
                                    Some(unit.to_owned()),
                                ),
                            ));
                        }
                    }
                }
            }
            work.push((unit.to_owned(), Hook::plain(HookKind::Stop)));
            work.push((unit.to_owned(), Hook::plain(HookKind::Remove)));
            self.inner.save(model);
            work
        };
        self.inner.enqueue(work);
    }

    /// Removes application `app`: its relations, then its units (charms) or its server
    /// (providers).
    pub fn remove_application(&self, app: &str) -> Result<(), AgentError> {
        let (relations, units, provider) = {
            let state = self.inner.lock();
            let model = &state.model;
            let application = model.app(app)?;
            let relations: Vec<(String, String)> = model
                .relations
                .values()
                .filter(|r| r.involves(app) && !r.is_peer() && !r.dying)
                .filter_map(|r| {
                    Some((
                        format!("{app}:{}", r.end_of(app)?.endpoint),
                        r.remote_app(app)?.to_owned(),
                    ))
                })
                .collect();
            let units: Vec<String> = application
                .units
                .values()
                .filter(|u| !u.dying)
                .map(|u| u.name.clone())
                .collect();
            (relations, units, self.inner.provider_of(model, app))
        };
        for (mine, other) in relations {
            self.remove_relation(&mine, &other)?;
        }
        if provider.is_none() {
            for unit in units {
                self.remove_unit(&unit);
            }
        }
        let inner = Arc::downgrade(&self.inner);
        let app = app.to_owned();
        // Drop the application once its last unit (charm) or relation (provider) is gone.
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let Some(inner) = inner.upgrade() else { return };
                let mut state = inner.lock();
                let model = &mut state.model;
                let Some(application) = model.applications.get(&app) else {
                    return;
                };
                let done = match &provider {
                    None => application.units.is_empty(),
                    Some(_) => !model
                        .relations
                        .values()
                        .any(|r| r.involves(&app) && !r.is_peer()),
                };
                if !done {
                    continue;
                }
                if let Some(provider) = &provider
                    && let Err(err) = provider.stop(model, &app)
                {
                    inner.log.write(
                        &format!("application-{app}"),
                        "ERROR",
                        "substrate.provider",
                        &err.to_string(),
                    );
                }
                model.applications.remove(&app);
                model.relations.retain(|_, r| !r.involves(&app));
                inner.save(model);
                return;
            }
        });
        Ok(())
    }

    /// Stops every unit agent (hooks in flight finish first). The model stays on disk.
    pub fn shutdown(&self) {
        let handles: Vec<UnitHandle> = {
            let mut units = self.inner.units.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *units).into_values().collect()
        };
        for handle in &handles {
            handle.queue.stop();
        }
        for mut handle in handles {
            if let Some(thread) = handle.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

/// A new unit's hooks in Juju's order (see the module docs).
fn deploy_hooks(model: &Model, unit: &str) -> Result<Vec<Hook>, AgentError> {
    let app = model.app(app_of(unit))?;
    let leader = app.leader.as_deref() == Some(unit);
    let relations: Vec<u64> = model
        .relations
        .values()
        .filter(|r| r.involves(app_of(unit)) && !r.dying)
        .map(|r| r.id)
        .collect();
    let mut hooks = vec![Hook::plain(HookKind::Install)];
    for id in &relations {
        if let Some(rel) = relation_ref(model, unit, *id) {
            hooks.push(Hook::relation(HookKind::RelationCreated, rel, None));
        }
    }
    hooks.push(Hook::plain(if leader {
        HookKind::LeaderElected
    } else {
        HookKind::LeaderSettingsChanged
    }));
    hooks.push(Hook::plain(HookKind::ConfigChanged));
    hooks.push(Hook::plain(HookKind::Start));
    for id in &relations {
        hooks.extend(join_hooks(model, unit, *id));
    }
    Ok(hooks)
}

/// The joined and changed hooks by which the other charm units in `unit`'s relations
/// see it join.
fn join_announcements(model: &Model, unit: &str) -> Vec<(String, Hook)> {
    let mut others = Vec::new();
    for rel in model
        .relations
        .values()
        .filter(|r| r.involves(app_of(unit)) && !r.dying)
    {
        for end in &rel.ends {
            let Ok(other_app) = model.app(&end.application) else {
                continue;
            };
            if !other_app.is_charm() {
                continue;
            }
            for other in other_app
                .units
                .values()
                .filter(|o| o.name != unit && !o.dying)
            {
                if let Some(r) = relation_ref(model, &other.name, rel.id) {
                    others.push((
                        other.name.clone(),
                        Hook::relation(HookKind::RelationJoined, r.clone(), Some(unit.to_owned())),
                    ));
                    others.push((
                        other.name.clone(),
                        Hook::relation(HookKind::RelationChanged, r, Some(unit.to_owned())),
                    ));
                }
            }
        }
    }
    others
}
