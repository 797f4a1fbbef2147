//! Scenario tests of malformed relation data: on a unit that has converged, each bad databag
//! (missing or non-numeric port, garbage endpoints, empty password, wrong JSON where a value is
//! expected, unicode, very long values) gives a named Waiting or Blocked status, exit 0, and
//! changes nothing else: no Pebble write, no restart, no relation or secret write, the same
//! state apart from the status.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use charm_scenario::{Output, Relation, ScenarioEvent, State};
use fixtures::*;
use juju_runtime::Status;

/// The converged leader: the ready state after one config-changed.
fn converged() -> State {
    let out = context()
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    assert_eq!(out.state.unit_status, Some(Status::Active));
    out.state
}

fn with_database_app_data(pairs: &[(&str, &str)]) -> Relation {
    let mut relation = database_relation();
    for (k, v) in pairs {
        relation
            .remote_app_data
            .insert((*k).to_owned(), (*v).to_owned());
    }
    relation
}

fn with_redis_unit_data(relation: Relation, pairs: &[(&str, &str)]) -> Relation {
    let mut relation = relation;
    let unit = relation.remote_units_data.entry(0).or_default();
    for (k, v) in pairs {
        if v.is_empty() {
            unit.remove(*k);
        } else {
            unit.insert((*k).to_owned(), (*v).to_owned());
        }
    }
    relation
}

/// Runs `<endpoint>-relation-changed` for `relation` on the converged unit and checks that
/// only the status changed, to `expected`.
fn assert_only_status(case: &str, base: &State, relation: Relation, expected: &Status) -> Output {
    let input = base.clone().with_relation(relation.clone());
    let event = if relation.kind == charm_scenario::RelationKind::Peer {
        ScenarioEvent::relation_changed(&relation, None)
    } else {
        ScenarioEvent::relation_changed(&relation, Some(0))
    };
    let out = match context().run(event, input.clone()) {
        Ok(out) => out,
        Err(e) => panic!("{case}: the hook must exit 0, got {e}"),
    };
    assert_eq!(out.state.unit_status.as_ref(), Some(expected), "{case}");
    assert!(
        out.pebble_writes().is_empty(),
        "{case}: {:#?}",
        out.pebble_writes()
    );
    assert!(out.service_transitions.is_empty(), "{case}");
    assert!(out.calls_to("relation-set").is_empty(), "{case}");
    assert!(out.calls_to("secret-add").is_empty(), "{case}");
    let mut expected_state = input;
    expected_state.unit_status = Some(expected.clone());
    assert_eq!(
        out.state, expected_state,
        "{case}: something besides the status changed"
    );
    out
}

fn blocked(message: &str) -> Status {
    Status::Blocked(message.to_owned())
}

fn waiting(message: &str) -> Status {
    Status::Waiting(message.to_owned())
}

const BAD_ENDPOINTS: &str =
    "relation database: key endpoints is not valid: the first entry is not host:port";

