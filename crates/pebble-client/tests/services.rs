//! Services, changes and checks against the real daemon: replan starting a real HTTP server
//! with a check going up, stop/restart, a crashing service's change error, signals, autostart.

mod support;

use std::time::Duration;

use pebble_client::{CheckLevel, CheckStatus, Error, Layer, ServiceStatus};
use support::{Daemon, eventually, free_port, python3};

/// A python HTTP server as service `web` and an HTTP check `web-up` on it (period 300ms).
fn web_layer(port: u16, root: &std::path::Path) -> Layer {
    Layer::from_yaml(&format!(
        r#"
services:
  web:
    override: replace
    startup: enabled
    command: {python} -m http.server {port} --bind 127.0.0.1 --directory {root}
    kill-delay: 1s
checks:
  web-up:
    override: replace
    level: ready
    period: 300ms
    threshold: 1
    http: {{url: "http://127.0.0.1:{port}/"}}
"#,
        python = python3(),
        root = root.display()
    ))
    .unwrap()
}

#[tokio::test]
async fn replan_starts_a_real_server_and_its_check_goes_up() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let port = free_port();
    client
        .add_layer("web", &web_layer(port, &daemon.scratch("www")), false)
        .await
        .unwrap();
    client.replan().await.unwrap();

    let services = client.services(&["web"]).await.unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].current, ServiceStatus::Active);
    assert!(services[0].current_since.is_some());
    // The server really answers.
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();

    let check = eventually("check web-up to pass", Duration::from_secs(10), || async {
        let checks = client
            .checks(Some(CheckLevel::Ready), &["web-up"])
            .await
            .unwrap();
        checks
            .into_iter()
            .find(|c| c.name == "web-up" && c.status == CheckStatus::Up && c.failures == 0)
    })
    .await;
    assert_eq!(check.threshold, 1);
    assert_eq!(check.level, Some(CheckLevel::Ready));
    assert!(client.health(Some(CheckLevel::Ready), &[]).await.unwrap());
    // No alive-level checks match that filter: the level filter is applied.
    assert!(
        client
            .checks(Some(CheckLevel::Alive), &[])
            .await
            .unwrap()
            .is_empty()
    );

    // Stop the server: the check goes down and health turns false (Pebble answers 502).
    client.stop(&["web"]).await.unwrap();
    assert_eq!(
        client.services(&["web"]).await.unwrap()[0].current,
        ServiceStatus::Inactive
    );
    eventually(
        "check web-up to go down",
        Duration::from_secs(10),
        || async {
            let checks = client.checks(None, &["web-up"]).await.unwrap();
            (checks[0].status == CheckStatus::Down).then_some(())
        },
    )
    .await;
    assert!(!client.health(None, &[]).await.unwrap());
}

#[tokio::test]
async fn restart_gives_a_new_process_and_signals_reach_it() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let layer = Layer::from_yaml(
        "services: {sleeper: {override: replace, command: /bin/sleep 1000, kill-delay: 1s}}",
    )
    .unwrap();
    client.add_layer("s", &layer, false).await.unwrap();
    client.start(&["sleeper"]).await.unwrap();
    let first = client.services(&[]).await.unwrap()[0].clone();
    assert_eq!(first.current, ServiceStatus::Active);
    client.restart(&["sleeper"]).await.unwrap();
    let second = client.services(&[]).await.unwrap()[0].clone();
    assert_eq!(second.current, ServiceStatus::Active);
    assert_ne!(first.current_since, second.current_since);

    client.send_signal("SIGSTOP", &["sleeper"]).await.unwrap();
    client.send_signal("SIGCONT", &["sleeper"]).await.unwrap();
    let err = client
        .send_signal("SIGFOO", &["sleeper"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("invalid signal name"), "{err}");

    client.stop(&["sleeper"]).await.unwrap();
    let err = client
        .send_signal("SIGHUP", &["sleeper"])
        .await
        .unwrap_err();
    match err {
        Error::Api {
            status, message, ..
        } => {
            assert_eq!(status, 500);
            assert!(message.contains("service is not running"), "{message}");
        }
        other => panic!("expected Api, got {other:?}"),
    }
}

