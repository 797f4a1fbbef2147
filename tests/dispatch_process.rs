//! The compiled charm run as Juju runs it: `<charm dir>/dispatch` with no arguments, the charm
//! dir as working directory, stdin from /dev/null, the environment cleared and set to exactly
//! what Juju 3.6 sets (juju-contract §1.3), and recording fake hook tools first on `PATH`
//! answering from `tests/fixtures/dispatch/*.json`. Every call's argv and stdin are checked
//! byte for byte against the contract (§2).
//!
//! The binary is `INDICO_CHARM_BIN` when set (`tests/run` points it at the release build),
//! else the test-profile build Cargo made for this test. No Pebble socket exists here, so the
//! charm must report Waiting for pebble, not fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use charm_scenario::{Relation, ScenarioEvent, State, UnitIdentity, hook_env};
use juju_runtime::testing::{FakeAnswer, FakeToolsDir, RecordedCall};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dispatch");
const SECRET_KEY: &str = "bm90LWEtcmVhbC1rZXktYnV0LWxvbmctZW5vdWdoLXRvLWxvb2stbGlrZS1vbmU";
const DB_PASSWORD: &str = "Zq3-pg-p@ss/word";

/// The charm binary under test.
fn charm_binary() -> PathBuf {
    std::env::var_os("INDICO_CHARM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_indico-charm")))
}

/// A charm directory as Juju unpacks it: the declared surface plus `dispatch`.
struct CharmDir {
    dir: tempfile::TempDir,
}

impl CharmDir {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("indico-charm-dir-")
            .tempdir()
            .unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in ["metadata.yaml", "config.yaml", "actions.yaml"] {
            std::fs::copy(repo.join(file), dir.path().join(file)).unwrap();
        }
        let binary = charm_binary();
        assert!(binary.is_file(), "no charm binary at {}", binary.display());
        std::os::unix::fs::symlink(&binary, dir.path().join("dispatch")).unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// One dispatch of `event` (with `state` giving relations' remote apps and the model proxy),
/// answered by `tools`.
fn dispatch(event: &ScenarioEvent, state: &State, tools: &FakeToolsDir) -> Output {
    let charm = CharmDir::new();
    let identity = UnitIdentity {
        charm_dir: charm.path().to_path_buf(),
        ..UnitIdentity::new("indico")
    };
    let env = hook_env(&identity, event, state, &tools.bin_dir(), 7);
    Command::new(charm.path().join("dispatch"))
        .env_clear()
        .envs(&env)
        .current_dir(charm.path())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn tools_from(fixture: &str) -> FakeToolsDir {
    let json = std::fs::read_to_string(Path::new(FIXTURES).join(fixture)).unwrap();
    FakeToolsDir::from_fixture_json(&json).unwrap()
}

fn args(call: &RecordedCall) -> Vec<&str> {
    call.args.iter().map(String::as_str).collect()
}

fn is_relation_id(text: &str) -> bool {
    text.parse::<juju_runtime::RelationId>().is_ok()
}

/// Whether a call has one of the forms juju-contract §2 prescribes for the tools this charm
/// uses (always `--format=json` where accepted; values through stdin, never argv).
fn contract_violation(call: &RecordedCall) -> Option<String> {
    let a = args(call);
    let no_stdin = call.stdin.is_empty();
    let ok = match (call.tool.as_str(), a.as_slice()) {
        (
            "config-get" | "is-leader" | "opened-ports" | "action-get" | "secret-ids"
            | "goal-state",
            ["--format=json"],
        ) => no_stdin,
        ("relation-ids", ["--format=json", endpoint]) => no_stdin && !endpoint.starts_with('-'),
        ("relation-list", ["--format=json", "-r", id]) => no_stdin && is_relation_id(id),
        ("relation-list", ["--format=json", "-r", id, "--app"]) => no_stdin && is_relation_id(id),
        ("relation-get", ["--format=json", "-r", id, "-", unit]) => {
            no_stdin && is_relation_id(id) && unit.contains('/')
        }
        ("relation-get", ["--format=json", "-r", id, "--app", "-", app]) => {
            no_stdin && is_relation_id(id) && !app.is_empty()
        }
        ("relation-set", ["-r", id, "--file", "-"] | ["-r", id, "--app", "--file", "-"]) => {
            is_relation_id(id)
                && serde_json::from_slice::<std::collections::BTreeMap<String, String>>(&call.stdin)
                    .is_ok()
        }
        ("status-set", ["--application=False" | "--application=True", "active"]) => no_stdin,
        (
            "status-set",
            [
                "--application=False" | "--application=True",
                "maintenance" | "blocked" | "waiting" | "active",
                "--",
                _,
            ],
        ) => no_stdin,
        ("application-version-set", ["--", _]) => no_stdin,
        (
            "juju-log",
            [
                "--log-level",
                "TRACE" | "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL",
                "--",
                _,
            ],
        ) => no_stdin,
        (
            "secret-get",
            ["--format=json", what] | ["--format=json", what, "--peek" | "--refresh"],
        ) => no_stdin && (what.starts_with("secret:") || what.starts_with("--label=")),
        ("action-fail" | "action-log", ["--", _]) => no_stdin,
        ("open-port", [port]) => {
            no_stdin
                && port.split_once('/').is_some_and(|(n, proto)| {
                    n.parse::<u16>().is_ok() && matches!(proto, "tcp" | "udp")
                })
        }
        _ => false,
    };
    (!ok).then(|| format!("{} {:?} (stdin {} bytes)", call.tool, a, call.stdin.len()))
}

fn assert_contract(calls: &[RecordedCall]) {
    let violations: Vec<String> = calls.iter().filter_map(contract_violation).collect();
    assert!(
        violations.is_empty(),
        "calls outside the contract: {violations:#?}"
    );
}

fn calls_to<'a>(calls: &'a [RecordedCall], tool: &str) -> Vec<&'a RecordedCall> {
    calls.iter().filter(|c| c.tool == tool).collect()
}

