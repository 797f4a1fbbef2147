//! `ProcessHookTools` against recording fake tools: for each hook tool, the argv and
//! stdin produced (byte for byte, per docs/juju-contract.md §2), the parsing of its
//! success output, and the mapping of its error outputs (exit 1 and 2, `ERROR ...`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use juju_runtime::hook_tools::{
    GoalState, HookTools, LogLevel, Port, Protocol, RotatePolicy, Scope, SecretAddOptions,
    SecretContent, SecretGetOptions, SecretOwner, SecretRef, SecretSetOptions, Status, StatusName,
};
use juju_runtime::testing::{FakeAnswer, FakeToolsDir, RecordedCall};
use juju_runtime::{Bag, HookToolError, ProcessHookTools, RelationId, SecretUri};

const URI: &str = "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/cs3v8rnmp25c7b2ji5e0";

fn fakes() -> FakeToolsDir {
    FakeToolsDir::new().expect("fake tools dir")
}

fn uri() -> SecretUri {
    URI.parse().unwrap()
}

fn db() -> RelationId {
    RelationId::new("database", 3)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The one call made, checked to be to `tool`.
fn only_call(fakes: &FakeToolsDir, tool: &str) -> RecordedCall {
    let calls = fakes.calls().unwrap();
    assert_eq!(calls.len(), 1, "expected one call, got {calls:?}");
    let call = calls.into_iter().next().unwrap();
    assert_eq!(call.tool, tool);
    call
}

fn args(call: &RecordedCall) -> Vec<&str> {
    call.args.iter().map(String::as_str).collect()
}

/// Runs `f` against a fake `tool` answering `answer`; returns the result and the call.
fn run<T>(
    tool: &str,
    answer: FakeAnswer,
    f: impl FnOnce(&dyn HookTools) -> Result<T, HookToolError>,
) -> (Result<T, HookToolError>, RecordedCall) {
    let fakes = fakes();
    fakes.answer(tool, answer).unwrap();
    let tools = fakes.hook_tools();
    let result = f(&tools);
    (result, only_call(&fakes, tool))
}

#[test]
fn config_get_is_one_json_call() {
    let (config, call) = run(
        "config-get",
        FakeAnswer::ok(
            r#"{"enable_roombooking":false,"site_url":"https://events.example.com","workers":4}"#,
        ),
        |t| t.config_get(),
    );
    assert_eq!(args(&call), ["--format=json"]);
    assert!(call.stdin.is_empty());
    let config = config.unwrap();
    assert_eq!(config["site_url"], "https://events.example.com");
    assert_eq!(config["enable_roombooking"], false);
    assert_eq!(config["workers"], 4);
}

#[test]
fn relation_ids_parses_endpoint_ids() {
    let (ids, call) = run(
        "relation-ids",
        FakeAnswer::ok("[\"database:10\",\"database:2\"]\n"),
        |t| t.relation_ids("database"),
    );
    assert_eq!(args(&call), ["--format=json", "database"]);
    assert_eq!(
        ids.unwrap(),
        [
            RelationId::new("database", 10),
            RelationId::new("database", 2)
        ]
    );
    let (ids, _) = run("relation-ids", FakeAnswer::ok("[]\n"), |t| {
        t.relation_ids("s3")
    });
    assert!(ids.unwrap().is_empty());
    let (bad, _) = run("relation-ids", FakeAnswer::ok("[\"database\"]\n"), |t| {
        t.relation_ids("database")
    });
    assert!(matches!(
        bad,
        Err(HookToolError::Decode {
            tool: "relation-ids",
            ..
        })
    ));
}

#[test]
fn relation_list_and_remote_app() {
    let (units, call) = run(
        "relation-list",
        FakeAnswer::ok("[\"postgresql-k8s/0\",\"postgresql-k8s/1\"]\n"),
        |t| t.relation_list(&db()),
    );
    assert_eq!(args(&call), ["--format=json", "-r", "database:3"]);
    assert_eq!(units.unwrap(), ["postgresql-k8s/0", "postgresql-k8s/1"]);

    let (app, call) = run(
        "relation-list",
        FakeAnswer::ok("\"postgresql-k8s\"\n"),
        |t| t.relation_remote_app(&db()),
    );
    assert_eq!(args(&call), ["--format=json", "-r", "database:3", "--app"]);
    assert_eq!(app.unwrap().as_deref(), Some("postgresql-k8s"));

    let (app, _) = run("relation-list", FakeAnswer::ok("\"\"\n"), |t| {
        t.relation_remote_app(&db())
    });
    assert_eq!(app.unwrap(), None);
}

#[test]
fn relation_get_reads_one_bag() {
    let (bag, call) = run(
        "relation-get",
        FakeAnswer::ok(
            r#"{"egress-subnets":"10.1.2.3/32","ingress-address":"10.1.2.3","private-address":"10.1.2.3"}"#,
        ),
        |t| t.relation_get(&db(), &Bag::Unit("postgresql-k8s/0".to_owned())),
    );
    assert_eq!(
        args(&call),
        ["--format=json", "-r", "database:3", "-", "postgresql-k8s/0"]
    );
    assert_eq!(bag.unwrap()["ingress-address"], "10.1.2.3");

    let (bag, call) = run(
        "relation-get",
        FakeAnswer::ok(r#"{"database":"indico","endpoints":"pg:5432","password":"s3cret"}"#),
        |t| t.relation_get(&db(), &Bag::App("postgresql-k8s".to_owned())),
    );
    assert_eq!(
        args(&call),
        [
            "--format=json",
            "-r",
            "database:3",
            "--app",
            "-",
            "postgresql-k8s"
        ]
    );
    assert_eq!(bag.unwrap()["endpoints"], "pg:5432");

    let (bag, _) = run("relation-get", FakeAnswer::ok("null\n"), |t| {
        t.relation_get(&db(), &Bag::App("postgresql-k8s".to_owned()))
    });
    assert!(bag.unwrap().is_empty());
}

#[test]
fn relation_get_decode_error_does_not_leak_the_output() {
    let (result, _) = run(
        "relation-get",
        FakeAnswer::ok(r#"{"password":["hunter2-secret"]}"#),
        |t| t.relation_get(&db(), &Bag::App("pg".to_owned())),
    );
    let err = result.unwrap_err();
    assert!(matches!(err, HookToolError::Decode { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

#[test]
fn relation_set_sends_json_on_stdin_never_argv() {
    let data = map(&[
        ("database", "indico"),
        ("extra-user-roles", ""),
        ("note", "  spaced  \nline"),
    ]);
    let (result, call) = run("relation-set", FakeAnswer::ok(""), |t| {
        t.relation_set(&db(), Scope::App, &data)
    });
    result.unwrap();
    assert_eq!(args(&call), ["-r", "database:3", "--app", "--file", "-"]);
    assert_eq!(
        String::from_utf8(call.stdin).unwrap(),
        r#"{"database":"indico","extra-user-roles":"","note":"  spaced  \nline"}"#
    );

    let (result, call) = run("relation-set", FakeAnswer::ok(""), |t| {
        t.relation_set(&db(), Scope::Unit, &map(&[("host", "10.1.2.3")]))
    });
    result.unwrap();
    assert_eq!(args(&call), ["-r", "database:3", "--file", "-"]);
    assert_eq!(call.stdin, br#"{"host":"10.1.2.3"}"#);
}

#[test]
fn empty_writes_run_no_process() {
    let fakes = fakes();
    let tools = fakes.hook_tools();
    tools
        .relation_set(&db(), Scope::App, &BTreeMap::new())
        .unwrap();
    tools.state_set(&BTreeMap::new()).unwrap();
    tools.action_set(&BTreeMap::new()).unwrap();
    assert!(fakes.calls().unwrap().is_empty());
}

#[test]
fn is_leader_parses_json_bool() {
    for (stdout, expected) in [("true\n", true), ("false\n", false)] {
        let (leader, call) = run("is-leader", FakeAnswer::ok(stdout), |t| t.is_leader());
        assert_eq!(args(&call), ["--format=json"]);
        assert_eq!(leader.unwrap(), expected);
    }
}

#[test]
fn status_set_forms() {
    let cases: [(Scope, Status, &[&str]); 4] = [
        (
            Scope::Unit,
            Status::Active,
            &["--application=False", "active"],
        ),
        (
            Scope::Unit,
            Status::Blocked("Configuration option site_url is not valid".to_owned()),
            &[
                "--application=False",
                "blocked",
                "--",
                "Configuration option site_url is not valid",
            ],
        ),
        (
            Scope::App,
            Status::Waiting("-starts with a dash".to_owned()),
            &["--application=True", "waiting", "--", "-starts with a dash"],
        ),
        (
            Scope::Unit,
            Status::Maintenance("running migrations".to_owned()),
            &[
                "--application=False",
                "maintenance",
                "--",
                "running migrations",
            ],
        ),
    ];
    for (scope, status, expected) in cases {
        let (result, call) = run("status-set", FakeAnswer::ok(""), |t| {
            t.status_set(scope, &status)
        });
        result.unwrap();
        assert_eq!(args(&call), expected);
    }
}

#[test]
fn status_get_unit_and_application() {
    let (status, call) = run(
        "status-get",
        FakeAnswer::ok(
            r#"{"message":"Waiting for database availability","status":"waiting","status-data":{}}"#,
        ),
        |t| t.status_get(Scope::Unit),
    );
    assert_eq!(
        args(&call),
        ["--include-data", "--format=json", "--application=false"]
    );
    let status = status.unwrap();
    assert_eq!(status.status, StatusName::Waiting);
    assert_eq!(status.message, "Waiting for database availability");

    let (status, call) = run(
        "status-get",
        FakeAnswer::ok(
            r#"{"application-status":{"message":"","status":"active","status-data":{},"units":{"indico/0":{"message":"","status":"active","status-data":{}}}}}"#,
        ),
        |t| t.status_get(Scope::App),
    );
    assert_eq!(
        args(&call),
        ["--include-data", "--format=json", "--application=true"]
    );
    assert_eq!(status.unwrap().status, StatusName::Active);
}

#[test]
fn application_version_set_uses_double_dash() {
    let (result, call) = run("application-version-set", FakeAnswer::ok(""), |t| {
        t.application_version_set("3.2.9")
    });
    result.unwrap();
    assert_eq!(args(&call), ["--", "3.2.9"]);
}

#[test]
fn ports_open_close_and_list() {
    let (result, call) = run("open-port", FakeAnswer::ok(""), |t| {
        t.open_port(Port::Tcp(8080))
    });
    result.unwrap();
    assert_eq!(args(&call), ["8080/tcp"]);
    let (result, call) = run("close-port", FakeAnswer::ok(""), |t| {
        t.close_port(Port::Udp(53))
    });
    result.unwrap();
    assert_eq!(args(&call), ["53/udp"]);
    let (ports, call) = run(
        "opened-ports",
        FakeAnswer::ok("[\"80/tcp\",\"8000-8999/udp\",\"icmp\"]\n"),
        |t| t.opened_ports(),
    );
    assert_eq!(args(&call), ["--format=json"]);
    assert_eq!(
        ports.unwrap(),
        [
            Port::Tcp(80),
            Port::Range {
                protocol: Protocol::Udp,
                from: 8000,
                to: 8999
            },
            Port::Icmp
        ]
    );
}

#[test]
fn juju_log_level_and_message() {
    let (result, call) = run("juju-log", FakeAnswer::ok(""), |t| {
        t.juju_log(LogLevel::Warning, "-n looks like a flag")
    });
    result.unwrap();
    assert_eq!(
        args(&call),
        ["--log-level", "WARNING", "--", "-n looks like a flag"]
    );
}

#[test]
fn juju_log_splits_very_long_messages() {
    let fakes = fakes();
    let long = "é".repeat(70_000); // 140 000 bytes
    fakes.hook_tools().juju_log(LogLevel::Info, &long).unwrap();
    let calls = fakes.calls().unwrap();
    assert_eq!(calls.len(), 2);
    let rejoined: String = calls.iter().map(|c| c.args[3].as_str()).collect();
    assert_eq!(rejoined, long);
    assert!(calls.iter().all(|c| c.args[3].len() <= 131_071));
}

#[test]
fn action_get_params_and_redacted_debug() {
    let (params, call) = run(
        "action-get",
        FakeAnswer::ok(r#"{"email":"admin@example.com","password":"hunter2-secret"}"#),
        |t| t.action_get(),
    );
    assert_eq!(args(&call), ["--format=json"]);
    let params = params.unwrap();
    assert_eq!(params.get_str("email"), Some("admin@example.com"));
    assert_eq!(params.get_str("password"), Some("hunter2-secret"));
    let debug = format!("{params:?}");
    assert!(
        debug.contains("password") && !debug.contains("hunter2"),
        "{debug}"
    );
}

#[test]
fn action_set_fail_and_log() {
    let results = map(&[("user", "admin@example.com"), ("output.lines", "2")]);
    let (result, call) = run("action-set", FakeAnswer::ok(""), |t| t.action_set(&results));
    result.unwrap();
    assert_eq!(args(&call), ["output.lines=2", "user=admin@example.com"]);

    let (result, call) = run("action-fail", FakeAnswer::ok(""), |t| {
        t.action_fail("Failed to create admin admin@example.com: exists")
    });
    result.unwrap();
    assert_eq!(
        args(&call),
        ["--", "Failed to create admin admin@example.com: exists"]
    );

    let (result, call) = run("action-log", FakeAnswer::ok(""), |t| {
        t.action_log("cloning customization repository")
    });
    result.unwrap();
    assert_eq!(args(&call), ["--", "cloning customization repository"]);
}

#[test]
fn action_set_refuses_invalid_and_reserved_keys_without_running() {
    let fakes = fakes();
    let tools = fakes.hook_tools();
    for key in ["User", "a..b", "-a", "a-", "stdout", "stderr-encoding.x"] {
        let err = tools.action_set(&map(&[(key, "v")])).unwrap_err();
        assert!(
            matches!(
                err,
                HookToolError::InvalidArgument {
                    tool: "action-set",
                    ..
                }
            ),
            "{key}: {err:?}"
        );
    }
    assert!(fakes.calls().unwrap().is_empty());
}

#[test]
fn state_get_set_delete() {
    let (value, call) = run("state-get", FakeAnswer::ok("\"{\\\"n\\\":1}\"\n"), |t| {
        t.state_get("notices")
    });
    assert_eq!(args(&call), ["--format=json", "--strict", "notices"]);
    assert_eq!(value.unwrap().as_deref(), Some("{\"n\":1}"));

    let (missing, _) = run(
        "state-get",
        FakeAnswer::error(1, "\"notices\" not found"),
        |t| t.state_get("notices"),
    );
    assert_eq!(missing.unwrap(), None);

    let (all, call) = run("state-get", FakeAnswer::ok("null\n"), |t| t.state_get_all());
    assert_eq!(args(&call), ["--format=json"]);
    assert!(all.unwrap().is_empty());

    let (result, call) = run("state-set", FakeAnswer::ok(""), |t| {
        t.state_set(&map(&[("a", ""), ("b", "x y")]))
    });
    result.unwrap();
    assert_eq!(args(&call), ["--file", "-"]);
    assert_eq!(call.stdin, br#"{"a":"","b":"x y"}"#);

    let (result, call) = run("state-delete", FakeAnswer::ok(""), |t| t.state_delete("a"));
    result.unwrap();
    assert_eq!(args(&call), ["a"]);
}

#[test]
fn secret_add_passes_values_in_0600_files_only() {
    let content = SecretContent::new([("secret-key", "hunter2-very-secret")]).unwrap();
    let options = SecretAddOptions {
        owner: SecretOwner::Application,
        label: Some("indico-secret-key".to_owned()),
        description: Some("Indico SECRET_KEY".to_owned()),
        expire: None,
        rotate: Some(RotatePolicy::Never),
    };
    let (uri, call) = run("secret-add", FakeAnswer::ok(format!("{URI}\n")), |t| {
        t.secret_add(&content, &options)
    });
    assert_eq!(uri.unwrap().as_str(), URI);
    let argv = args(&call);
    assert_eq!(
        argv[..4],
        [
            "--owner=application",
            "--label=indico-secret-key",
            "--description=Indico SECRET_KEY",
            "--rotate=never"
        ]
    );
    assert_eq!(argv.len(), 5);
    assert!(argv[4].starts_with("secret-key#file=/"), "{}", argv[4]);
    assert!(
        argv.iter().all(|a| !a.contains("hunter2")),
        "secret on argv: {argv:?}"
    );
    assert!(call.stdin.is_empty());
    let file = &call.files["secret-key"];
    assert_eq!(file.content, b"hunter2-very-secret");
    assert_eq!(file.mode, 0o600);
    assert!(
        !file.path.exists(),
        "the secret file must be removed after the call"
    );
    let dir = file.path.parent().map(PathBuf::from).unwrap();
    assert!(
        !dir.exists(),
        "the secret dir must be removed after the call"
    );
}

#[test]
fn secret_add_removes_files_when_the_tool_fails() {
    let content = SecretContent::new([("password", "hunter2")]).unwrap();
    let (result, call) = run(
        "secret-add",
        FakeAnswer::error(1, "this unit is not the leader"),
        |t| t.secret_add(&content, &SecretAddOptions::default()),
    );
    assert!(matches!(result, Err(HookToolError::NotLeader { .. })));
    assert_eq!(args(&call)[0], "--owner=application");
    assert!(!call.files["password"].path.exists());
}

#[test]
fn secret_add_refuses_empty_content() {
    let fakes = fakes();
    let err = fakes
        .hook_tools()
        .secret_add(&SecretContent::default(), &SecretAddOptions::default())
        .unwrap_err();
    assert!(matches!(err, HookToolError::InvalidArgument { .. }));
    assert!(fakes.calls().unwrap().is_empty());
}

#[test]
fn secret_get_by_uri_or_label() {
    let (content, call) = run(
        "secret-get",
        FakeAnswer::ok(r#"{"password":"hunter2","username":"indico"}"#),
        |t| t.secret_get(&SecretRef::Uri(uri()), SecretGetOptions::default()),
    );
    assert_eq!(args(&call), ["--format=json", URI]);
    let content = content.unwrap();
    assert_eq!(content.get("username"), Some("indico"));
    assert_eq!(content.get("password"), Some("hunter2"));

    let (_, call) = run("secret-get", FakeAnswer::ok("{}"), |t| {
        t.secret_get(
            &SecretRef::Label("database-creds".to_owned()),
            SecretGetOptions {
                refresh: true,
                peek: false,
            },
        )
    });
    assert_eq!(
        args(&call),
        ["--format=json", "--label=database-creds", "--refresh"]
    );
    let (_, call) = run("secret-get", FakeAnswer::ok("{}"), |t| {
        t.secret_get(
            &SecretRef::Uri(uri()),
            SecretGetOptions {
                peek: true,
                refresh: false,
            },
        )
    });
    assert_eq!(args(&call), ["--format=json", URI, "--peek"]);
}

#[test]
fn secret_set_content_and_metadata() {
    let content = SecretContent::new([("secret-key", "new-value")]).unwrap();
    let options = SecretSetOptions {
        expire: Some("24h".to_owned()),
        ..SecretSetOptions::default()
    };
    let (result, call) = run("secret-set", FakeAnswer::ok(""), |t| {
        t.secret_set(&uri(), &content, &options)
    });
    result.unwrap();
    let argv = args(&call);
    assert_eq!(argv[..2], [URI, "--expire=24h"]);
    assert!(argv[2].starts_with("secret-key#file=/"));
    assert_eq!(call.files["secret-key"].content, b"new-value");
    assert_eq!(call.files["secret-key"].mode, 0o600);

    let (result, call) = run("secret-set", FakeAnswer::ok(""), |t| {
        t.secret_set(
            &uri(),
            &SecretContent::default(),
            &SecretSetOptions {
                label: Some("renamed".to_owned()),
                ..SecretSetOptions::default()
            },
        )
    });
    result.unwrap();
    assert_eq!(args(&call), [URI, "--label=renamed"]);
}

#[test]
fn secret_info_get_reads_the_single_entry() {
    let (info, call) = run(
        "secret-info-get",
        FakeAnswer::ok(
            r#"{"cs3v8rnmp25c7b2ji5e0":{"revision":2,"label":"indico-secret-key","owner":"application","rotation":"never"}}"#,
        ),
        |t| t.secret_info_get(&SecretRef::Uri(uri())),
    );
    assert_eq!(args(&call), ["--format=json", URI]);
    let info = info.unwrap();
    assert_eq!(info.id, "cs3v8rnmp25c7b2ji5e0");
    assert_eq!(info.revision, 2);
    assert_eq!(info.label.as_deref(), Some("indico-secret-key"));
    assert_eq!(info.owner.as_deref(), Some("application"));
    assert_eq!(info.expiry, None);

    let (_, call) = run("secret-info-get", FakeAnswer::ok("{}"), |t| {
        t.secret_info_get(&SecretRef::Label("x-label".to_owned()))
    });
    assert_eq!(args(&call), ["--format=json", "--label=x-label"]);
}

#[test]
fn secret_grant_revoke_remove_ids() {
    let peers = RelationId::new("indico-peers", 0);
    let (result, call) = run("secret-grant", FakeAnswer::ok(""), |t| {
        t.secret_grant(&uri(), &peers, None)
    });
    result.unwrap();
    assert_eq!(args(&call), [URI, "-r", "indico-peers:0"]);
    let (result, call) = run("secret-grant", FakeAnswer::ok(""), |t| {
        t.secret_grant(&uri(), &db(), Some("postgresql-k8s/0"))
    });
    result.unwrap();
    assert_eq!(
        args(&call),
        [URI, "-r", "database:3", "--unit=postgresql-k8s/0"]
    );
    let (result, call) = run("secret-revoke", FakeAnswer::ok(""), |t| {
        t.secret_revoke(&uri(), &db(), None)
    });
    result.unwrap();
    assert_eq!(args(&call), [URI, "-r", "database:3"]);
    let (result, call) = run("secret-remove", FakeAnswer::ok(""), |t| {
        t.secret_remove(&uri(), Some(3))
    });
    result.unwrap();
    assert_eq!(args(&call), [URI, "--revision=3"]);
    let (result, call) = run("secret-remove", FakeAnswer::ok(""), |t| {
        t.secret_remove(&uri(), None)
    });
    result.unwrap();
    assert_eq!(args(&call), [URI]);
    let (ids, call) = run("secret-ids", FakeAnswer::ok("null\n"), |t| t.secret_ids());
    assert_eq!(args(&call), ["--format=json"]);
    assert!(ids.unwrap().is_empty());
    let (ids, _) = run(
        "secret-ids",
        FakeAnswer::ok("[\"cs3v8rnmp25c7b2ji5e0\"]\n"),
        |t| t.secret_ids(),
    );
    assert_eq!(ids.unwrap(), ["cs3v8rnmp25c7b2ji5e0"]);
}

#[test]
fn network_get_parses_addresses() {
    let (info, call) = run(
        "network-get",
        FakeAnswer::ok(
            r#"{"bind-addresses":[{"mac-address":"","interface-name":"eth0","addresses":[{"hostname":"","value":"10.1.2.3","cidr":"10.1.2.0/24"}]}],"egress-subnets":["10.1.2.3/32"],"ingress-addresses":["10.1.2.3"]}"#,
        ),
        |t| t.network_get("ingress", Some(&RelationId::new("ingress", 5))),
    );
    assert_eq!(args(&call), ["--format=json", "-r", "ingress:5", "ingress"]);
    let info = info.unwrap();
    assert_eq!(info.ingress_addresses, ["10.1.2.3"]);
    assert_eq!(info.bind_addresses[0].interface_name, "eth0");
    assert_eq!(info.bind_addresses[0].addresses[0].cidr, "10.1.2.0/24");

    let (info, call) = run("network-get", FakeAnswer::ok("{}"), |t| {
        t.network_get("juju-info", None)
    });
    assert_eq!(args(&call), ["--format=json", "juju-info"]);
    assert_eq!(info.unwrap().egress_subnets, Vec::<String>::new());
}

#[test]
fn goal_state_parses_units_and_relations() {
    let (goal, call) = run(
        "goal-state",
        FakeAnswer::ok(
            r#"{"units":{"indico/0":{"status":"active","since":"2026-11-05 15:29:12Z"},"indico/1":{"status":"dying","since":"2026-11-05 15:30:00Z"}},"relations":{"database":{"postgresql-k8s":{"status":"joined","since":"2026-11-05 15:29:12Z"}}}}"#,
        ),
        |t| t.goal_state(),
    );
    assert_eq!(args(&call), ["--format=json"]);
    let goal: GoalState = goal.unwrap();
    assert_eq!(goal.planned_units(), 1);
    assert_eq!(
        goal.relations["database"]["postgresql-k8s"].status,
        "joined"
    );
}

/// Every tool method, to check error mapping across all of them.
type Call = Box<dyn Fn(&dyn HookTools) -> Result<(), HookToolError>>;

fn every_call() -> Vec<(&'static str, Call)> {
    let content = || SecretContent::new([("abc", "v")]).unwrap();
    vec![
        ("config-get", Box::new(|t| t.config_get().map(drop))),
        (
            "relation-ids",
            Box::new(|t| t.relation_ids("database").map(drop)),
        ),
        (
            "relation-list",
            Box::new(|t| t.relation_list(&db()).map(drop)),
        ),
        (
            "relation-get",
            Box::new(|t| t.relation_get(&db(), &Bag::App("pg".to_owned())).map(drop)),
        ),
        (
            "relation-set",
            Box::new(|t| t.relation_set(&db(), Scope::App, &map(&[("a", "b")]))),
        ),
        ("is-leader", Box::new(|t| t.is_leader().map(drop))),
        (
            "status-set",
            Box::new(|t| t.status_set(Scope::App, &Status::Active)),
        ),
        (
            "status-get",
            Box::new(|t| t.status_get(Scope::Unit).map(drop)),
        ),
        (
            "application-version-set",
            Box::new(|t| t.application_version_set("1")),
        ),
        ("open-port", Box::new(|t| t.open_port(Port::Tcp(1)))),
        ("close-port", Box::new(|t| t.close_port(Port::Tcp(1)))),
        ("opened-ports", Box::new(|t| t.opened_ports().map(drop))),
        ("juju-log", Box::new(|t| t.juju_log(LogLevel::Info, "x"))),
        ("action-get", Box::new(|t| t.action_get().map(drop))),
        (
            "action-set",
            Box::new(|t| t.action_set(&map(&[("a", "b")]))),
        ),
        ("action-fail", Box::new(|t| t.action_fail("x"))),
        ("action-log", Box::new(|t| t.action_log("x"))),
        ("state-get", Box::new(|t| t.state_get_all().map(drop))),
        ("state-set", Box::new(|t| t.state_set(&map(&[("a", "b")])))),
        ("state-delete", Box::new(|t| t.state_delete("a"))),
        (
            "secret-add",
            Box::new(move |t| {
                t.secret_add(&content(), &SecretAddOptions::default())
                    .map(drop)
            }),
        ),
        (
            "secret-get",
            Box::new(|t| {
                t.secret_get(&SecretRef::Uri(uri()), SecretGetOptions::default())
                    .map(drop)
            }),
        ),
        (
            "secret-set",
            Box::new(move |t| t.secret_set(&uri(), &content(), &SecretSetOptions::default())),
        ),
        (
            "secret-info-get",
            Box::new(|t| t.secret_info_get(&SecretRef::Uri(uri())).map(drop)),
        ),
        (
            "secret-grant",
            Box::new(|t| t.secret_grant(&uri(), &db(), None)),
        ),
        (
            "secret-revoke",
            Box::new(|t| t.secret_revoke(&uri(), &db(), None)),
        ),
        ("secret-remove", Box::new(|t| t.secret_remove(&uri(), None))),
        ("secret-ids", Box::new(|t| t.secret_ids().map(drop))),
        (
            "network-get",
            Box::new(|t| t.network_get("database", None).map(drop)),
        ),
        ("goal-state", Box::new(|t| t.goal_state().map(drop))),
    ]
}

#[test]
fn exit_2_is_a_usage_error_for_every_tool() {
    for (tool, call) in every_call() {
        let fakes = fakes();
        fakes
            .answer(
                tool,
                FakeAnswer::error(2, "option provided but not defined: --foo"),
            )
            .unwrap();
        match call(&fakes.hook_tools()) {
            Err(HookToolError::Usage { tool: t, message }) => {
                assert_eq!(t, tool);
                assert_eq!(message, "option provided but not defined: --foo");
            }
            other => panic!("{tool}: {other:?}"),
        }
    }
}

#[test]
fn exit_1_is_a_failure_for_every_tool() {
    for (tool, call) in every_call() {
        let fakes = fakes();
        fakes
            .answer(tool, FakeAnswer::error(1, "cannot reach the controller"))
            .unwrap();
        match call(&fakes.hook_tools()) {
            Err(HookToolError::Failed {
                tool: t,
                exit_code,
                message,
            }) => {
                assert_eq!(t, tool);
                assert_eq!(exit_code, Some(1));
                assert_eq!(message, "cannot reach the controller");
            }
            other => panic!("{tool}: {other:?}"),
        }
    }
}

#[test]
fn a_missing_tool_is_a_spawn_error() {
    let tools = ProcessHookTools::new(Some(PathBuf::from("/nonexistent/juju-tools")));
    let err = tools.is_leader().unwrap_err();
    assert!(
        matches!(
            err,
            HookToolError::Spawn {
                tool: "is-leader",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn specific_juju_errors_map_to_their_variants() {
    let unit_bag = || Bag::Unit("pg/0".to_owned());
    // relation not found: exit 2 from -r parsing, and exit 1 from network-get.
    let (r, _) = run(
        "relation-get",
        FakeAnswer::error(2, "invalid value \"9\" for option -r: relation not found"),
        |t| t.relation_get(&RelationId::new("database", 9), &unit_bag()),
    );
    assert!(
        matches!(
            r,
            Err(HookToolError::RelationNotFound {
                tool: "relation-get",
                ..
            })
        ),
        "{r:?}"
    );
    let (r, _) = run(
        "network-get",
        FakeAnswer::error(1, "relation not found"),
        |t| t.network_get("database", Some(&db())),
    );
    assert!(
        matches!(r, Err(HookToolError::RelationNotFound { .. })),
        "{r:?}"
    );
    // Leadership.
    let (r, _) = run(
        "relation-set",
        FakeAnswer::error(1, "cannot write relation settings"),
        |t| t.relation_set(&db(), Scope::App, &map(&[("a", "b")])),
    );
    assert!(matches!(r, Err(HookToolError::NotLeader { .. })), "{r:?}");
    let (r, _) = run(
        "status-get",
        FakeAnswer::error(1, "finding application status: this unit is not the leader"),
        |t| t.status_get(Scope::App),
    );
    match r {
        Err(HookToolError::NotLeader { message, .. }) => assert_eq!(
            message,
            "finding application status: this unit is not the leader"
        ),
        other => panic!("{other:?}"),
    }
    // Permission.
    let (r, _) = run(
        "relation-get",
        FakeAnswer::error(1, "permission denied"),
        |t| t.relation_get(&db(), &Bag::App("indico".to_owned())),
    );
    assert!(
        matches!(r, Err(HookToolError::PermissionDenied { .. })),
        "{r:?}"
    );
    // Secrets.
    for message in [
        format!("secret {URI:?} not found"),
        "secret with label \"x\" not found".to_owned(),
        "consumer label \"x\" not found".to_owned(),
    ] {
        let (r, _) = run("secret-get", FakeAnswer::error(1, &message), |t| {
            t.secret_get(&SecretRef::Uri(uri()), SecretGetOptions::default())
        });
        assert!(
            matches!(r, Err(HookToolError::SecretNotFound { .. })),
            "{r:?}"
        );
    }
    let (r, _) = run(
        "secret-get",
        FakeAnswer::error(1, "permission denied"),
        |t| t.secret_get(&SecretRef::Uri(uri()), SecretGetOptions::default()),
    );
    assert!(
        matches!(r, Err(HookToolError::PermissionDenied { .. })),
        "{r:?}"
    );
    // Actions outside an action.
    let (r, _) = run(
        "action-get",
        FakeAnswer::error(1, "not running an action"),
        |t| t.action_get(),
    );
    assert!(
        matches!(
            r,
            Err(HookToolError::NotRunningAction { tool: "action-get" })
        ),
        "{r:?}"
    );
    // An unknown remote unit is a plain failure.
    let (r, _) = run(
        "relation-get",
        FakeAnswer::error(1, "unknown unit bad/0"),
        |t| t.relation_get(&db(), &Bag::Unit("bad/0".to_owned())),
    );
    assert!(
        matches!(
            r,
            Err(HookToolError::Failed {
                exit_code: Some(1),
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn error_display_never_contains_stdin() {
    let data = map(&[("password", "hunter2-relation-secret")]);
    let (r, call) = run(
        "relation-set",
        FakeAnswer::error(1, "cannot write relation settings"),
        |t| t.relation_set(&db(), Scope::App, &data),
    );
    assert!(String::from_utf8_lossy(&call.stdin).contains("hunter2"));
    let err = r.unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
}

#[test]
fn large_stdin_does_not_deadlock() {
    // Grafana dashboards in relation data exceed a pipe buffer (64 KiB).
    let big = "x".repeat(1 << 20);
    let (r, call) = run("relation-set", FakeAnswer::ok(""), |t| {
        t.relation_set(&db(), Scope::App, &map(&[("dashboards", &big)]))
    });
    r.unwrap();
    assert_eq!(call.stdin.len(), big.len() + r#"{"dashboards":""}"#.len());
}

#[test]
fn fake_tools_answer_by_exact_argv_from_a_json_fixture() {
    let fakes = FakeToolsDir::from_fixture_json(
        r#"{
          "relation-get": [
            {"args": ["--format=json", "-r", "database:3", "--app", "-", "postgresql-k8s"],
             "stdout": "{\"database\":\"indico\"}"},
            {"stdout": "{}"}
          ],
          "is-leader": {"stdout": "true\n"}
        }"#,
    )
    .unwrap();
    let tools = fakes.hook_tools();
    let app = tools
        .relation_get(&db(), &Bag::App("postgresql-k8s".to_owned()))
        .unwrap();
    assert_eq!(app["database"], "indico");
    let unit = tools
        .relation_get(&db(), &Bag::Unit("postgresql-k8s/0".to_owned()))
        .unwrap();
    assert!(unit.is_empty());
    assert!(tools.is_leader().unwrap());
    let calls = fakes.calls().unwrap();
    assert_eq!(
        calls.iter().map(|c| c.tool.as_str()).collect::<Vec<_>>(),
        ["relation-get", "relation-get", "is-leader"]
    );
    assert!(matches!(
        FakeToolsDir::from_fixture_json(r#"{"no-such-tool": {}}"#),
        Err(juju_runtime::testing::FakeToolsError::UnknownTool(_))
    ));
}
