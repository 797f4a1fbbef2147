//! The Indico charm: gathers Juju and Pebble state, plans the desired pod as a pure
//! function, applies only the differences, and reports one status per hook.

pub mod config;
pub mod containers;
pub mod interfaces;
pub mod proxy;
pub mod sensitive;
