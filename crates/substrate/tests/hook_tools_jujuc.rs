//! The `jujuc` client as a process: environment checks, multi-call dispatch on argv[0],
//! byte-exact relay of the agent's stdout, stderr and exit code, stdin only for
//! `--file -`, and files named by `#file=` read on the client side.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use indico_substrate::hook_tools::server::{ToolHost, ToolServer};
use indico_substrate::hook_tools::{ToolOutput, ToolRequest};

/// Records requests and answers with a fixed output.
struct Recorder {
    seen: Mutex<Vec<ToolRequest>>,
    answer: ToolOutput,
}

impl ToolHost for Recorder {
    fn call(&self, request: &ToolRequest) -> ToolOutput {
        self.seen.lock().unwrap().push(request.clone());
        self.answer.clone()
    }
}

fn jujuc() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_jujuc"))
}

fn run(program: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn missing_environment_is_an_error_like_jujuc() {
    let out = run(jujuc(), &["is-leader"], &[], b"");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ERROR JUJU_CONTEXT_ID not set\n"
    );
    let out = run(jujuc(), &["is-leader"], &[("JUJU_CONTEXT_ID", "x")], b"");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "ERROR JUJU_AGENT_SOCKET_ADDRESS not set\n"
    );
}

#[test]
fn calls_travel_through_the_socket_and_answers_come_back_byte_exact() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.socket");
    let recorder = Arc::new(Recorder {
        seen: Mutex::new(Vec::new()),
        answer: ToolOutput {
            code: 2,
            stdout: vec![0xff, b'\n'],
            stderr: b"ERROR nope\n".to_vec(),
        },
    });
    let _server = ToolServer::start(&socket, recorder.clone()).unwrap();
    let link = dir.path().join("relation-set");
    std::os::unix::fs::symlink(jujuc(), &link).unwrap();
    let secret_file = dir.path().join("value");
    std::fs::write(&secret_file, b"s3cret").unwrap();
    let env = [
        ("JUJU_CONTEXT_ID", "app/0-install-1"),
        ("JUJU_AGENT_SOCKET_ADDRESS", socket.to_str().unwrap()),
        ("JUJU_AGENT_SOCKET_NETWORK", "unix"),
    ];
    let file_arg = format!("password#file={}", secret_file.display());
    let out = run(
        &link,
        &["-r", "1", "--file", "-", &file_arg],
        &env,
        b"{\"a\": \"b\"}",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, [0xff, b'\n']);
    assert_eq!(out.stderr, b"ERROR nope\n");
    let out = run(jujuc(), &["is-leader", "--format=json"], &env, b"ignored");
    assert_eq!(out.status.code(), Some(2));
    let seen = recorder.seen.lock().unwrap();
    assert_eq!(seen[0].tool, "relation-set");
    assert_eq!(seen[0].context_id, "app/0-install-1");
    assert_eq!(seen[0].stdin.as_deref(), Some(&b"{\"a\": \"b\"}"[..]));
    assert_eq!(
        seen[0].file(secret_file.to_str().unwrap()),
        Some(&b"s3cret"[..])
    );
    assert_eq!(
        (seen[1].tool.as_str(), seen[1].args.as_slice()),
        ("is-leader", &["--format=json".to_owned()][..])
    );
    assert_eq!(seen[1].stdin, None, "stdin is only read for --file -");
}

#[test]
fn the_dispatch_launcher_sets_exactly_the_given_environment_and_closes_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("dispatch");
    let report = dir.path().join("report");
    let content = format!(
        "#!/bin/sh\n/usr/bin/env > {0}\necho \"stdin:$(/bin/cat)\" >> {0}\n",
        report.display()
    );
    juju_runtime::testing::write_executable(&script, content.as_bytes()).unwrap();
    let env = vec![
        ("JUJU_HOOK_NAME".to_owned(), "install".to_owned()),
        (
            "JUJU_CHARM_HTTP_PROXY".to_owned(),
            "http://user:pw@proxy:3128".to_owned(),
        ),
        ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
    ];
    let stdin = indico_substrate::agent::encode_env(&env);
    let out = run(
        jujuc(),
        &["--run-dispatch", script.to_str().unwrap()],
        &[("LEAK", "x")],
        &stdin,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.pop(), Some("stdin:"), "dispatch reads /dev/null");
    lines.retain(|l| !l.starts_with("PWD=")); // sh exports its working directory
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "JUJU_CHARM_HTTP_PROXY=http://user:pw@proxy:3128",
            "JUJU_HOOK_NAME=install",
            "PATH=/usr/bin:/bin"
        ]
    );
    let bad = run(
        jujuc(),
        &["--run-dispatch", script.to_str().unwrap()],
        &[],
        b"NOEQUALS\0",
    );
    assert_eq!(bad.status.code(), Some(1));
}
