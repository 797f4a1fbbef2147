//! Exec against the real daemon: stdin, split stdout/stderr, environment, working dir, user,
//! a non-zero exit as `ExecError`, Pebble's timeout, a missing executable, service context.

mod support;

use std::time::Duration;

use pebble_client::{Error, ExecRequest, Layer};
use support::Daemon;

fn sh(script: &str) -> ExecRequest {
    ExecRequest::new(["/bin/sh", "-c", script])
}

#[tokio::test]
async fn stdin_goes_in_and_stdout_comes_back() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let stdin: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let output = client
        .exec(&ExecRequest {
            stdin: Some(stdin.clone()),
            ..ExecRequest::new(["cat"])
        })
        .await
        .unwrap();
    assert_eq!(output.exit_code, 0);
    assert_eq!(output.stdout.len(), stdin.len());
    assert_eq!(output.stdout, stdin);
    assert!(output.stderr.is_empty());
}

#[tokio::test]
async fn a_command_reading_stdin_without_input_does_not_hang() {
    let daemon = Daemon::start();
    let output = daemon
        .client()
        .exec(&ExecRequest::new(["cat"]))
        .await
        .unwrap();
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn stderr_is_split_from_stdout() {
    let daemon = Daemon::start();
    let output = daemon
        .client()
        .exec(&sh("echo out:hello; echo err:bar >&2; echo more"))
        .await
        .unwrap();
    assert_eq!(output.stdout_text(), "out:hello\nmore\n");
    assert_eq!(output.stderr_text(), "err:bar\n");
}

#[tokio::test]
async fn environment_working_dir_and_user_are_applied() {
    let daemon = Daemon::start();
    let dir = daemon.scratch("cwd");
    let request = ExecRequest {
        environment: [("SECRET_TOKEN".to_owned(), "s3cr3t value".to_owned())].into(),
        working_dir: Some(dir.to_str().unwrap().to_owned()),
        user_id: Some(0),
        group_id: Some(0),
        ..sh("printf '%s|' \"$SECRET_TOKEN\" \"$(pwd)\" \"$(id -u)\"")
    };
    // Debug never shows the environment values or stdin.
    assert!(!format!("{request:?}").contains("s3cr3t"));
    let output = daemon.client().exec(&request).await.unwrap();
    assert_eq!(
        output.stdout_text(),
        format!("s3cr3t value|{}|0|", dir.display())
    );
}

#[tokio::test]
async fn a_non_zero_exit_is_an_exec_error_with_the_output() {
    let daemon = Daemon::start();
    let err = daemon
        .client()
        .exec(&sh("echo partial; echo 'boom: db missing' >&2; exit 3"))
        .await
        .unwrap_err();
    match &err {
        Error::Exec(exec) => {
            assert_eq!(exec.exit_code, 3);
            assert_eq!(exec.program, "/bin/sh");
            assert_eq!(exec.stdout_text(), "partial\n");
            assert_eq!(exec.stderr_text(), "boom: db missing\n");
        }
        other => panic!("expected Exec, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "command \"/bin/sh\" exited with code 3: boom: db missing"
    );
}

#[tokio::test]
async fn pebble_kills_the_command_at_its_timeout() {
    let daemon = Daemon::start();
    let err = daemon
        .client()
        .exec(&ExecRequest {
            timeout: Some(Duration::from_millis(500)),
            ..ExecRequest::new(["sleep", "30"])
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(500)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_missing_executable_is_refused_by_pebble() {
    let daemon = Daemon::start();
    let err = daemon
        .client()
        .exec(&ExecRequest::new(["/no/such/bin"]))
        .await
        .unwrap_err();
    match err {
        Error::Api {
            status, message, ..
        } => {
            assert_eq!(status, 400);
            assert_eq!(message, "cannot find executable \"/no/such/bin\"");
        }
        other => panic!("expected Api, got {other:?}"),
    }
    let err = daemon
        .client()
        .exec(&ExecRequest {
            working_dir: Some("/no/such/dir".into()),
            ..ExecRequest::new(["true"])
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = daemon
        .client()
        .exec(&ExecRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
}

#[tokio::test]
async fn service_context_supplies_environment_and_working_dir() {
    let daemon = Daemon::start();
    let client = daemon.client();
    let dir = daemon.scratch("svc");
    let layer = Layer::from_yaml(&format!(
        "services: {{app: {{override: replace, command: /bin/sleep 1, environment: {{FROM_SERVICE: yes}}, working-dir: {}}}}}",
        dir.display()
    ))
    .unwrap();
    client.add_layer("app", &layer, false).await.unwrap();
    let output = client
        .exec(&ExecRequest {
            service_context: Some("app".into()),
            ..sh("echo \"$FROM_SERVICE $(pwd)\"")
        })
        .await
        .unwrap();
    assert_eq!(output.stdout_text(), format!("yes {}\n", dir.display()));
}

#[tokio::test]
async fn stdin_the_command_never_reads_does_not_break_the_call() {
    let daemon = Daemon::start();
    let request = ExecRequest {
        stdin: Some(vec![b'x'; 4 * 1024 * 1024]),
        ..sh("echo done")
    };
    // A regression here hangs rather than fails: bound it.
    let output = tokio::time::timeout(Duration::from_secs(30), daemon.client().exec(&request))
        .await
        .expect("exec hung on unread stdin")
        .unwrap();
    assert_eq!(output.stdout_text(), "done\n");
}
