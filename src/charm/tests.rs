//! The reconcile in the in-memory Juju model of `charm-scenario` with unreachable Pebbles:
//! the leader's duties (secret key, database request, Celery beat), their idempotence, and
//! the number of hook tool calls a no-op hook makes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use charm_scenario::{
    CharmFailure, Container, Context, FakePebble, HookRun, Output, Relation, ScenarioEvent, Secret,
    State, UnitIdentity,
};
use juju_runtime::{Databag, SecretContent, SecretUri, Status};

use super::*;

/// The peer relation's id.
const PEERS_ID: u64 = 1;
/// The `database` relation's id.
const DATABASE_ID: u64 = 3;
/// The secret postgresql-k8s grants with the database credentials.
const DB_SECRET: &str = "secret://0b1e6c3a/d0000000000000000001";

/// The status [`run`] returned in the last dispatch, which `Output` does not carry.
type LastStatus = Arc<Mutex<Option<Option<Status>>>>;

/// The harness running [`run`] as unit `indico/0` with Juju `juju_version`, its Pebbles
/// the harness's; the returned cell receives each dispatch's [`Outcome::status`].
fn harness(juju_version: &str) -> (Context, LastStatus) {
    let last: LastStatus = Arc::default();
    let seen = Arc::clone(&last);
    let dispatch = move |hook: &HookRun<'_>| -> Result<(), CharmFailure> {
        let pebbles: BTreeMap<ContainerName, FakePebble> = ContainerName::ALL
            .into_iter()
            .map(|c| (c, hook.pebble(c.as_str())))
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CharmFailure::from_error(&e))?;
        let outcome = runtime
            .block_on(run(hook.context(), hook.hook_tools(), &pebbles))
            .map_err(|e| CharmFailure::from_error(&e))?;
        *seen.lock().unwrap() = Some(outcome.status);
        Ok(())
    };
    let identity = UnitIdentity {
        juju_version: juju_version.to_owned(),
        ..UnitIdentity::new("indico")
    };
    let ctx = Context::from_charm_dir(env!("CARGO_MANIFEST_DIR"), dispatch)
        .unwrap()
        .with_identity(identity);
    (ctx, last)
}

/// Runs `event` on `state`, returning the output and the status [`run`] returned.
fn dispatch(
    (ctx, last): &(Context, LastStatus),
    event: ScenarioEvent,
    state: State,
) -> (Output, Option<Status>) {
    *last.lock().unwrap() = None;
    let output = ctx.run(event, state).unwrap();
    let status = last.lock().unwrap().take().expect("the charm ran");
    (output, status)
}

/// Every container unreachable, as when no Pebble socket answers.
fn with_unreachable_containers(mut state: State) -> State {
    for c in ContainerName::ALL {
        state = state.with_container(c.as_str(), Container::unreachable());
    }
    state
}

fn peers_relation() -> Relation {
    Relation::peer("indico-peers", PEERS_ID).with_remote_unit(1, Databag::new())
}

/// A model with every core relation answered, as the real providers answer.
fn related_model(leader: bool) -> State {
    let db_secret: SecretUri = DB_SECRET.parse().unwrap();
    let credentials =
        SecretContent::new([("username", "relation-3"), ("password", "pg-secret")]).unwrap();
    let mut state = State::new()
        .with_leader(leader)
        .with_config("site_url", "https://events.example.com")
        .with_secret(Secret::new(db_secret, None, credentials))
        .with_relation(
            Relation::new("database", DATABASE_ID, "postgresql-k8s").with_remote_app_data([
                ("database", "indico"),
                (
                    "endpoints",
                    "postgresql-k8s-primary.events.svc.cluster.local:5432",
                ),
                ("secret-user", DB_SECRET),
                ("version", "14.15"),
            ]),
        )
        .with_relation(peers_relation());
    for (endpoint, id, host) in [
        ("redis-broker", 4, "10.1.0.4"),
        ("redis-cache", 5, "10.1.0.5"),
    ] {
        state = state.with_relation(
            Relation::new(endpoint, id, endpoint)
                .with_remote_unit(0, [("hostname", host), ("port", "6379")]),
        );
    }
    with_unreachable_containers(state)
}

fn peer_bag(state: &State) -> Databag {
    state.relation(PEERS_ID).unwrap().local_app_data.clone()
}

fn secret_value(state: &State, uri: &str, key: &str) -> String {
    let uri: SecretUri = uri.parse().unwrap();
    let secret = state.secret_by_uri(&uri).expect("the secret exists");
    secret.latest_content().get(key).unwrap().to_owned()
}

#[test]
fn the_leader_creates_the_secret_key_once_and_publishes_it() {
    let h = harness("3.6.0");
    let (out, status) = dispatch(&h, ScenarioEvent::leader_elected(), related_model(true));
    assert_eq!(status, Some(Status::Waiting("Waiting for pebble".into())));
    assert_eq!(out.calls_to("secret-add").len(), 1);
    let published = peer_bag(&out.state);
    let uri = published
        .get("secret-id")
        .expect("secret-id published")
        .clone();
    let key = secret_value(&out.state, &uri, "secret-key");
    assert_eq!(key.len(), 86);
    assert_eq!(
        published.get("celery-unit").map(String::as_str),
        Some("indico/0")
    );
    let request = out
        .state
        .relation(DATABASE_ID)
        .unwrap()
        .local_app_data
        .clone();
    assert_eq!(request, crate::interfaces::database::request());

    // Any later hook, even leader-elected again: the key is never regenerated.
    let (again, _) = dispatch(&h, ScenarioEvent::leader_elected(), out.state);
    let (changed, _) = dispatch(&h, ScenarioEvent::config_changed(), again.state.clone());
    assert_eq!(
        again.calls_to("secret-add").len() + changed.calls_to("secret-add").len(),
        0
    );
    assert_eq!(peer_bag(&changed.state)["secret-id"], uri);
    assert_eq!(secret_value(&changed.state, &uri, "secret-key"), key);
}

