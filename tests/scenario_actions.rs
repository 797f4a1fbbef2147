//! Scenario tests of the actions (indico-charm.md §5) through the in-memory harness: the
//! command each runs (argv, stdin, user context), the results, the exact failure messages,
//! an unreachable container failing the action, and the password never leaving stdin.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use std::sync::{Arc, Mutex};

use charm_scenario::{Container, ExecResult, Output, PebbleCall, ScenarioEvent, State};
use fixtures::*;
use pebble_client::ExecRequest;
use serde_json::json;

const INDICO: &str = "/srv/indico/.venv/bin/indico";
const PASSWORD: &str = "s3cr3t-Adm1n-pw";

/// The converged leader with `indico` replaced by `indico`.
fn state_with_indico(indico: Container) -> State {
    ready_leader_state().with_container("indico", indico)
}

fn execs(output: &Output) -> Vec<ExecRequest> {
    output
        .pebble_calls
        .iter()
        .filter_map(|c| match &c.call {
            PebbleCall::Exec { request } => Some(request.clone()),
            _ => None,
        })
        .collect()
}

fn add_admin(email: &str) -> ScenarioEvent {
    ScenarioEvent::action(
        "add-admin",
        [("email", json!(email)), ("password", json!(PASSWORD))],
    )
}

fn anonymize(emails: &str) -> ScenarioEvent {
    ScenarioEvent::action("anonymize-user", [("email", json!(emails))])
}

/// Actions never reconcile: no status, no layer, no relation data.
fn assert_no_reconcile(output: &Output) {
    assert!(output.calls_to("status-set").is_empty(), "status set");
    assert!(
        output.calls_to("relation-set").is_empty(),
        "relation data written"
    );
    assert!(
        output
            .pebble_writes()
            .iter()
            .all(|c| matches!(c.call, PebbleCall::Exec { .. })),
        "only execs: {:?}",
        output.pebble_writes()
    );
}

#[test]
fn add_admin_creates_the_admin_with_the_password_on_stdin_only() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let indico = indico_container().with_exec_fn([INDICO, "autocreate", "admin"], move |r| {
        record.lock().unwrap().push(r.clone());
        ExecResult::ok("Admin with email \"admin@example.com\" correctly created\n")
    });
    let output = context()
        .run(add_admin("admin@example.com"), state_with_indico(indico))
        .unwrap();

    assert_eq!(output.action.failure, None);
    assert_eq!(output.action.results["user"], "admin@example.com");
    assert_eq!(
        output.action.results["output"],
        "Admin with email \"admin@example.com\" correctly created"
    );
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.command,
        [
            INDICO,
            "autocreate",
            "admin",
            "--password-stdin",
            "--",
            "admin@example.com"
        ]
    );
    assert_eq!(
        request.stdin.as_deref(),
        Some(format!("{PASSWORD}\n").as_bytes())
    );
    assert_eq!(request.service_context.as_deref(), Some("indico"));
    assert!(request.environment.values().all(|v| !v.contains(PASSWORD)));
    assert!(!visible_text(&output).contains(PASSWORD));
    assert!(!format!("{:?}", output.action).contains(PASSWORD));
    assert_no_reconcile(&output);
}

#[test]
fn add_admin_failure_names_the_email_and_says_why() {
    let indico = indico_container().with_exec(
        [INDICO, "autocreate", "admin"],
        ExecResult::fail(
            1,
            "A user with email \"admin@example.com\" already exists\n",
        ),
    );
    let output = context()
        .run(add_admin("admin@example.com"), state_with_indico(indico))
        .unwrap();
    assert_eq!(
        output.action.failure.as_deref(),
        Some(
            "Failed to create admin admin@example.com: A user with email \"admin@example.com\" already exists"
        )
    );
    assert!(output.action.results.is_empty());
    assert!(!visible_text(&output).contains(PASSWORD));
}

#[test]
fn add_admin_fails_when_the_indico_container_is_unreachable() {
    let output = context()
        .run(
            add_admin("admin@example.com"),
            state_with_indico(Container::unreachable()),
        )
        .unwrap();
    let failure = output.action.failure.clone().unwrap_or_default();
    assert!(
        failure.starts_with("Failed to create admin admin@example.com: cannot connect to Pebble"),
        "{failure}"
    );
    assert!(!visible_text(&output).contains(PASSWORD));
}

#[test]
fn add_admin_refuses_an_email_that_is_not_one_without_running_anything() {
    let output = context()
        .run(
            add_admin("not-an-email"),
            state_with_indico(indico_container()),
        )
        .unwrap();
    assert_eq!(
        output.action.failure.as_deref(),
        Some("Failed to create admin not-an-email: not a valid email address")
    );
    assert!(execs(&output).is_empty());
}

#[test]
fn anonymize_user_runs_once_per_address_and_joins_the_results() {
    let indico = indico_container().with_exec_fn([INDICO, "anonymize", "user"], |r| {
        let email = r.command.last().cloned().unwrap_or_default();
        ExecResult::ok(format!("User with email {email} correctly anonymized\n"))
    });
    let output = context()
        .run(
            anonymize("a@example.com, b@example.com"),
            state_with_indico(indico),
        )
        .unwrap();
    assert_eq!(output.action.failure, None);
    assert_eq!(output.action.results["user"], "a@example.com,b@example.com");
    assert_eq!(
        output.action.results["output"],
        "User with email a@example.com correctly anonymized\nUser with email b@example.com correctly anonymized"
    );
    let commands: Vec<_> = execs(&output).into_iter().map(|r| r.command).collect();
    assert_eq!(
        commands,
        [
            vec![INDICO, "anonymize", "user", "--", "a@example.com"],
            vec![INDICO, "anonymize", "user", "--", "b@example.com"],
        ]
    );
    assert_no_reconcile(&output);
}

