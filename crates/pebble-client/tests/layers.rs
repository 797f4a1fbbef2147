//! Layers and the plan against the real daemon: add, combine, the plan read back into the
//! same typed model, and `Plan::satisfies` on what Pebble actually renders.

mod support;

use pebble_client::{Error, GoDuration, Layer, Override};
use support::Daemon;

/// Every v1.19.2 field, with durations written in non-canonical forms (`60s`, `1500ms`) that
/// Pebble renders back differently, and thresholds set (Pebble renders 3 when unset).
const FULL: &str = r#"
summary: all fields
description: every field of the v1.19.2 schema
services:
  web:
    summary: web server
    description: serves
    startup: enabled
    override: replace
    command: /bin/sleep 1000 [ --ignored ]
    after: [db]
    before: [cron]
    requires: [db]
    environment: {A: "1", B: two}
    user-id: 0
    user: root
    group-id: 0
    group: root
    working-dir: /tmp
    on-success: ignore
    on-failure: shutdown
    on-check-failure: {up: restart}
    backoff-delay: 1500ms
    backoff-factor: 1.5
    backoff-limit: 60s
    kill-delay: 90s
  db:
    override: replace
    command: /bin/sleep 1000
  cron:
    override: replace
    command: /bin/sleep 1000
    on-success: failure-shutdown
    on-failure: success-shutdown
checks:
  up:
    override: replace
    level: ready
    startup: disabled
    period: 60s
    timeout: 1500ms
    threshold: 5
    http: {url: "http://127.0.0.1:1/", headers: {X-Probe: "1"}}
  port:
    override: replace
    level: alive
    threshold: 3
    tcp: {port: 1, host: 127.0.0.1}
  cmd:
    override: replace
    threshold: 2
    startup: disabled
    exec:
      command: /bin/true
      service-context: web
      environment: {C: "3"}
      user-id: 0
      user: root
      group-id: 0
      group: root
      working-dir: /
log-targets:
  loki:
    override: replace
    type: loki
    location: http://127.0.0.1:1/loki/api/v1/push
    services: [all, -db]
    labels: {unit: indico-0}
  sys:
    override: replace
    type: syslog
    location: tcp://127.0.0.1:1
    services: [web]
"#;

#[tokio::test]
async fn plan_round_trip_gives_back_the_same_typed_model() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let layer = Layer::from_yaml(FULL).unwrap();
    client.add_layer("full", &layer, false).await.unwrap();
    let plan = client.plan().await.unwrap();
    assert_eq!(plan.services, layer.services);
    assert_eq!(plan.checks, layer.checks);
    assert_eq!(plan.log_targets, layer.log_targets);
    assert_eq!(
        plan.services["web"].kill_delay,
        Some(GoDuration::from_secs(90))
    );
    assert!(plan.satisfies(&layer));
}

#[tokio::test]
async fn satisfies_follows_what_pebble_renders() {
    let daemon = Daemon::start();
    let client = daemon.client();
    // Minimal layer: Pebble fills in the check threshold and renders 60s as 1m0s.
    let desired = Layer::from_yaml(
        "services: {app: {override: replace, command: /bin/sleep 1000, startup: enabled, kill-delay: 60s}}\n\
         checks: {alive: {override: replace, tcp: {port: 1}}}",
    )
    .unwrap();
    client.add_layer("charm", &desired, true).await.unwrap();
    let plan = client.plan().await.unwrap();
    assert_eq!(plan.checks["alive"].threshold, Some(3));
    assert!(plan.satisfies(&desired));

    let mut changed = desired.clone();
    changed.services.get_mut("app").unwrap().kill_delay = Some(GoDuration::from_secs(61));
    assert!(!plan.satisfies(&changed));

    let mut changed = desired.clone();
    changed
        .services
        .get_mut("app")
        .unwrap()
        .environment
        .insert("NEW".into(), "1".into());
    assert!(!plan.satisfies(&changed));

    // Re-adding the changed layer with combine replaces it in place; the plan then satisfies it.
    client.add_layer("charm", &changed, true).await.unwrap();
    let plan = client.plan().await.unwrap();
    assert!(plan.satisfies(&changed));
    assert!(!plan.satisfies(&desired));
}

