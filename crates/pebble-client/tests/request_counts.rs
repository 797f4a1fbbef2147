//! The request counter against the real daemon: reads count as requests only, pushes and
//! layers as writes, clones share one count, and an exec counts its POST and websockets.

mod support;

use pebble_client::{ExecRequest, PushOptions, RequestCounts};
use support::Daemon;

#[tokio::test]
async fn reads_writes_and_clones_are_counted() {
    let daemon = Daemon::start();
    let client = daemon.client();
    assert_eq!(client.request_counts(), RequestCounts::default());

    client.system_info().await.unwrap();
    client.plan().await.unwrap();
    assert_eq!(
        client.request_counts(),
        RequestCounts {
            requests: 2,
            writes: 0
        }
    );

    let clone = client.clone();
    let path = daemon.scratch("counts").join("counted.txt");
    clone
        .push(path.to_str().unwrap(), b"x", &PushOptions::default())
        .await
        .unwrap();
    let expected = RequestCounts {
        requests: 3,
        writes: 1,
    };
    assert_eq!(client.request_counts(), expected);
    assert_eq!(clone.request_counts(), expected);
}

#[tokio::test]
async fn a_refused_request_still_counts() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let err = client.pull("/nonexistent/file").await;
    assert!(err.is_err());
    assert_eq!(client.request_counts().requests, 1);
}

#[tokio::test]
async fn an_exec_counts_its_start_and_its_websockets() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let output = client.exec(&ExecRequest::new(["/bin/true"])).await.unwrap();
    assert_eq!(output.exit_code, 0);
    let counts = client.request_counts();
    // POST /v1/exec, then at least control + stdio websockets and a change wait.
    assert_eq!(counts.writes, 1, "{counts:?}");
    assert!(counts.requests >= 4, "{counts:?}");
}
