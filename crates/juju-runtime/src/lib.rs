//! What a Juju charm needs from Juju, without ops:
//!
//! - [`JujuContext::from_env`]: the hook environment as a typed [`Event`] plus who and
//!   where this unit is;
//! - [`HookTools`]: the hook tools behind a synchronous trait, with
//!   [`ProcessHookTools`] running them as Juju specifies;
//! - [`logging::init_logging`]: `tracing` output forwarded to `juju-log`;
//! - [`charm_spec::CharmSpec`]: a charm's metadata, config and actions as Juju reads
//!   them (for test harnesses and the local substrate).
//!
//! With the `testing` feature, `testing::FakeToolsDir` provides recording fake hook
//! tools for process-level tests.

#![warn(missing_docs)]

pub mod charm_spec;
pub mod context;
mod env_vars;
pub mod error;
pub mod event;
pub mod hook_tools;
pub mod logging;
pub mod names;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use context::{JujuContext, JujuVersion, ProxySettings};
pub use error::{ContextError, HookToolError, LoggingError};
pub use event::{
    ActionEvent, Event, PebbleNotice, RelationEvent, RelationEventKind, SecretEvent,
    SecretEventKind, StorageEvent, StorageEventKind, WorkloadEvent, WorkloadEventKind,
};
pub use hook_tools::{
    ActionParams, Bag, BindAddress, ConfigValues, Databag, GoalState, GoalStatus, HookToolResult,
    HookTools, InterfaceAddress, LogLevel, NetworkInfo, Port, ProcessHookTools, Protocol,
    RotatePolicy, Scope, SecretAddOptions, SecretContent, SecretGetOptions, SecretInfo,
    SecretOwner, SecretRef, SecretSetOptions, Status, StatusName, StatusReport,
};
pub use names::{RelationId, SecretUri, UnitName};
