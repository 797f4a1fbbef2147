//! The unit agent and the controller that runs it: Juju's uniter, played locally.
//!
//! - [`Controller`]: owns the model, one agent thread and hook-tool socket per unit, the
//!   providers, the debug log; the operations behind the CLI (deploy, integrate, config,
//!   run, scale, remove).
//! - [`Dispatcher`]: where `dispatch` runs — in the unit pod's charm container
//!   ([`PodDispatcher`]) or as a host process ([`LocalDispatcher`]).
//! - [`hook_env`]: the exact hook environment; [`Hook`]: hook names and kinds;
//!   [`HookQueue`]: one unit's queue with retries; [`Backoff`]: Juju's retry delays;
//!   [`PebbleWatch`]: `pebble-ready` from each container's boot id.
//! - `fanout`: which hooks follow from a change (pure); `bookkeeping`: what the uniter
//!   records around one hook run.

mod backoff;
mod bookkeeping;
mod controller;
mod debug_log;
mod dispatch;
mod env;
mod error;
mod fanout;
mod hook;
mod pebble_watch;
mod queue;

pub use backoff::Backoff;
pub use controller::{Controller, ControllerConfig};
pub use debug_log::DebugLog;
pub use dispatch::{
    CHARM_FILES, DispatchOutcome, Dispatcher, LocalDispatcher, PodDispatcher, PodImages,
    RUN_DISPATCH_FLAG, decode_env, encode_env,
};
pub use env::{AGENT_PATH, JUJU_VERSION, UnitLayout, hook_env, new_context_id, unit_tag};
pub use error::AgentError;
pub use hook::{Hook, HookKind, RelationRef};
pub use pebble_watch::PebbleWatch;
pub use queue::{HookQueue, Next};
