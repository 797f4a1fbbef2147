//! Logging: `tracing` events go to `juju-log` at the matching level under Juju, and to
//! stderr otherwise.