#[test]
fn malformed_database_data_gives_a_named_status_and_changes_nothing_else() {
    let base = converged();
    let cases: Vec<(&str, Relation, Status)> = vec![
        (
            "missing port",
            with_database_app_data(&[("endpoints", "postgresql-k8s-primary")]),
            blocked(BAD_ENDPOINTS),
        ),
        (
            "non-numeric port",
            with_database_app_data(&[("endpoints", "postgresql-k8s-primary:five")]),
            blocked(BAD_ENDPOINTS),
        ),
        (
            "port out of range",
            with_database_app_data(&[("endpoints", "postgresql-k8s-primary:70000")]),
            blocked(BAD_ENDPOINTS),
        ),
        (
            "garbage endpoints",
            with_database_app_data(&[("endpoints", ",,;; ::")]),
            blocked(BAD_ENDPOINTS),
        ),
        (
            "unicode host",
            with_database_app_data(&[("endpoints", "pöstgres☃:5432")]),
            blocked(BAD_ENDPOINTS),
        ),
        (
            "empty password",
            with_database_app_data(&[("password", "")]),
            waiting("Waiting for database availability"),
        ),
        (
            "JSON where the secret URI belongs",
            with_database_app_data(&[("secret-user", r#"["secret:abc"]"#)]),
            blocked("relation database: key secret-user is not valid: not a secret URI"),
        ),
    ];
    for (case, relation, expected) in cases {
        let out = assert_only_status(case, &base, relation, &expected);
        assert!(
            !visible_text(&out).contains(DB_PASSWORD),
            "{case}: the password leaked"
        );
    }
}

#[test]
fn malformed_redis_data_gives_a_named_status_and_changes_nothing_else() {
    let base = converged();
    let port_error = |reason: &str| {
        blocked(&format!(
            "relation redis-broker: key port of redis-broker/0 is not valid: {reason}"
        ))
    };
    let host_error = blocked(
        "relation redis-broker: key hostname of redis-broker/0 is not valid: not a host name or address",
    );
    let cases: Vec<(&str, Relation, Status)> = vec![
        (
            "missing port",
            with_redis_unit_data(broker_relation(), &[("port", "")]),
            waiting("Waiting for redis-broker availability"),
        ),
        (
            "non-numeric port",
            with_redis_unit_data(broker_relation(), &[("port", "six")]),
            port_error("not a TCP port"),
        ),
        (
            "port zero",
            with_redis_unit_data(broker_relation(), &[("port", "0")]),
            port_error("not a TCP port"),
        ),
        (
            "garbage host",
            with_redis_unit_data(broker_relation(), &[("hostname", "redis://x y/0")]),
            host_error.clone(),
        ),
        (
            "unicode host",
            with_redis_unit_data(broker_relation(), &[("hostname", "rédis-☃")]),
            host_error,
        ),
        (
            "garbage HA leader-host",
            broker_relation().with_remote_app_data([("leader-host", "{\"host\": 1}")]),
            blocked(
                "relation redis-broker: key leader-host of application data is not valid: not a host name or address",
            ),
        ),
    ];
    for (case, relation, expected) in cases {
        assert_only_status(case, &base, relation, &expected);
    }
}

#[test]
fn malformed_peer_data_gives_a_named_status_and_changes_nothing_else() {
    let base = converged();
    let with = |key: &'static str, value: &'static str| {
        let mut data = published_peer_data();
        data.retain(|(k, _)| *k != key);
        data.push((key, value));
        peers(data, &[1])
    };
    let cases: Vec<(&str, Relation, Status)> = vec![
        (
            "secret-id not a URI",
            with("secret-id", "{\"uri\": \"secret:x\"}"),
            blocked("relation indico-peers: key secret-id is not valid: not a secret URI"),
        ),
        (
            "celery-unit not a unit",
            with("celery-unit", "indico"),
            blocked("relation indico-peers: key celery-unit is not valid: not a unit name"),
        ),
    ];
    for (case, relation, expected) in cases {
        assert_only_status(case, &base, relation, &expected);
    }
}

/// A host name longer than DNS allows (253 characters) is as unusable as a malformed one: it
/// must not reach the workload's environment.
#[test]
fn very_long_values_give_a_named_status_and_change_nothing_else() {
    let base = converged();
    let long = "h".repeat(100_000);
    let cases: Vec<(&str, Relation, Status)> = vec![
        (
            "very long database host",
            with_database_app_data(&[("endpoints", &format!("{long}:5432"))]),
            blocked(BAD_ENDPOINTS),
        ),
        (
            "very long redis host",
            with_redis_unit_data(broker_relation(), &[("hostname", &long)]),
            blocked(
                "relation redis-broker: key hostname of redis-broker/0 is not valid: not a host name or address",
            ),
        ),
    ];
    for (case, relation, expected) in cases {
        assert_only_status(case, &base, relation, &expected);
    }
}
