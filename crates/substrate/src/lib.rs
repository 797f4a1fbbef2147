//! The local substrate for the Indico charm: what Juju on Kubernetes provides in
//! production, played on one machine with real parts.
//!
//! - [`engine`]: podman as the container engine (private configuration and image store),
//!   the registry-free base image, the workload images built from the charm's Dockerfiles,
//!   the substrate's network, and one pod per unit laid out as Juju lays out a sidecar pod
//!   (real Pebble as every workload container's entry point).
//! - [`host`]: the host-side servers the pods use (PostgreSQL, Redis) reachable from pods
//!   on a host-local service address, never beyond this machine.

pub mod agent;
pub mod cli;
mod daemon_fds;
pub mod engine;
pub mod hook_tools;
pub mod host;
pub mod model;
pub mod providers;
