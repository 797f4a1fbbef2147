//! Scenario tests of what depends on leadership and on several units: the secret key (created
//! once, stable across re-election, never shown), the Celery beat unit (assigned, reassigned on
//! departure), non-leaders waiting for what only the leader publishes, and migrations run once
//! by the leader only when everything they need is there.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use charm_scenario::{
    Container, ExecResult, HookToolCall, Output, PebbleCall, ScenarioEvent, State,
};
use fixtures::*;
use juju_runtime::{Scope, Status};

/// The peer app data in the output state.
fn peer_data(out: &Output) -> &juju_runtime::Databag {
    &out.state
        .relation(PEERS_ID)
        .expect("the peer relation")
        .local_app_data
}

/// A leader with every relation answered and reachable containers, but nothing published in
/// peer app data yet (the first leader-elected of a new application).
fn fresh_leader_state(others: &[u32]) -> State {
    with_containers(
        State::new()
            .with_leader(true)
            .with_relation(database_relation())
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(Vec::<(String, String)>::new(), others)),
    )
}

fn migration_execs(out: &Output) -> usize {
    out.pebble_calls_to("indico")
        .into_iter()
        .filter(|c| matches!(c, PebbleCall::Exec { request } if request.command == MIGRATE_COMMAND))
        .count()
}

#[test]
fn the_secret_key_is_created_once_and_survives_re_election_unseen() {
    let first = context()
        .run(ScenarioEvent::leader_elected(), fresh_leader_state(&[1]))
        .unwrap();
    assert_eq!(first.calls_to("secret-add").len(), 1);
    let secret = first
        .state
        .secret_by_label("indico-secret-key")
        .expect("an application-owned secret labelled indico-secret-key");
    assert_eq!(secret.owner, Some(juju_runtime::SecretOwner::Application));
    let key = secret
        .latest_content()
        .get("secret-key")
        .expect("a secret-key field")
        .to_owned();
    assert!(key.len() >= 64, "{} characters", key.len());
    assert_eq!(
        peer_data(&first).get("secret-id").map(String::as_str),
        Some(secret.uri.as_str()),
        "the secret id is published to the peers"
    );
    assert!(!visible_text(&first).contains(&key), "the key leaked");

    // Leadership moves to unit 1: it reads the same key and creates nothing.
    let mut state = first.state.clone().with_leader(true);
    state.unit_status = None;
    let peers_of_unit_1 = peers(peer_data(&first).clone(), &[0]);
    let state = state.with_relation(peers_of_unit_1);
    let second = context_for_unit(1)
        .run(ScenarioEvent::leader_elected(), state)
        .unwrap();
    assert!(second.calls_to("secret-add").is_empty());
    assert_eq!(
        peer_data(&second).get("secret-id"),
        peer_data(&first).get("secret-id")
    );
    assert_eq!(
        service_environment(&second, "indico", "indico").get("INDICO_SECRET_KEY"),
        Some(&key)
    );
    assert!(!visible_text(&second).contains(&key), "the key leaked");

    // And the first leader, re-elected, neither.
    let third = context()
        .run(ScenarioEvent::leader_elected(), first.state.clone())
        .unwrap();
    assert!(third.calls_to("secret-add").is_empty());
    assert_eq!(
        service_environment(&third, "indico", "indico").get("INDICO_SECRET_KEY"),
        Some(&key)
    );
}

#[test]
fn a_non_leader_waits_for_the_secret_key_and_writes_nothing() {
    let state = with_containers(
        State::new()
            .with_relation(database_relation())
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(Vec::<(String, String)>::new(), &[0])),
    );
    let out = context_for_unit(1)
        .run(ScenarioEvent::config_changed(), state)
        .unwrap();
    assert_eq!(
        out.state.unit_status,
        Some(Status::Waiting(
            "Waiting for the leader to publish the secret key".into()
        ))
    );
    assert!(out.calls_to("secret-add").is_empty());
    assert!(out.calls_to("relation-set").is_empty());
    assert!(out.state.containers["indico"].running_services().is_empty());
}

