//! One dispatch in memory: [`Context::run`] checks the input, builds the exact hook
//! environment, hands the charm a [`HookRun`] (the parsed [`JujuContext`], the in-memory
//! hook tools and a [`FakePebble`] per container), captures its `tracing` output, and
//! returns the output [`State`] with everything recorded, or a [`Failure`].
//!
//! Commit semantics are Juju's: relation data, charm state, secrets and ports reach the
//! output state only when the charm succeeds; statuses and the workload version stick
//! either way. Pebble changes are never rolled back (they happened in the container).

use std::collections::BTreeMap;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use juju_runtime::{ContextError, JujuContext, LogLevel, Status};

use crate::consistency::{self, Inconsistency};
use crate::event::ScenarioEvent;
use crate::hook_env::{UnitIdentity, hook_env};
use crate::hook_tools::{ActionRecord, RunFacts, ScenarioHookTools};
use crate::pebble::{FakePebble, PebbleWorld, lock};
use crate::record::{
    HookToolCall, PebbleCall, RecordedPebbleCall, ServiceTransition, ServiceTransitionKind,
};
use crate::spec::{CharmSpec, SpecError};
use crate::state::State;

/// Where the fake hook tools would live (only used in `PATH`; nothing is run).
const TOOLS_DIR: &str = "/var/lib/juju/tools/unit-scenario";

/// How a charm's dispatch ended badly: the exit code and stderr the process would have
/// produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharmFailure {
    /// The exit code (non-zero).
    pub exit_code: i32,
    /// What the process would have written to stderr.
    pub stderr: String,
}

impl CharmFailure {
    /// Exit code 1 with `error` as one stderr line, as a charm's `main` reports an error.
    pub fn from_error(error: &dyn std::fmt::Display) -> Self {
        Self {
            exit_code: 1,
            stderr: format!("{error}\n"),
        }
    }
}

/// The charm under test: anything that can handle one dispatch.
pub trait Charm {
    /// Handles the dispatch described by `run`.
    fn dispatch(&self, run: &HookRun<'_>) -> Result<(), CharmFailure>;
}

impl<F> Charm for F
where
    F: Fn(&HookRun<'_>) -> Result<(), CharmFailure>,
{
    fn dispatch(&self, run: &HookRun<'_>) -> Result<(), CharmFailure> {
        self(run)
    }
}

/// What the charm gets for one dispatch.
#[derive(Debug)]
pub struct HookRun<'a> {
    env: &'a BTreeMap<String, String>,
    context: &'a JujuContext,
    tools: &'a ScenarioHookTools,
    world: &'a Arc<Mutex<PebbleWorld>>,
}

impl HookRun<'_> {
    /// The exact environment Juju would have set for `dispatch`.
    pub fn env(&self) -> &BTreeMap<String, String> {
        self.env
    }

    /// That environment parsed by juju-runtime (what `JujuContext::from_env` returns).
    pub fn context(&self) -> &JujuContext {
        self.context
    }

    /// The in-memory hook tools.
    pub fn hook_tools(&self) -> &ScenarioHookTools {
        self.tools
    }

    /// The Pebble of container `name` (unreachable if the state has no such container).
    pub fn pebble(&self, name: &str) -> FakePebble {
        FakePebble::new(name, Arc::clone(self.world))
    }
}

/// What one successful (or, inside [`Failure`], failed) dispatch produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The state after the dispatch (after the commit, or without the buffered changes
    /// if it failed).
    pub state: State,
    /// Every hook-tool call, in order.
    pub hook_tool_calls: Vec<HookToolCall>,
    /// Every Pebble call, in order, with its container.
    pub pebble_calls: Vec<RecordedPebbleCall>,
    /// Every service start, stop and restart Pebble performed.
    pub service_transitions: Vec<ServiceTransition>,
    /// `juju-log` calls made through the hook tools.
    pub juju_log: Vec<(LogLevel, String)>,
    /// Everything the charm logged through `tracing` (all levels), as formatted text.
    pub logs: String,
    /// Every unit status set, in order.
    pub unit_status_history: Vec<Status>,
    /// Every application status set, in order.
    pub app_status_history: Vec<Status>,
    /// Every workload version set, in order.
    pub workload_version_history: Vec<String>,
    /// The action's results, logs and failure (empty for hooks).
    pub action: ActionRecord,
}

impl Output {
    /// The calls made to hook tool `tool` (e.g. `relation-set`).
    pub fn calls_to(&self, tool: &str) -> Vec<&HookToolCall> {
        self.hook_tool_calls
            .iter()
            .filter(|c| c.tool() == tool)
            .collect()
    }

    /// The Pebble calls that change a container (all containers), in order.
    pub fn pebble_writes(&self) -> Vec<&RecordedPebbleCall> {
        self.pebble_calls
            .iter()
            .filter(|c| c.call.is_write())
            .collect()
    }

    /// The Pebble calls made to `container`.
    pub fn pebble_calls_to(&self, container: &str) -> Vec<&PebbleCall> {
        self.pebble_calls
            .iter()
            .filter(|c| c.container == container)
            .map(|c| &c.call)
            .collect()
    }

    /// `(container, service)` of every service that was restarted (or started again
    /// after a stop) in this dispatch.
    pub fn restarted_services(&self) -> Vec<(&str, &str)> {
        self.service_transitions
            .iter()
            .filter(|t| t.kind == ServiceTransitionKind::Restarted)
            .map(|t| (t.container.as_str(), t.service.as_str()))
            .collect()
    }