#[test]
fn anonymize_user_failure_names_the_address_that_failed_and_stops() {
    let indico = indico_container().with_exec_fn([INDICO, "anonymize", "user"], |r| {
        match r.command.last().map(String::as_str) {
            Some("b@example.com") => ExecResult::fail(1, "sqlalchemy.exc.OperationalError: gone\n"),
            Some(email) => {
                ExecResult::ok(format!("User with email {email} correctly anonymized\n"))
            }
            None => ExecResult::fail(2, "no email"),
        }
    });
    let output = context()
        .run(
            anonymize("a@example.com,b@example.com,c@example.com"),
            state_with_indico(indico),
        )
        .unwrap();
    assert_eq!(
        output.action.failure.as_deref(),
        Some("Failed to anonymize user b@example.com: sqlalchemy.exc.OperationalError: gone")
    );
    assert_eq!(output.action.results["user"], "a@example.com");
    assert_eq!(execs(&output).len(), 2, "stops at the first failure");
}

#[test]
fn anonymize_user_refuses_51_addresses_with_the_documented_message() {
    let fifty_one: Vec<String> = (0..51).map(|i| format!("u{i}@example.com")).collect();
    let output = context()
        .run(
            anonymize(&fifty_one.join(",")),
            state_with_indico(indico_container()),
        )
        .unwrap();
    assert_eq!(
        output.action.failure.as_deref(),
        Some("Failed to anonymize user: List of more than 50 emails are not allowed")
    );
    assert!(execs(&output).is_empty());

    // 50 is still fine.
    let indico = indico_container().with_exec([INDICO, "anonymize", "user"], ExecResult::ok("ok"));
    let output = context()
        .run(
            anonymize(&fifty_one[..50].join(",")),
            state_with_indico(indico),
        )
        .unwrap();
    assert_eq!(output.action.failure, None);
    assert_eq!(execs(&output).len(), 50);
}

#[test]
fn anonymize_user_fails_when_the_indico_container_is_unreachable() {
    let output = context()
        .run(
            anonymize("a@example.com"),
            state_with_indico(Container::unreachable()),
        )
        .unwrap();
    let failure = output.action.failure.clone().unwrap_or_default();
    assert!(
        failure.starts_with("Failed to anonymize user a@example.com: cannot connect to Pebble"),
        "{failure}"
    );
}

#[test]
fn refresh_external_resources_pulls_upgrades_and_reloads() {
    const PIP: &str = "/srv/indico/.venv/bin/pip";
    const PYTHON: &str = "/srv/indico/.venv/bin/python3";
    let heads = Arc::new(Mutex::new(vec!["bbb\n", "aaa\n"]));
    let with_tools = |c: Container| {
        c.with_exec(
            [PIP, "install"],
            ExecResult::ok("Successfully installed indico-plugin-x-1.1\n"),
        )
        .with_exec([PYTHON, "-"], ExecResult::ok(r#"{"plugins": ["x"]}"#))
    };
    let indico = with_tools(indico_container())
        .with_exec_fn(
            ["git", "-C", "/srv/indico/custom", "rev-parse"],
            move |_| ExecResult::ok(heads.lock().unwrap().pop().unwrap_or("zzz\n")),
        )
        .with_exec(
            ["git", "-C", "/srv/indico/custom", "pull"],
            ExecResult::ok(""),
        )
        .with_exec(["touch"], ExecResult::ok(""));
    let state = state_with_indico(indico)
        .with_container("indico-celery", with_tools(Container::new()))
        .with_config("external_plugins", "indico-plugin-x")
        .with_config(
            "customization_sources_url",
            "https://example.com/custom.git",
        );
    let output = context()
        .run(
            ScenarioEvent::action("refresh-external-resources", Vec::<(String, _)>::new()),
            state,
        )
        .unwrap();
    assert_eq!(output.action.failure, None, "{:?}", output.action);
    assert_eq!(output.action.results["customization-changes"], "true");
    assert_eq!(
        output.action.results["plugin-updates"],
        r#"["indico-plugin-x-1.1"]"#
    );
    let pips: Vec<_> = output
        .pebble_calls
        .iter()
        .filter_map(|c| match &c.call {
            PebbleCall::Exec { request } if request.command[0] == PIP => {
                Some((c.container.as_str(), request.command.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(pips.len(), 2, "{pips:?}");
    for (_, command) in &pips {
        assert!(command.contains(&"--upgrade".to_owned()), "{command:?}");
    }
    assert_eq!(
        output.pushed_files("indico")["/srv/indico/etc/charm-plugin-constraints.txt"],
        b"indico==3.2.9\n"
    );
    assert!(
        execs(&output)
            .iter()
            .any(|r| r.command == ["touch", "/srv/indico/etc/uwsgi.ini"])
    );
}