#[test]
fn the_leader_assigns_celery_beat_and_reassigns_it_when_that_unit_departs() {
    // Unit 0 leads; the lowest live unit gets beat.
    let first = context()
        .run(ScenarioEvent::leader_elected(), fresh_leader_state(&[1, 2]))
        .unwrap();
    assert_eq!(
        peer_data(&first).get("celery-unit").map(String::as_str),
        Some("indico/0")
    );

    // Beat sits on unit 2, which departs: the leader moves it to a live unit.
    let mut data = published_peer_data();
    data.retain(|(k, _)| *k != "celery-unit");
    data.push(("celery-unit", "indico/2"));
    let relation = peers(data, &[1, 2]);
    let state = ready_leader_state().with_relation(relation.clone());
    let out = context()
        .run(ScenarioEvent::relation_departed(&relation, 2), state)
        .unwrap();
    let writes: Vec<_> = out
        .hook_tool_calls
        .iter()
        .filter_map(|c| match c {
            HookToolCall::RelationSet {
                relation,
                scope: Scope::App,
                data,
            } if relation.endpoint == "indico-peers" => Some(data.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(
        writes[0].get("celery-unit").map(String::as_str),
        Some("indico/0")
    );
    // This unit now runs beat.
    let plan = out.state.containers["indico-celery"].plan().unwrap();
    let command = plan.services["indico-celery"]
        .command
        .clone()
        .unwrap_or_default();
    assert!(command.contains("--beat"), "{command}");

    // A non-leader whose unit is not the beat unit runs a worker without beat.
    let state = with_containers(
        State::new()
            .with_relation(database_relation())
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(published_peer_data(), &[0]))
            .with_secret(secret_key_secret()),
    );
    let out = context_for_unit(1)
        .run(ScenarioEvent::config_changed(), state)
        .unwrap();
    let plan = out.state.containers["indico-celery"].plan().unwrap();
    let command = plan.services["indico-celery"]
        .command
        .clone()
        .unwrap_or_default();
    assert!(!command.contains("--beat"), "{command}");
    assert!(out.calls_to("relation-set").is_empty());
}

#[test]
fn migrations_run_once_on_the_leader_and_gate_indico() {
    // A leader whose image is newer than the marker migrates, then records the marker.
    let mut data = published_peer_data();
    data.retain(|(k, _)| *k != "migrated-version");
    data.push(("migrated-version", "3.2.8"));
    let state = ready_leader_state().with_relation(peers(data.clone(), &[1]));
    let out = context()
        .run(ScenarioEvent::upgrade_charm(), state)
        .unwrap();
    assert_eq!(migration_execs(&out), 1);
    assert_eq!(
        peer_data(&out).get("migrated-version").map(String::as_str),
        Some(IMAGE_VERSION)
    );
    assert_eq!(out.state.unit_status, Some(Status::Active));
    // The migration got the database URI through its environment, not its argv.
    let request = out
        .pebble_calls_to("indico")
        .into_iter()
        .find_map(|c| match c {
            PebbleCall::Exec { request } => Some(request.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        request
            .environment
            .contains_key("INDICO_SQLALCHEMY_DATABASE_URI")
    );
    assert!(!request.command.iter().any(|a| a.contains(DB_PASSWORD)));

    // The next hook does not migrate again.
    let again = context()
        .run(ScenarioEvent::update_status(), out.state)
        .unwrap();
    assert_eq!(migration_execs(&again), 0);

    // A non-leader never migrates, and keeps Indico stopped until the marker matches.
    let state = with_containers(
        State::new()
            .with_relation(database_relation())
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(data, &[0]))
            .with_secret(secret_key_secret()),
    );
    let out = context_for_unit(1)
        .run(ScenarioEvent::upgrade_charm(), state)
        .unwrap();
    assert_eq!(migration_execs(&out), 0);
    assert_eq!(
        out.state.unit_status,
        Some(Status::Waiting("Waiting for database migrations".into()))
    );
    assert!(out.state.containers["indico"].running_services().is_empty());
    assert!(
        out.state.containers["indico-celery"]
            .running_services()
            .is_empty()
    );
}

#[test]
fn no_migration_without_a_database() {
    let mut data = published_peer_data();
    data.retain(|(k, _)| *k != "migrated-version");
    let state = with_containers(
        State::new()
            .with_leader(true)
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(data, &[]))
            .with_secret(secret_key_secret()),
    );
    let out = context()
        .run(ScenarioEvent::config_changed(), state)
        .unwrap();
    assert_eq!(migration_execs(&out), 0);
    assert_eq!(
        out.state.unit_status,
        Some(Status::Waiting("Waiting for database availability".into()))
    );
}

#[test]
fn a_failed_migration_fails_the_hook_and_commits_nothing() {
    let mut data = published_peer_data();
    data.retain(|(k, _)| *k != "migrated-version");
    let failing = Container::new()
        .with_file("/srv/indico/version", format!("{IMAGE_VERSION}\n"))
        .with_exec(
            MIGRATE_COMMAND,
            ExecResult::fail(1, "psycopg2.OperationalError: timeout\n"),
        );
    let state = ready_leader_state()
        .with_relation(peers(data, &[]))
        .with_container("indico", failing);
    let err = context()
        .run(ScenarioEvent::config_changed(), state)
        .unwrap_err();
    let failure = err.failure().expect("the charm ran");
    assert_eq!(failure.exit_code, 1);
    assert_eq!(failure.stderr.lines().count(), 1, "{}", failure.stderr);
    assert!(failure.stderr.contains("migration"), "{}", failure.stderr);
    assert!(
        !peer_data(&failure.output).contains_key("migrated-version"),
        "the marker is not committed"
    );
}

#[test]
fn a_new_leader_reaches_active_through_jujus_initial_hooks() {
    let outputs = context()
        .run_initial_hooks(fresh_leader_state(&[]))
        .unwrap();
    let statuses: Vec<String> = outputs
        .iter()
        .map(|o| {
            format!(
                "{:?}",
                o.state.unit_status.as_ref().map(ToString::to_string)
            )
        })
        .collect();
    let last = outputs.last().unwrap();
    assert_eq!(
        last.state.unit_status,
        Some(Status::Active),
        "{statuses:#?}"
    );
    let secrets_added: usize = outputs.iter().map(|o| o.calls_to("secret-add").len()).sum();
    assert_eq!(secrets_added, 1, "the secret key is created exactly once");
    let database = last.state.relation(DATABASE_ID).unwrap();
    assert_eq!(
        database.local_app_data.get("database").map(String::as_str),
        Some("indico")
    );
    let migrations: usize = outputs.iter().map(migration_execs).sum();
    assert_eq!(migrations, 1, "the schema is prepared exactly once");
    assert_eq!(
        peer_data(last).get("migrated-version").map(String::as_str),
        Some(IMAGE_VERSION)
    );
    // Once active, the next hooks restart nothing.
    let restarts_after_active: usize = outputs
        .iter()
        .skip_while(|o| o.state.unit_status != Some(Status::Active))
        .skip(1)
        .map(|o| o.restarted_services().len())
        .sum();
    assert_eq!(restarts_after_active, 0);
}

#[test]
fn a_second_unit_reaches_active_once_the_leader_has_published() {
    let state = with_containers(
        State::new()
            .with_relation(database_relation())
            .with_relation(broker_relation())
            .with_relation(cache_relation())
            .with_relation(peers(published_peer_data(), &[0]))
            .with_secret(secret_key_secret()),
    );
    let outputs = context_for_unit(1).run_initial_hooks(state).unwrap();
    let last = outputs.last().unwrap();
    assert_eq!(last.state.unit_status, Some(Status::Active));
    let writes: usize = outputs
        .iter()
        .map(|o| o.calls_to("relation-set").len() + o.calls_to("secret-add").len())
        .sum();
    assert_eq!(
        writes, 0,
        "a non-leader writes no relation data and no secret"
    );
    assert_eq!(outputs.iter().map(migration_execs).sum::<usize>(), 0);
}
