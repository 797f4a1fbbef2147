//! The Indico charm: gathers Juju and Pebble state, plans the desired pod as a pure
//! function, applies only the differences, and reports one status per hook.

#![deny(missing_docs)]

pub mod actions;
pub mod apply;
pub mod celery;
pub mod charm;
pub mod config;
pub mod containers;
pub mod customization;
pub mod gather;
pub mod interfaces;
pub mod kubernetes;
pub mod migrations;
#[cfg(test)]
mod pebble_daemon;
pub mod plan;
pub mod plugins;
#[cfg(test)]
mod postgres_cluster;
pub mod proxy;
pub mod render;
pub mod secret_key;
pub mod sensitive;
pub mod state;
pub mod status;