    /// The files pushed to `container`, path to content, in push order (last wins).
    pub fn pushed_files(&self, container: &str) -> BTreeMap<&str, &[u8]> {
        self.pebble_calls
            .iter()
            .filter(|c| c.container == container && c.succeeded)
            .filter_map(|c| match &c.call {
                PebbleCall::Push { path, content, .. } => Some((path.as_str(), content.as_slice())),
                _ => None,
            })
            .collect()
    }
}

/// A dispatch that exited non-zero (or panicked).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The exit code (101 for a panic, as Rust's unwinding `main` exits).
    pub exit_code: i32,
    /// stderr.
    pub stderr: String,
    /// The state with only the immediate changes (statuses, workload version) and the
    /// Pebble changes, and everything recorded.
    pub output: Output,
}

/// Why [`Context::run`] returned no output.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The input is impossible; the charm did not run.
    #[error("inconsistent input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Inconsistent(Vec<Inconsistency>),
    /// juju-runtime refused the environment built for the event (the charm did not
    /// run): the event or identity is malformed.
    #[error("the hook environment is not valid: {0}")]
    Environment(#[from] ContextError),
    /// The charm failed.
    #[error("dispatch failed with exit code {}: {}", .0.exit_code, .0.stderr.trim_end())]
    HookFailed(Box<Failure>),
}

impl RunError {
    /// The failure, if the charm ran and failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::HookFailed(failure) => Some(failure),
            _ => None,
        }
    }

    /// The inconsistencies, if the input was refused.
    pub fn inconsistencies(&self) -> &[Inconsistency] {
        match self {
            Self::Inconsistent(list) => list,
            _ => &[],
        }
    }
}

/// A shared buffer the capturing `tracing` subscriber writes into.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The harness for one charm: its declared surface, the unit's identity, and the charm.
pub struct Context {
    spec: Arc<CharmSpec>,
    identity: UnitIdentity,
    charm: Box<dyn Charm>,
    runs: AtomicU64,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("spec", &self.spec)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A harness for `charm` declared by `spec`, as unit 0 of an application named like
    /// the charm.
    pub fn new(spec: CharmSpec, charm: impl Charm + 'static) -> Self {
        let identity = UnitIdentity::new(spec.name.clone());
        Self {
            spec: Arc::new(spec),
            identity,
            charm: Box::new(charm),
            runs: AtomicU64::new(0),
        }
    }

    /// A harness reading metadata.yaml, config.yaml and actions.yaml from `charm_dir`.
    pub fn from_charm_dir(
        charm_dir: impl AsRef<Path>,
        charm: impl Charm + 'static,
    ) -> Result<Self, SpecError> {
        Ok(Self::new(CharmSpec::load(charm_dir.as_ref())?, charm))
    }

    /// With another unit identity (application name, unit number, model, Juju version).
    pub fn with_identity(mut self, identity: UnitIdentity) -> Self {
        self.identity = identity;
        self
    }

    /// With this unit's number.
    pub fn with_unit_id(mut self, unit_id: u32) -> Self {
        self.identity.unit_id = unit_id;
        self
    }

    /// The charm's declared surface.
    pub fn spec(&self) -> &CharmSpec {
        &self.spec
    }

    /// The unit's identity.
    pub fn identity(&self) -> &UnitIdentity {
        &self.identity
    }

    /// Runs one dispatch of `event` on `state`.
    pub fn run(&self, event: ScenarioEvent, state: State) -> Result<Output, RunError> {
        let inconsistencies = consistency::check(&self.spec, &event, &state);
        if !inconsistencies.is_empty() {
            return Err(RunError::Inconsistent(inconsistencies));
        }
        let seq = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let env = hook_env(&self.identity, &event, &state, Path::new(TOOLS_DIR), seq);
        let context = JujuContext::from_vars(env.clone())?;

        let world = Arc::new(Mutex::new(PebbleWorld {
            containers: state.containers.clone(),
            ..PebbleWorld::default()
        }));
        let facts = Arc::new(RunFacts {
            spec: Arc::clone(&self.spec),
            identity: self.identity.clone(),
            event,
            before: state.clone(),
        });
        let tools = ScenarioHookTools::new(facts, state.clone());
        let run = HookRun {
            env: &env,
            context: &context,
            tools: &tools,
            world: &world,
        };

        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let outcome = tracing::subscriber::with_default(subscriber, || {
            catch_unwind(AssertUnwindSafe(|| self.charm.dispatch(&run)))
        });
        let outcome = match outcome {
            Ok(result) => result,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                Err(CharmFailure {
                    exit_code: 101,
                    stderr: format!("charm panicked: {message}\n"),
                })
            }
        };

        let session = tools.lock();
        let world = lock(&world);
        let logs = String::from_utf8_lossy(
            &logs
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned();
        let mut output = Output {
            state: session.state.clone(),
            hook_tool_calls: session.calls.clone(),
            pebble_calls: world.calls.clone(),
            service_transitions: world.transitions.clone(),
            juju_log: session.juju_log.clone(),
            logs,
            unit_status_history: session.unit_status_history.clone(),
            app_status_history: session.app_status_history.clone(),
            workload_version_history: session.workload_version_history.clone(),
            action: session.action.clone(),
        };
        output.state.containers = world.containers.clone();
        match outcome {
            Ok(()) => Ok(output),
            Err(failure) => {
                // Nothing buffered is committed; immediate changes stay.
                let mut after = state;
                after.unit_status = output.state.unit_status.clone();
                after.app_status = output.state.app_status.clone();
                after.workload_version = output.state.workload_version.clone();
                after.containers = output.state.containers.clone();
                output.state = after;
                Err(RunError::HookFailed(Box::new(Failure {
                    exit_code: failure.exit_code,
                    stderr: failure.stderr,
                    output,
                })))
            }
        }
    }
}
