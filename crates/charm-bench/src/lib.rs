#![deny(missing_docs)]
//! Benchmarks of the Indico charm on the local substrate (issue #7): hook latency and peak
//! RSS of the charm process, hook-tool calls and Pebble requests per hook, services
//! restarted per hook, time to active, serving and load through the pod's nginx and uWSGI,
//! and the package's size. Figures are printed (a table and JSON), never asserted.
//!
//! Two binaries share this library:
//! - `charm-bench-dispatch`, installed as the unit's `dispatch`: runs the real charm binary
//!   (appended to it, [`payload`]) and appends one [`record::RunRecord`] per run;
//! - `charm-bench`, which deploys on the substrate, triggers the hooks, counts hook-tool
//!   calls through a proxy on the agent socket ([`tool_proxy`]), runs `wrk` ([`wrk`]) and
//!   reports ([`report`]).

pub mod error;
pub mod figures;
pub mod machine;
pub mod payload;
pub mod phases;
pub mod probe;
pub mod record;
pub mod report;
pub mod restarts;
pub mod session;
pub mod stats;
pub mod substrate;
pub mod tool_proxy;
pub mod wrk;

pub use error::BenchError;
