//! The reconcile with an in-memory Juju model and unreachable Pebbles: the leader's duties
//! (secret key, database request, Celery beat), their idempotence, and the number of hook tool
//! calls a no-op hook makes.

use std::collections::BTreeMap;

use juju_runtime::{Databag, JujuContext, RelationId, Status};
use pebble_client::Client;
use serde_json::json;

use super::*;
use crate::memory_tools::{MemoryRelation, MemoryTools};

fn context(hook: &str, extra: &[(&str, &str)]) -> JujuContext {
    let dispatch = format!("hooks/{hook}");
    let mut vars: Vec<(&str, &str)> = vec![
        ("JUJU_UNIT_NAME", "indico/0"),
        ("JUJU_VERSION", "3.6.0"),
        ("JUJU_MODEL_NAME", "events"),
        ("JUJU_MODEL_UUID", "0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c"),
        ("JUJU_CHARM_DIR", "/var/lib/juju/agents/unit-indico-0/charm"),
        ("JUJU_DISPATCH_PATH", &dispatch),
        ("JUJU_HOOK_NAME", hook),
    ];
    vars.extend_from_slice(extra);
    JujuContext::from_vars(vars.iter().map(|(k, v)| (*k, *v))).unwrap()
}

fn bag(pairs: &[(&str, &str)]) -> Databag {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A model with every core relation answered, as the real providers answer.
fn related_model(leader: bool) -> MemoryTools {
    let mut tools = MemoryTools::new("indico", leader);
    tools.config = BTreeMap::from([("site_url".to_owned(), json!("https://events.example.com"))]);
    let db_secret = "secret://0b1e6c3a/d0000000000000000001";
    tools.secrets.borrow_mut().insert(
        db_secret.into(),
        BTreeMap::from([
            ("username".into(), "relation-3".into()),
            ("password".into(), "pg-secret".into()),
        ]),
    );
    tools.relate(
        RelationId::new("database", 3),
        MemoryRelation {
            remote_app: "postgresql-k8s".into(),
            remote_app_bag: bag(&[
                ("database", "indico"),
                (
                    "endpoints",
                    "postgresql-k8s-primary.events.svc.cluster.local:5432",
                ),
                ("secret-user", db_secret),
                ("version", "14.15"),
            ]),
            ..MemoryRelation::default()
        },
    );
    for (endpoint, id, host) in [
        ("redis-broker", 4, "10.1.0.4"),
        ("redis-cache", 5, "10.1.0.5"),
    ] {
        tools.relate(
            RelationId::new(endpoint, id),
            MemoryRelation {
                remote_app: endpoint.into(),
                units: BTreeMap::from([(
                    format!("{endpoint}/0"),
                    bag(&[("hostname", host), ("port", "6379")]),
                )]),
                ..MemoryRelation::default()
            },
        );
    }
    tools.relate(
        RelationId::new("indico-peers", 1),
        MemoryRelation {
            remote_app: "indico".into(),
            units: BTreeMap::from([("indico/1".to_owned(), Databag::new())]),
            ..MemoryRelation::default()
        },
    );
    tools
}

/// Clients whose sockets do not exist: every container counts as unreachable.
fn unreachable_pebbles() -> (tempfile::TempDir, BTreeMap<ContainerName, Client>) {
    let dir = tempfile::tempdir().unwrap();
    let pebbles = ContainerName::ALL
        .into_iter()
        .map(|c| {
            (
                c,
                Client::new(dir.path().join(format!("{c}.socket"))).unwrap(),
            )
        })
        .collect();
    (dir, pebbles)
}

fn peer_bag(tools: &MemoryTools) -> Databag {
    tools.relations.borrow()[&RelationId::new("indico-peers", 1)]
        .local_app
        .clone()
}

#[tokio::test(flavor = "current_thread")]
async fn the_leader_creates_the_secret_key_once_and_publishes_it() {
    let tools = related_model(true);
    let (_dir, pebbles) = unreachable_pebbles();
    let outcome = run(&context("leader-elected", &[]), &tools, &pebbles)
        .await
        .unwrap();
    assert_eq!(
        outcome.status,
        Some(Status::Waiting("Waiting for pebble".into()))
    );
    assert_eq!(tools.calls_of("secret-add"), 1);
    let published = peer_bag(&tools);
    let uri = published
        .get("secret-id")
        .expect("secret-id published")
        .clone();
    let key = tools.secrets.borrow()[&uri]["secret-key"].clone();
    assert_eq!(key.len(), 86);
    assert_eq!(
        published.get("celery-unit").map(String::as_str),
        Some("indico/0")
    );
    let request = tools.relations.borrow()[&RelationId::new("database", 3)]
        .local_app
        .clone();
    assert_eq!(request, crate::interfaces::database::request());

    // Any later hook, even leader-elected again: the key is never regenerated.
    tools.calls.borrow_mut().clear();
    run(&context("leader-elected", &[]), &tools, &pebbles)
        .await
        .unwrap();
    run(&context("config-changed", &[]), &tools, &pebbles)
        .await
        .unwrap();
    assert_eq!(tools.calls_of("secret-add"), 0);
    assert_eq!(peer_bag(&tools)["secret-id"], uri);
    assert_eq!(tools.secrets.borrow()[&uri]["secret-key"], key);
}

#[tokio::test(flavor = "current_thread")]
async fn without_juju_secrets_the_key_goes_into_peer_data() {
    let tools = related_model(true);
    let (_dir, pebbles) = unreachable_pebbles();
    let mut ctx = context("leader-elected", &[]);
    ctx.juju_version = juju_runtime::JujuVersion {
        major: 2,
        minor: 9,
        patch: 46,
        tag: None,
        build: 0,
    };
    run(&ctx, &tools, &pebbles).await.unwrap();
    assert_eq!(tools.calls_of("secret-add"), 0);
    assert_eq!(peer_bag(&tools)["secret-key"].len(), 86);
}

#[tokio::test(flavor = "current_thread")]
async fn a_non_leader_waits_for_the_key_and_writes_nothing() {
    let tools = related_model(false);
    let (_dir, pebbles) = unreachable_pebbles();
    let outcome = run(&context("config-changed", &[]), &tools, &pebbles)
        .await
        .unwrap();
    assert_eq!(
        outcome.status,
        Some(Status::Waiting(
            "Waiting for the leader to publish the secret key".into()
        ))
    );
    assert_eq!(
        tools.calls_of("secret-add") + tools.calls_of("relation-set"),
        0
    );
}

#[tokio::test(flavor = "current_thread")]
async fn missing_relations_are_a_waiting_status_not_a_failure() {
    let tools = MemoryTools::new("indico", true);
    let (_dir, pebbles) = unreachable_pebbles();
    let outcome = run(&context("install", &[]), &tools, &pebbles)
        .await
        .unwrap();
    assert_eq!(
        outcome.status,
        Some(Status::Waiting(
            "Waiting for redis-broker availability".into()
        ))
    );
    assert_eq!(
        *tools.statuses.borrow(),
        [Status::Waiting(
            "Waiting for redis-broker availability".into()
        )]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_database_request_is_written_on_relation_created() {
    let tools = related_model(true);
    let (_dir, pebbles) = unreachable_pebbles();
    let created = context(
        "database-relation-created",
        &[
            ("JUJU_RELATION", "database"),
            ("JUJU_RELATION_ID", "database:3"),
            ("JUJU_REMOTE_APP", "postgresql-k8s"),
            ("JUJU_REMOTE_UNIT", ""),
        ],
    );
    run(&created, &tools, &pebbles).await.unwrap();
    let request = tools.relations.borrow()[&RelationId::new("database", 3)]
        .local_app
        .clone();
    assert_eq!(request["database"], "indico");
    assert_eq!(request["requested-secrets"], r#"["username","password"]"#);
}

#[tokio::test(flavor = "current_thread")]
async fn beat_moves_when_its_unit_departs() {
    let tools = related_model(true);
    let (_dir, pebbles) = unreachable_pebbles();
    run(&context("leader-elected", &[]), &tools, &pebbles)
        .await
        .unwrap();
    // indico/1 held beat and leaves.
    tools
        .relations
        .borrow_mut()
        .get_mut(&RelationId::new("indico-peers", 1))
        .unwrap()
        .local_app
        .insert("celery-unit".into(), "indico/1".into());
    let departed = context(
        "indico-peers-relation-departed",
        &[
            ("JUJU_RELATION", "indico-peers"),
            ("JUJU_RELATION_ID", "indico-peers:1"),
            ("JUJU_REMOTE_APP", "indico"),
            ("JUJU_REMOTE_UNIT", "indico/1"),
            ("JUJU_DEPARTING_UNIT", "indico/1"),
        ],
    );
    run(&departed, &tools, &pebbles).await.unwrap();
    assert_eq!(peer_bag(&tools)["celery-unit"], "indico/0");
}

#[tokio::test(flavor = "current_thread")]
async fn actions_fail_clearly_and_stop_remove_do_nothing() {
    let tools = related_model(true);
    let (_dir, pebbles) = unreachable_pebbles();
    let action = JujuContext::from_vars([
        ("JUJU_UNIT_NAME", "indico/0"),
        ("JUJU_VERSION", "3.6.0"),
        ("JUJU_MODEL_NAME", "events"),
        ("JUJU_MODEL_UUID", "0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c"),
        ("JUJU_CHARM_DIR", "/charm"),
        ("JUJU_DISPATCH_PATH", "actions/refresh-external-resources"),
        ("JUJU_HOOK_NAME", ""),
        ("JUJU_ACTION_NAME", "refresh-external-resources"),
        ("JUJU_ACTION_UUID", "42"),
    ])
    .unwrap();
    run(&action, &tools, &pebbles).await.unwrap();
    // Unreachable Pebble: the action fails (once) instead of reporting success.
    assert_eq!(tools.action_failures.borrow().len(), 1);
    tools.calls.borrow_mut().clear();
    run(&context("stop", &[]), &tools, &pebbles).await.unwrap();
    run(&context("remove", &[]), &tools, &pebbles)
        .await
        .unwrap();
    assert_eq!(tools.call_count(), 0);
}

/// The architecture's budget: at most 20 hook tool calls for a no-op hook with the core
/// relations related (here without the Pebble reads, which are not hook tools).
#[tokio::test(flavor = "current_thread")]
async fn a_no_op_hook_stays_within_the_hook_tool_budget() {
    let tools = related_model(true);
    let (_dir, pebbles) = unreachable_pebbles();
    run(&context("leader-elected", &[]), &tools, &pebbles)
        .await
        .unwrap();
    tools.calls.borrow_mut().clear();
    run(&context("update-status", &[]), &tools, &pebbles)
        .await
        .unwrap();
    let calls = tools.calls.borrow().clone();
    println!("no-op hook: {} hook tool calls: {calls:?}", calls.len());
    assert!(calls.len() <= 20, "{} calls: {calls:?}", calls.len());
    assert_eq!(
        tools.calls_of("relation-set") + tools.calls_of("secret-add"),
        0
    );
}

#[tokio::test(flavor = "current_thread")]
async fn database_credentials_not_yet_granted_mean_waiting_for_the_database() {
    let tools = related_model(true);
    tools
        .secrets
        .borrow_mut()
        .retain(|uri, _| !uri.starts_with("secret://0b1e6c3a/"));
    let (_dir, pebbles) = unreachable_pebbles();
    let outcome = run(&context("leader-elected", &[]), &tools, &pebbles)
        .await
        .unwrap();
    assert_eq!(
        outcome.status,
        Some(Status::Waiting("Waiting for database availability".into()))
    );
}
