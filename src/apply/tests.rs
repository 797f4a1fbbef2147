//! Apply against a real Pebble daemon: the first run pushes, adds and replans; a second run
//! with nothing changed makes zero changes; a changed file restarts only the service that
//! reads it; after a Pebble restart the layer is re-added.

use std::collections::BTreeMap;

use juju_runtime::Status;
use pebble_client::{Client, Layer, Override, Service, ServiceInfo, Startup};

use super::*;
use crate::pebble_daemon::PebbleDaemon;
use crate::plan::files::content_hash;
use crate::plan::{DesiredContainer, DesiredFile, DesiredPod, layers};

const CONTAINER: ContainerName = ContainerName::IndicoNginx;

fn sleeper(seconds: u32, env: BTreeMap<String, String>) -> Service {
    Service {
        r#override: Some(Override::Replace),
        startup: Some(Startup::Enabled),
        command: Some(format!("sleep {seconds}")),
        environment: env,
        ..Service::default()
    }
}

/// Two services: `reads-file` carries the hash of the pushed file, `independent` does not.
fn desired(daemon: &PebbleDaemon, content: &str) -> DesiredPod {
    let file = DesiredFile {
        path: daemon.scratch().join("etc/app.conf").display().to_string(),
        content: content.as_bytes().to_vec(),
        permissions: 0o640,
        user: "root".into(),
        group: "root".into(),
    };
    let hash = content_hash(std::slice::from_ref(&file));
    let env = BTreeMap::from([(layers::CONFIG_HASH_VAR.to_owned(), hash)]);
    let layer = Layer {
        services: BTreeMap::from([
            ("reads-file".to_owned(), sleeper(1000, env)),
            ("independent".to_owned(), sleeper(1001, BTreeMap::new())),
        ]),
        ..Layer::default()
    };
    DesiredPod {
        containers: BTreeMap::from([(
            CONTAINER,
            DesiredContainer {
                layer,
                files: vec![file],
            },
        )]),
        relation_writes: Vec::new(),
        status: Status::Active,
        workload_version: None,
    }
}

async fn observe(client: &Client) -> BTreeMap<ContainerName, ContainerState> {
    BTreeMap::from([(
        CONTAINER,
        ContainerState {
            reachable: true,
            current_plan: Some(client.plan().await.unwrap()),
        },
    )])
}

async fn since(client: &Client) -> BTreeMap<String, Option<String>> {
    let services: Vec<ServiceInfo> = client.services(&[]).await.unwrap();
    assert!(services.iter().all(ServiceInfo::is_running), "{services:?}");
    services
        .into_iter()
        .map(|s| (s.name, s.current_since))
        .collect()
}

async fn run(pod: &DesiredPod, pebbles: &BTreeMap<ContainerName, Client>) -> ApplyReport {
    let client = &pebbles[&CONTAINER];
    let mut report = ApplyReport::default();
    apply_containers(pod, &observe(client).await, pebbles, &mut report)
        .await
        .unwrap();
    report
}

#[tokio::test(flavor = "current_thread")]
async fn apply_is_diffed_and_restarts_only_what_changed() {
    let mut daemon = PebbleDaemon::start();
    let pebbles = BTreeMap::from([(CONTAINER, Client::new(daemon.socket()).unwrap())]);
    let client = &pebbles[&CONTAINER];

    // First hook: everything is new.
    let first = desired(&daemon, "setting = 1\n");
    let report = run(&first, &pebbles).await;
    assert_eq!(
        (report.pushes, report.layer_adds, report.replans),
        (1, 1, 1)
    );
    let pushed = client
        .pull(&first.containers[&CONTAINER].files[0].path)
        .await
        .unwrap();
    assert_eq!(pushed, b"setting = 1\n");
    let started = since(client).await;

    // A no-op hook: zero pushes, layer adds, replans; nothing restarted.
    let report = run(&first, &pebbles).await;
    assert_eq!(report, ApplyReport::default());
    assert_eq!(since(client).await, started);

    // The file changes: only the service that reads it restarts.
    let second = desired(&daemon, "setting = 2\n");
    let report = run(&second, &pebbles).await;
    assert_eq!(
        (report.pushes, report.layer_adds, report.replans),
        (1, 1, 1)
    );
    let now = since(client).await;
    assert_ne!(
        now["reads-file"], started["reads-file"],
        "reads-file must restart"
    );
    assert_eq!(
        now["independent"], started["independent"],
        "independent must not restart"
    );

    // Pebble restarts (container restart): the layer is gone and is added again.
    // The next hook is a new process with new clients.
    daemon.restart();
    let pebbles = BTreeMap::from([(CONTAINER, Client::new(daemon.socket()).unwrap())]);
    let report = run(&second, &pebbles).await;
    assert_eq!(
        (report.pushes, report.layer_adds, report.replans),
        (1, 1, 1)
    );
    assert_eq!(since(&pebbles[&CONTAINER]).await.len(), 2);
    let report = run(&second, &pebbles).await;
    assert_eq!(report, ApplyReport::default());
}

#[tokio::test(flavor = "current_thread")]
async fn an_unreachable_pebble_is_reported_as_such() {
    let daemon = PebbleDaemon::start();
    let pod = desired(&daemon, "x");
    let pebbles = BTreeMap::from([(
        CONTAINER,
        Client::new(daemon.scratch().join("no.socket")).unwrap(),
    )]);
    let mut report = ApplyReport::default();
    let err = apply_containers(&pod, &BTreeMap::new(), &pebbles, &mut report)
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn health_reports_services_that_do_not_run() {
    let daemon = PebbleDaemon::start();
    let pebbles = BTreeMap::from([(CONTAINER, Client::new(daemon.socket()).unwrap())]);
    let mut pod = desired(&daemon, "x");
    run(&pod, &pebbles).await;
    assert_eq!(health(&pod, &pebbles).await.unwrap(), Health::default());
    pebbles[&CONTAINER].stop(&["independent"]).await.unwrap();
    let found = health(&pod, &pebbles).await.unwrap();
    assert_eq!(found.not_running, ["independent"]);
    // A service that the plan lacks altogether is not running either.
    pod.containers
        .get_mut(&CONTAINER)
        .unwrap()
        .layer
        .services
        .insert("never-added".into(), sleeper(1, BTreeMap::new()));
    let found = health(&pod, &pebbles).await.unwrap();
    assert_eq!(found.not_running, ["independent", "never-added"]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_service_that_dies_at_once_is_a_health_problem_not_a_failed_hook() {
    let daemon = PebbleDaemon::start();
    let pebbles = BTreeMap::from([(CONTAINER, Client::new(daemon.socket()).unwrap())]);
    let mut pod = desired(&daemon, "x");
    let container = pod.containers.get_mut(&CONTAINER).unwrap();
    container
        .layer
        .services
        .get_mut("independent")
        .unwrap()
        .command = Some("false".into());
    let report = run(&pod, &pebbles).await;
    assert_eq!(report.replans, 1);
    let found = health(&pod, &pebbles).await.unwrap();
    assert_eq!(found.not_running, ["independent"]);
}
