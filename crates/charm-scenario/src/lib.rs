//! Scenario-style state-transition testing for a Rust Juju sidecar charm, in memory.
//!
//! One [`Context::run`] is one dispatch: a declarative input [`State`] (config,
//! relations with their four databags, leadership, secrets, statuses, workload version,
//! ports, charm state, model proxy, and each container's Pebble) plus a
//! [`ScenarioEvent`] go in; the output [`State`] and a record of every hook-tool call
//! ([`HookToolCall`]), every Pebble call ([`PebbleCall`]) and every service transition
//! come out, or a [`Failure`] with the exit code, stderr and the state with only the
//! immediate changes.
//!
//! The harness knows nothing of any particular charm: it takes the charm as a closure
//! (or any [`Charm`]) that receives a [`HookRun`] (the exact hook environment, parsed
//! by juju-runtime; [`ScenarioHookTools`], an in-memory `HookTools`; [`FakePebble`], an
//! in-memory `Pebble` per container) and the charm's metadata/config/actions YAML
//! ([`CharmSpec`]), against which impossible inputs are refused ([`Inconsistency`]).
//!
//! # What is modelled, and what is not
//!
//! Copied from Juju 3.6 (`docs/juju-contract.md` §1.4, §2): commit on success only for
//! relation data, charm state, secrets and ports; status and workload version at once;
//! read-your-writes except `opened-ports`; the own app bag leader-only (peers: readable by
//! all); `relation-ids` without the relation being broken and sorted as text;
//! `relation-list` without the departing unit; empty values deleting keys; app-owned
//! secrets managed by the leader only, owners reading the latest revision and consumers
//! their tracked one (`--peek`, `--refresh`); the real tools' error texts and exit codes,
//! classified by juju-runtime exactly as for the real processes. From Pebble: unreachable
//! containers, `override` required, layers combined by label and across labels, replan
//! restarting only services whose definition changed, services that exit at once, files
//! needing their parent, commands answered by argv prefix.
//!
//! Not modelled (a charm needing them gets an error or a fixed answer): storage, custom
//! network bindings (`network-get` answers 192.0.2.0 for every declared endpoint),
//! `leader-get`/`leader-set`, `credential-get`, `resource-get`, `juju-log` line
//! splitting, Pebble notices beyond listing, check runs (a check's status is what the state
//! says). `tracing` output is captured only from the thread that runs the charm.
//!
//! ```
//! use charm_scenario::{CharmFailure, CharmSpec, Context, HookRun, ScenarioEvent, State};
//! use juju_runtime::{HookTools, Scope, Status};
//!
//! let spec = CharmSpec::parse("name: demo", None, None).unwrap();
//! let ctx = Context::new(spec, |run: &HookRun<'_>| {
//!     run.hook_tools()
//!         .status_set(Scope::Unit, &Status::Active)
//!         .map_err(|e| CharmFailure::from_error(&e))
//! });
//! let out = ctx.run(ScenarioEvent::install(), State::new()).unwrap();
//! assert_eq!(out.state.unit_status, Some(Status::Active));
//! assert_eq!(out.calls_to("status-set").len(), 1);
//! ```

#![deny(missing_docs)]

pub mod consistency;
pub mod container;
pub mod event;
pub mod hook_env;
pub mod hook_tools;
pub mod layers;
pub mod pebble;
pub mod record;
pub mod run;
pub mod sequence;
pub mod spec;
pub mod state;

pub use consistency::Inconsistency;
pub use container::{Container, ExecResult, FileEntry, ServiceRuntime};
pub use event::{ScenarioEvent, SecretHook, WorkloadHook};
pub use hook_env::{UnitIdentity, hook_env};
pub use hook_tools::{ActionRecord, ScenarioHookTools};
pub use pebble::FakePebble;
pub use record::{
    HookToolCall, PebbleCall, RecordedPebbleCall, ServiceTransition, ServiceTransitionKind,
};
pub use run::{Charm, CharmFailure, Context, Failure, HookRun, Output, RunError};
pub use sequence::initial_hook_events;
pub use spec::{CharmSpec, SpecError};
pub use state::{ModelProxy, Relation, RelationKind, Secret, State};
