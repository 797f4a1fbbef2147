//! The charm's declared surface (endpoints, containers, config options, actions), read by
//! the same parser the local substrate uses (`juju_runtime::charm_spec`).
//!
//! The harness uses it to fill in what Juju fills in (config defaults, action parameter
//! defaults) and to refuse inputs Juju could never produce (see
//! [`crate::consistency`]).

pub use juju_runtime::charm_spec::{
    ActionSpec, CharmSpec, ConfigOption, Endpoint, OptionType, Role, SpecError,
};
