//! Reachability against the real daemon: system-info, health, the error envelope, and the
//! daemon being absent (`CannotConnect`, never an API error).

mod support;

use pebble_client::{Client, Error};
use support::Daemon;

#[tokio::test]
async fn system_info_reports_the_daemon_version_and_boot_id() {
    let daemon = Daemon::start();
    let info = daemon.client().system_info().await.unwrap();
    assert!(info.version.starts_with("v1."), "{info:?}");
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    // Outside PID 1 Pebble reports the host's boot id.
    assert_eq!(info.boot_id, boot_id.trim());
}

#[tokio::test]
async fn health_is_true_without_checks() {
    let daemon = Daemon::start();
    assert!(daemon.client().health(None, &[]).await.unwrap());
}

#[tokio::test]
async fn missing_socket_is_cannot_connect() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("pebble.socket");
    let err = Client::new(&socket)
        .unwrap()
        .system_info()
        .await
        .unwrap_err();
    match &err {
        Error::CannotConnect { socket: s, .. } => assert_eq!(s, &socket),
        other => panic!("expected CannotConnect, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with("cannot connect to Pebble at "),
        "{err}"
    );
}

#[tokio::test]
async fn stopped_daemon_is_cannot_connect() {
    let daemon = Daemon::start();
    let client = daemon.client();
    client.system_info().await.unwrap();
    let socket = daemon.socket().to_owned();
    // A socket file nobody listens on any more: connection refused.
    let listener = std::os::unix::net::UnixListener::bind(socket.with_extension("stale")).unwrap();
    drop(listener);
    let stale = Client::new(socket.with_extension("stale")).unwrap();
    let err = stale.system_info().await.unwrap_err();
    assert!(matches!(err, Error::CannotConnect { .. }), "{err:?}");
    drop(daemon);
    let err = client.system_info().await.unwrap_err();
    assert!(matches!(err, Error::CannotConnect { .. }), "{err:?}");
}

#[tokio::test]
async fn error_envelope_becomes_a_typed_api_error() {
    let daemon = Daemon::start();
    let err = daemon.client().notice("9999").await.unwrap_err();
    match &err {
        Error::Api {
            status, message, ..
        } => {
            assert_eq!(*status, 404);
            assert_eq!(message, "cannot find notice with ID \"9999\"");
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert!(err.is_not_found());
    let err = daemon.client().change("12345").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn cannot_connect_message_names_the_cause() {
    let err = Client::new("/nonexistent/pebble.socket")
        .unwrap()
        .system_info()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot connect to Pebble at /nonexistent/pebble.socket: No such file or directory (os error 2)"
    );
}
