//! Scenario tests of how a hook finds the optional relations without listing all eight
//! endpoints: the leader records the related ones in the peer application bag
//! (`related-endpoints`), a hook reads those plus its own relation's endpoint, and
//! leader-elected and upgrade-charm scan them all and repair the record.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use charm_scenario::{Output, Relation, ScenarioEvent, State};
use fixtures::*;
use juju_runtime::Status;

const SMTP_ID: u64 = 9;

/// smtp-integrator's answer without authentication.
fn smtp_relation() -> Relation {
    Relation::new("smtp", SMTP_ID, "smtp-integrator")
        .with_interface("smtp")
        .with_remote_app_data([
            ("host", "mail.example.com"),
            ("port", "25"),
            ("auth_type", "none"),
            ("transport_security", "none"),
            ("skip_ssl_verify", "False"),
        ])
        .with_remote_unit(0, Vec::<(String, String)>::new())
}

fn record(out: &Output) -> Option<&str> {
    out.state
        .relation(PEERS_ID)
        .unwrap()
        .local_app_data
        .get("related-endpoints")
        .map(String::as_str)
}

fn smtp_server(out: &Output) -> Option<String> {
    service_environment(out, "indico", "indico")
        .get("INDICO_SMTP_SERVER")
        .cloned()
}

#[test]
fn a_relation_missing_from_the_record_is_found_by_the_next_leader_elected() {
    let ctx = context();
    // smtp was related while no unit led: no relation hook of ours recorded it.
    let state = ready_leader_state().with_relation(smtp_relation());
    let before = ctx.run(ScenarioEvent::update_status(), state).unwrap();
    assert_eq!(smtp_server(&before), None, "not looked at: the cheap path");
    assert_eq!(record(&before), None);

    let elected = ctx
        .run(ScenarioEvent::leader_elected(), before.state)
        .unwrap();
    assert_eq!(record(&elected), Some("smtp"));
    assert_eq!(smtp_server(&elected).as_deref(), Some("mail.example.com"));
    assert_eq!(
        elected.calls_to("relation-ids").len(),
        4 + 8,
        "leader-elected lists every optional endpoint once"
    );

    let after = ctx
        .run(ScenarioEvent::update_status(), elected.state)
        .unwrap();
    assert_eq!(smtp_server(&after).as_deref(), Some("mail.example.com"));
    assert!(after.pebble_writes().is_empty());
    assert_eq!(after.calls_to("relation-ids").len(), 4 + 1);
}

#[test]
fn a_non_leader_follows_the_record_and_its_own_relation_events() {
    let ctx = context_for_unit(1);
    let mut peer_data = published_peer_data();
    peer_data.push(("related-endpoints", "smtp"));
    let state = with_containers(
        State::new()
            .with_relation(database_relation())
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(peer_data, &[0]))
            .with_relation(smtp_relation())
            .with_secret(secret_key_secret()),
    );
    let out = ctx
        .run(ScenarioEvent::update_status(), state.clone())
        .unwrap();
    assert_eq!(out.state.unit_status, Some(Status::Active));
    assert_eq!(smtp_server(&out).as_deref(), Some("mail.example.com"));
    assert!(
        out.calls_to("relation-set").is_empty(),
        "a non-leader writes no record"
    );

    // Without the record, its own smtp hook still sees the relation.
    let bare = with_containers(
        State::new()
            .with_relation(database_relation())
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(published_peer_data(), &[0]))
            .with_relation(smtp_relation())
            .with_secret(secret_key_secret()),
    );
    let out = ctx
        .run(
            ScenarioEvent::relation_changed(&smtp_relation(), Some(0)),
            bare,
        )
        .unwrap();
    assert_eq!(smtp_server(&out).as_deref(), Some("mail.example.com"));
}

#[test]
fn relation_broken_drops_the_endpoint_from_the_record() {
    let ctx = context();
    let state = ready_leader_state().with_relation(smtp_relation());
    let created = ctx
        .run(ScenarioEvent::relation_created(&smtp_relation()), state)
        .unwrap();
    assert_eq!(record(&created), Some("smtp"));
    let broken = ctx
        .run(
            ScenarioEvent::relation_broken(&smtp_relation()),
            created.state,
        )
        .unwrap();
    assert_eq!(record(&broken), None, "an empty record is deleted");
    assert_eq!(smtp_server(&broken), None);
    let after = ctx
        .run(
            ScenarioEvent::update_status(),
            broken.state.without_relation(SMTP_ID),
        )
        .unwrap();
    assert_eq!(
        after.calls_to("relation-ids").len(),
        4,
        "smtp is no longer listed"
    );
}