#[tokio::test]
async fn combine_merges_into_the_existing_label() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let base = Layer::from_yaml(
        "services: {web: {override: replace, command: /bin/sleep 1000, environment: {FOO: bar}}}",
    )
    .unwrap();
    client.add_layer("demo", &base, false).await.unwrap();
    let merge = Layer::from_yaml(
        "services: {web: {override: merge, environment: {NEW: '1'}, after: [other]}, other: {override: replace, command: /bin/sleep 1}}",
    )
    .unwrap();
    client.add_layer("demo", &merge, true).await.unwrap();
    let plan = client.plan().await.unwrap();
    let web = &plan.services["web"];
    assert_eq!(web.environment.len(), 2, "{web:?}");
    assert_eq!(web.environment["FOO"], "bar");
    assert_eq!(web.environment["NEW"], "1");
    assert_eq!(web.after, vec!["other".to_owned()]);
    assert_eq!(web.r#override, Some(Override::Replace));
    assert!(plan.satisfies(&merge));
    assert!(!plan.satisfies(&base), "base has no `after`, the plan does");
}

#[tokio::test]
async fn adding_an_existing_label_without_combine_is_an_api_error() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let layer = Layer::from_yaml("services: {s: {override: replace, command: /bin/true}}").unwrap();
    client.add_layer("dup", &layer, false).await.unwrap();
    let err = client.add_layer("dup", &layer, false).await.unwrap_err();
    match err {
        Error::Api {
            status, message, ..
        } => {
            assert_eq!(status, 400);
            assert_eq!(message, "layer \"dup\" already exists");
        }
        other => panic!("expected Api, got {other:?}"),
    }
}

#[tokio::test]
async fn an_invalid_layer_is_refused_and_leaves_the_plan_unchanged() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let no_override = Layer::from_yaml("services: {x: {command: /bin/true}}").unwrap();
    let err = client
        .add_layer("bad", &no_override, false)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("layer \"bad\" must define \"override\" for service \"x\""),
        "{err}"
    );
    assert!(client.plan().await.unwrap().services.is_empty());
}

#[tokio::test]
async fn every_changed_field_is_noticed_against_the_real_plan() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let layer = Layer::from_yaml(FULL).unwrap();
    client.add_layer("full", &layer, false).await.unwrap();
    let plan = client.plan().await.unwrap();
    assert!(plan.satisfies(&layer));

    type Edit = fn(&mut Layer);
    let edits: [(&str, Edit); 12] = [
        ("command", |l| {
            l.services.get_mut("web").unwrap().command = Some("/bin/sleep 999".into())
        }),
        ("startup", |l| {
            l.services.get_mut("web").unwrap().startup = None
        }),
        ("after", |l| {
            l.services.get_mut("web").unwrap().after.clear()
        }),
        ("environment", |l| {
            l.services
                .get_mut("web")
                .unwrap()
                .environment
                .insert("A".into(), "2".into());
        }),
        ("user", |l| {
            l.services.get_mut("web").unwrap().user = Some("nobody".into())
        }),
        ("backoff-factor", |l| {
            l.services.get_mut("web").unwrap().backoff_factor = Some(2.5)
        }),
        ("kill-delay", |l| {
            l.services.get_mut("web").unwrap().kill_delay = None
        }),
        ("check threshold", |l| {
            l.checks.get_mut("up").unwrap().threshold = Some(4)
        }),
        ("check period", |l| {
            l.checks.get_mut("up").unwrap().period = Some(GoDuration::from_secs(30))
        }),
        ("exec check env", |l| {
            l.checks
                .get_mut("cmd")
                .unwrap()
                .exec
                .as_mut()
                .unwrap()
                .environment
                .clear();
        }),
        ("log-target services", |l| {
            l.log_targets.get_mut("loki").unwrap().services.pop();
        }),
        ("new service", |l| {
            let extra = l.services["db"].clone();
            l.services.insert("extra".into(), extra);
        }),
    ];
    for (what, edit) in edits {
        let mut changed = layer.clone();
        edit(&mut changed);
        assert!(!plan.satisfies(&changed), "a changed {what} went unnoticed");
    }
    // Explicit Pebble defaults compare equal to unset ones, on what Pebble rendered.
    let mut explicit = layer.clone();
    let db = explicit.services.get_mut("db").unwrap();
    db.backoff_limit = Some(GoDuration::from_secs(30));
    db.on_failure = Some(pebble_client::ServiceAction::Restart);
    assert!(plan.satisfies(&explicit));
}