#[tokio::test]
async fn a_service_that_crashes_quickly_surfaces_the_change_error() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let layer = Layer::from_yaml(
        "services: {crasher: {override: replace, command: /bin/sh -c 'echo dying; exit 1', on-failure: ignore}}",
    )
    .unwrap();
    client.add_layer("c", &layer, false).await.unwrap();
    let err = client.start(&["crasher"]).await.unwrap_err();
    match &err {
        Error::ChangeFailed { kind, err, .. } => {
            assert_eq!(kind, "start");
            assert!(err.contains("Start service \"crasher\""), "{err}");
            assert!(err.contains("exited quickly with code 1"), "{err}");
        }
        other => panic!("expected ChangeFailed, got {other:?}"),
    }
    assert!(err.to_string().starts_with("Pebble change "), "{err}");
    assert_eq!(
        client.services(&["crasher"]).await.unwrap()[0].current,
        ServiceStatus::Error
    );
}

#[tokio::test]
async fn autostart_and_action_errors() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let err = client.autostart().await.unwrap_err();
    match &err {
        Error::Api { kind, .. } => assert_eq!(kind.as_deref(), Some("no-default-services")),
        other => panic!("expected Api, got {other:?}"),
    }
    let err = client.start(&["nope"]).await.unwrap_err();
    assert!(
        err.to_string().contains("service \"nope\" does not exist"),
        "{err}"
    );
    let err = client.start(&[]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");

    let layer = Layer::from_yaml(
        "services: {a: {override: replace, startup: enabled, command: /bin/sleep 1000, kill-delay: 1s}}",
    )
    .unwrap();
    client.add_layer("a", &layer, false).await.unwrap();
    client.autostart().await.unwrap();
    assert!(client.services(&["a"]).await.unwrap()[0].is_running());
}

#[tokio::test]
async fn checks_can_be_stopped_and_started() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let layer = Layer::from_yaml(
        "checks: {ok: {override: replace, period: 200ms, exec: {command: /bin/true}}}",
    )
    .unwrap();
    client.add_layer("c", &layer, false).await.unwrap();
    client.replan().await.unwrap();
    eventually("check ok to run", Duration::from_secs(5), || async {
        let c = client.checks(None, &["ok"]).await.unwrap();
        (c[0].status == CheckStatus::Up).then_some(())
    })
    .await;
    assert_eq!(client.stop_checks(&["ok"]).await.unwrap(), vec!["ok"]);
    assert_eq!(
        client.checks(None, &["ok"]).await.unwrap()[0].status,
        CheckStatus::Inactive
    );
    // Stopping a stopped check changes nothing.
    assert!(client.stop_checks(&["ok"]).await.unwrap().is_empty());
    assert_eq!(client.start_checks(&["ok"]).await.unwrap(), vec!["ok"]);
    assert_eq!(
        client.checks(None, &["ok"]).await.unwrap()[0].status,
        CheckStatus::Up
    );
    let err = client.start_checks(&["missing"]).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 400, .. }), "{err:?}");
}

#[tokio::test]
async fn waiting_on_a_change_past_its_deadline_is_a_timeout() {
    let daemon = Daemon::start();
    let client = daemon
        .client()
        .with_change_timeout(Duration::from_millis(300));
    let layer = Layer::from_yaml(
        "services: {slow: {override: replace, command: /bin/sleep 1000, kill-delay: 1s}}",
    )
    .unwrap();
    client.add_layer("s", &layer, false).await.unwrap();
    // A start takes Pebble's 1 s okay-delay, longer than the 300 ms deadline.
    let err = client.start(&["slow"]).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn a_change_longer_than_one_wait_slice_is_waited_through_504s() {
    let daemon = Daemon::start();
    let client = daemon.client();
    // The process ignores SIGTERM, so stopping it takes the whole 4.5 s kill-delay: longer than
    // one 4 s `/wait`, which Pebble ends with a 504 that must mean "keep waiting".
    let layer = Layer::from_yaml(
        "services: {stubborn: {override: replace, command: /bin/sh -c 'trap \"\" TERM; sleep 1000', kill-delay: 4500ms}}",
    )
    .unwrap();
    client.add_layer("s", &layer, false).await.unwrap();
    client.start(&["stubborn"]).await.unwrap();
    client.stop(&["stubborn"]).await.unwrap();
    assert_eq!(
        client.services(&["stubborn"]).await.unwrap()[0].current,
        ServiceStatus::Inactive
    );
}
