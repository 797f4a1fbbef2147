//! Several dispatches in a row, each on the previous one's output state, and the hooks Juju
//! runs when a sidecar unit starts (juju-contract §1.2 "Typical order"): install,
//! relation-created for every existing relation, leader-elected or leader-settings-changed,
//! config-changed, start, pebble-ready per container, then relation-joined and
//! relation-changed for every remote unit and relation-changed for each remote application.

use juju_runtime::RelationEventKind;

use crate::event::ScenarioEvent;
use crate::run::{Context, Output, RunError};
use crate::state::{RelationKind, State};

/// The events Juju dispatches to a new unit whose model already holds `state`'s relations
/// and containers, in Juju's order (relations by id, units and containers by name).
pub fn initial_hook_events(state: &State) -> Vec<ScenarioEvent> {
    let mut relations: Vec<_> = state.relations.iter().collect();
    relations.sort_by_key(|r| r.id);
    let mut events = vec![ScenarioEvent::install()];
    events.extend(relations.iter().map(|r| ScenarioEvent::relation_created(r)));
    events.push(if state.leader {
        ScenarioEvent::leader_elected()
    } else {
        ScenarioEvent::leader_settings_changed()
    });
    events.push(ScenarioEvent::config_changed());
    events.push(ScenarioEvent::start());
    events.extend(state.containers.keys().map(ScenarioEvent::pebble_ready));
    for relation in relations {
        for unit in relation.remote_units_data.keys() {
            events.push(ScenarioEvent::relation_joined(relation, *unit));
            events.push(ScenarioEvent::relation_changed(relation, Some(*unit)));
        }
        if relation.kind == RelationKind::Regular {
            events.push(ScenarioEvent::Relation {
                kind: RelationEventKind::Changed,
                endpoint: relation.endpoint.clone(),
                id: relation.id,
                remote_unit: None,
                departing_unit: None,
            });
        }
    }
    events
}

impl Context {
    /// Runs `events` in order, each on the previous output state; stops at the first
    /// failure. Returns every output, the last one holding the final state.
    pub fn run_sequence(
        &self,
        events: impl IntoIterator<Item = ScenarioEvent>,
        state: State,
    ) -> Result<Vec<Output>, RunError> {
        let mut outputs: Vec<Output> = Vec::new();
        let mut state = state;
        for event in events {
            let output = self.run(event, state)?;
            state = output.state.clone();
            outputs.push(output);
        }
        Ok(outputs)
    }

    /// Runs [`initial_hook_events`] for `state`.
    pub fn run_initial_hooks(&self, state: State) -> Result<Vec<Output>, RunError> {
        self.run_sequence(initial_hook_events(&state), state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::Container;
    use crate::state::Relation;

    #[test]
    fn initial_hooks_follow_jujus_order() {
        let state = State::new()
            .with_leader(true)
            .with_relation(
                Relation::new("db", 2, "pg").with_remote_unit(0, Vec::<(String, String)>::new()),
            )
            .with_relation(Relation::peer("peers", 1))
            .with_container("web", Container::new());
        let names: Vec<String> = initial_hook_events(&state)
            .iter()
            .map(ScenarioEvent::hook_name)
            .collect();
        assert_eq!(
            names,
            [
                "install",
                "peers-relation-created",
                "db-relation-created",
                "leader-elected",
                "config-changed",
                "start",
                "web-pebble-ready",
                "db-relation-joined",
                "db-relation-changed",
                "db-relation-changed",
            ]
        );
    }
}