/// Every argv and stdin the charm sent, as one text (to look for leaked secrets).
fn everything_sent(calls: &[RecordedCall]) -> String {
    calls
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {}",
                c.tool,
                c.args,
                String::from_utf8_lossy(&c.stdin)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn status_sets(calls: &[RecordedCall]) -> Vec<Vec<&str>> {
    calls_to(calls, "status-set")
        .into_iter()
        .map(args)
        .collect()
}

fn assert_exit_0(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The peer, database and Redis relations the `related_leader.json` fixture answers for.
fn related_state() -> State {
    State::new()
        .with_leader(true)
        .with_relation(
            Relation::new("database", 3, "postgresql-k8s")
                .with_remote_unit(0, Vec::<(String, String)>::new()),
        )
        .with_relation(
            Relation::new("redis-broker", 4, "redis-broker")
                .with_remote_unit(0, Vec::<(String, String)>::new()),
        )
        .with_relation(
            Relation::new("redis-cache", 5, "redis-cache")
                .with_remote_unit(0, Vec::<(String, String)>::new()),
        )
        .with_relation(
            Relation::peer("indico-peers", 1).with_remote_unit(1, Vec::<(String, String)>::new()),
        )
}

#[test]
fn install_on_a_fresh_unit_reads_config_once_and_reports_the_first_missing_relation() {
    let tools = tools_from("fresh_unit.json");
    let output = dispatch(&ScenarioEvent::install(), &State::new(), &tools);
    assert_exit_0(&output);
    let calls = tools.calls().unwrap();
    assert_contract(&calls);
    let sequence: Vec<(&str, Vec<&str>)> = calls
        .iter()
        .filter(|c| c.tool != "juju-log")
        .map(|c| (c.tool.as_str(), args(c)))
        .collect();
    assert_eq!(
        sequence,
        [
            ("open-port", vec!["8080/tcp"]),
            ("config-get", vec!["--format=json"]),
            ("is-leader", vec!["--format=json"]),
            ("relation-ids", vec!["--format=json", "database"]),
            ("relation-ids", vec!["--format=json", "redis-broker"]),
            ("relation-ids", vec!["--format=json", "redis-cache"]),
            ("relation-ids", vec!["--format=json", "indico-peers"]),
            (
                "status-set",
                vec![
                    "--application=False",
                    "waiting",
                    "--",
                    "Waiting for redis-broker availability"
                ]
            ),
        ]
    );
}

#[test]
fn config_changed_with_relations_reads_each_bag_once_and_waits_for_pebble() {
    let tools = tools_from("related_leader.json");
    let output = dispatch(&ScenarioEvent::config_changed(), &related_state(), &tools);
    assert_exit_0(&output);
    let calls = tools.calls().unwrap();
    assert_contract(&calls);
    assert_eq!(calls_to(&calls, "config-get").len(), 1);
    let mut bags: Vec<Vec<&str>> = calls_to(&calls, "relation-get")
        .into_iter()
        .map(args)
        .collect();
    let read = bags.len();
    bags.sort();
    bags.dedup();
    assert_eq!(bags.len(), read, "a bag was read twice: {bags:?}");
    assert_eq!(
        args(calls_to(&calls, "secret-get")[0]),
        [
            "--format=json",
            "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/d0key0000000000000001"
        ]
    );
    assert!(
        calls_to(&calls, "relation-set").is_empty(),
        "nothing to write in config-changed"
    );
    assert_eq!(
        status_sets(&calls),
        [vec![
            "--application=False",
            "waiting",
            "--",
            "Waiting for pebble"
        ]]
    );
    let sent = everything_sent(&calls);
    assert!(
        !sent.contains(SECRET_KEY) && !sent.contains(DB_PASSWORD),
        "a secret reached argv or a log"
    );
    assert!(
        calls.len() <= 20,
        "{} hook-tool calls (budget 20)",
        calls.len()
    );
}

#[test]
fn database_relation_joined_as_leader_writes_the_request_on_stdin() {
    let tools = tools_from("related_leader.json");
    let state = related_state();
    let relation = state.relation(3).unwrap().clone();
    let output = dispatch(
        &ScenarioEvent::relation_joined(&relation, 0),
        &state,
        &tools,
    );
    assert_exit_0(&output);
    let calls = tools.calls().unwrap();
    assert_contract(&calls);
    let sets = calls_to(&calls, "relation-set");
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(args(sets[0]), ["-r", "database:3", "--app", "--file", "-"]);
    assert_eq!(
        String::from_utf8_lossy(&sets[0].stdin),
        r#"{"database":"indico","requested-secrets":"[\"username\",\"password\"]"}"#
    );
}

#[test]
fn an_unknown_hook_exits_zero_and_changes_nothing() {
    let tools = tools_from("related_leader.json");
    let output = dispatch(
        &ScenarioEvent::hook("collect-metrics-v9"),
        &State::new(),
        &tools,
    );
    assert_exit_0(&output);
    let calls = tools.calls().unwrap();
    assert_contract(&calls);
    for tool in [
        "relation-set",
        "status-set",
        "secret-add",
        "application-version-set",
    ] {
        assert!(calls_to(&calls, tool).is_empty(), "{tool} called");
    }
}

#[test]
fn a_failing_hook_tool_fails_the_hook_with_one_stderr_line() {
    let tools = tools_from("fresh_unit.json");
    tools
        .answer(
            "config-get",
            FakeAnswer::error(1, "connection to the unit agent lost"),
        )
        .unwrap();
    let output = dispatch(&ScenarioEvent::config_changed(), &State::new(), &tools);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("config-get") && stderr.contains("connection to the unit agent lost"),
        "{stderr}"
    );
    let calls = tools.calls().unwrap();
    assert_contract(&calls);
    assert!(
        calls_to(&calls, "status-set").is_empty(),
        "no status after the failure"
    );
}

#[test]
fn an_action_without_a_reachable_container_fails_and_keeps_the_password_off_argv() {
    const PASSWORD: &str = "Adm1n-p4ss-do-not-show";
    let tools = tools_from("related_leader.json");
    tools
        .answer(
            "action-get",
            FakeAnswer::ok(format!(
                "{{\"email\":\"admin@example.com\",\"password\":\"{PASSWORD}\"}}\n"
            )),
        )
        .unwrap();
    let event = ScenarioEvent::action(
        "add-admin",
        [
            ("email", serde_json::json!("admin@example.com")),
            ("password", serde_json::json!(PASSWORD)),
        ],
    );
    let output = dispatch(&event, &State::new(), &tools);
    let calls = tools.calls().unwrap();
    assert_contract(&calls);
    let failed = !output.status.success() || !calls_to(&calls, "action-fail").is_empty();
    assert!(
        failed,
        "add-admin must fail when the indico container is unreachable"
    );
    assert!(
        !everything_sent(&calls).contains(PASSWORD),
        "the password reached a hook tool"
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains(PASSWORD));
    for tool in ["relation-set", "secret-add"] {
        assert!(
            calls_to(&calls, tool).is_empty(),
            "{tool} called by an action"
        );
    }
}