#[test]
fn without_juju_secrets_the_key_goes_into_peer_data() {
    let h = harness("2.9.46");
    let (out, _) = dispatch(&h, ScenarioEvent::leader_elected(), related_model(true));
    assert_eq!(out.calls_to("secret-add").len(), 0);
    assert_eq!(peer_bag(&out.state)["secret-key"].len(), 86);
}

#[test]
fn a_non_leader_waits_for_the_key_and_writes_nothing() {
    let h = harness("3.6.0");
    let (out, status) = dispatch(&h, ScenarioEvent::config_changed(), related_model(false));
    assert_eq!(
        status,
        Some(Status::Waiting(
            "Waiting for the leader to publish the secret key".into()
        ))
    );
    assert_eq!(
        out.calls_to("secret-add").len() + out.calls_to("relation-set").len(),
        0
    );
}

#[test]
fn missing_relations_are_a_waiting_status_not_a_failure() {
    let h = harness("3.6.0");
    let state = with_unreachable_containers(State::new().with_leader(true));
    let (out, status) = dispatch(&h, ScenarioEvent::install(), state);
    assert_eq!(
        status,
        Some(Status::Waiting(
            "Waiting for redis-broker availability".into()
        ))
    );
    assert_eq!(
        out.unit_status_history,
        [Status::Waiting(
            "Waiting for redis-broker availability".into()
        )]
    );
}

#[test]
fn the_database_request_is_written_on_relation_created() {
    let h = harness("3.6.0");
    let state = related_model(true);
    let database = state.relation(DATABASE_ID).unwrap().clone();
    let (out, _) = dispatch(&h, ScenarioEvent::relation_created(&database), state);
    let request = out
        .state
        .relation(DATABASE_ID)
        .unwrap()
        .local_app_data
        .clone();
    assert_eq!(request["database"], "indico");
    assert_eq!(request["requested-secrets"], r#"["username","password"]"#);
}

#[test]
fn beat_moves_when_its_unit_departs() {
    let h = harness("3.6.0");
    let (out, _) = dispatch(&h, ScenarioEvent::leader_elected(), related_model(true));
    // indico/1 held beat and leaves.
    let mut state = out.state;
    state
        .relation_mut(PEERS_ID)
        .unwrap()
        .local_app_data
        .insert("celery-unit".into(), "indico/1".into());
    let departed = ScenarioEvent::relation_departed(&peers_relation(), 1);
    let (out, _) = dispatch(&h, departed, state);
    assert_eq!(peer_bag(&out.state)["celery-unit"], "indico/0");
}

#[test]
fn actions_fail_clearly_and_stop_remove_do_nothing() {
    let h = harness("3.6.0");
    let action = ScenarioEvent::action(
        "refresh-external-resources",
        Vec::<(String, serde_json::Value)>::new(),
    );
    let (out, _) = dispatch(&h, action, related_model(true));
    // Unreachable Pebble: the action fails instead of reporting success.
    assert!(out.action.failure.is_some(), "{:?}", out.action);
    assert_eq!(
        out.calls_to("action-fail").len(),
        1,
        "{:#?}",
        out.hook_tool_calls
    );
    let (stopped, _) = dispatch(&h, ScenarioEvent::stop(), out.state);
    let (removed, _) = dispatch(&h, ScenarioEvent::remove(), stopped.state.clone());
    assert_eq!(
        stopped.hook_tool_calls.len() + removed.hook_tool_calls.len(),
        0,
        "{:#?} {:#?}",
        stopped.hook_tool_calls,
        removed.hook_tool_calls
    );
}

/// The architecture's budget: at most 20 hook tool calls for a no-op hook with the core
/// relations related (here without the Pebble reads, which are not hook tools).
#[test]
fn a_no_op_hook_stays_within_the_hook_tool_budget() {
    let h = harness("3.6.0");
    let (out, _) = dispatch(&h, ScenarioEvent::leader_elected(), related_model(true));
    let (noop, _) = dispatch(&h, ScenarioEvent::update_status(), out.state);
    let calls: Vec<&str> = noop.hook_tool_calls.iter().map(|c| c.tool()).collect();
    println!("no-op hook: {} hook tool calls: {calls:?}", calls.len());
    assert!(calls.len() <= 20, "{} calls: {calls:?}", calls.len());
    assert_eq!(
        noop.calls_to("relation-set").len() + noop.calls_to("secret-add").len(),
        0
    );
}

#[test]
fn database_credentials_not_yet_granted_mean_waiting_for_the_database() {
    let h = harness("3.6.0");
    let mut state = related_model(true);
    state
        .secrets
        .retain(|s| !s.uri.as_str().starts_with("secret://0b1e6c3a/"));
    let (_, status) = dispatch(&h, ScenarioEvent::leader_elected(), state);
    assert_eq!(
        status,
        Some(Status::Waiting("Waiting for database availability".into()))
    );
}
