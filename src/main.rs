//! `dispatch`: the entry point Juju runs for every hook and action.

fn main() {}
