//! Scenario tests of the external plugins and the customization repository in the
//! reconcile: installed (pip as `indico`, Indico pinned) or cloned (git as `indico`, model
//! proxy) only when the list or URL changed, recorded in the layers so that a no-op hook
//! runs no exec, enabled in Indico, and a failure is a Blocked status naming what failed.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use charm_scenario::{Container, ExecResult, ModelProxy, Output, PebbleCall, ScenarioEvent, State};
use fixtures::*;
use juju_runtime::Status;
use pebble_client::ExecRequest;

const PIP: &str = "/srv/indico/.venv/bin/pip";
const PYTHON: &str = "/srv/indico/.venv/bin/python3";
const CONSTRAINTS: &str = "/srv/indico/etc/charm-plugin-constraints.txt";
const REQUIREMENTS: &str = "/srv/indico/etc/charm-plugins.txt";
const PLUGINS: &str = "indico-plugin-piwik==3.2.1, git+https://example.com/p/indico-plugin-x.git";
const REPO: &str = "https://example.com/custom.git";

/// A container image with pip, the plugin lister and git answering.
fn with_tools(container: Container) -> Container {
    container
        .with_exec(
            [PIP, "install"],
            ExecResult::ok("Successfully installed indico-plugin-piwik-3.2.1\n"),
        )
        .with_exec(
            [PYTHON, "-"],
            ExecResult::ok(r#"{"plugins": ["piwik", "x"]}"#),
        )
        .with_exec(["git", "clone"], ExecResult::ok(""))
}

/// The converged leader whose indico and indico-celery images can install and clone.
fn state() -> State {
    ready_leader_state()
        .with_container("indico", with_tools(indico_container()))
        .with_container("indico-celery", with_tools(Container::new()))
}

/// `(container, request)` of every exec whose program is `program`.
fn execs_of<'a>(output: &'a Output, program: &str) -> Vec<(&'a str, &'a ExecRequest)> {
    output
        .pebble_calls
        .iter()
        .filter_map(|c| match &c.call {
            PebbleCall::Exec { request } if request.command[0] == program => {
                Some((c.container.as_str(), request))
            }
            _ => None,
        })
        .collect()
}

fn all_execs(output: &Output) -> usize {
    output
        .pebble_calls
        .iter()
        .filter(|c| matches!(c.call, PebbleCall::Exec { .. }))
        .count()
}

#[test]
fn plugins_are_installed_as_indico_with_indico_pinned_and_enabled_in_both_containers() {
    let output = context()
        .run(
            ScenarioEvent::config_changed(),
            state().with_config("external_plugins", PLUGINS),
        )
        .unwrap();
    assert_eq!(output.state.unit_status, Some(Status::Active));
    assert!(
        output
            .unit_status_history
            .contains(&Status::Maintenance("Installing external plugins".into())),
        "{:?}",
        output.unit_status_history
    );
    let pips = execs_of(&output, PIP);
    let containers: Vec<_> = pips.iter().map(|(c, _)| *c).collect();
    assert_eq!(containers, ["indico", "indico-celery"]);
    for (container, request) in &pips {
        assert_eq!(
            request.command,
            [
                PIP,
                "install",
                "--no-input",
                "--root-user-action=ignore",
                "--constraint",
                CONSTRAINTS,
                "--requirement",
                REQUIREMENTS
            ],
            "{container}"
        );
        // The venv is root's, as the image built it: the workload user cannot rewrite it.
        assert_eq!(request.user.as_deref(), Some("root"));
        assert_eq!(
            output.pushed_files(container)[CONSTRAINTS],
            b"indico==3.2.9\n",
            "{container}"
        );
        // The specs (a URL may carry a token) are in a private file, never on a command line.
        assert_eq!(
            output.pushed_files(container)[REQUIREMENTS],
            b"indico-plugin-piwik==3.2.1\ngit+https://example.com/p/indico-plugin-x.git\n",
            "{container}"
        );
        let requirements = output.state.containers[*container].files[REQUIREMENTS].clone();
        assert_eq!(requirements.permissions, 0o600);
        assert_eq!(requirements.user.as_deref(), Some("indico"));
    }
    for (_, request) in execs_of(&output, PIP)
        .iter()
        .chain(&execs_of(&output, PYTHON))
    {
        assert!(
            !request.command.iter().any(|a| a.contains("example.com")),
            "{:?}",
            request.command
        );
    }
    for (container, service) in [("indico", "indico"), ("indico-celery", "indico-celery")] {
        let env = service_environment(&output, container, service);
        assert_eq!(env["INDICO_PLUGINS"], "piwik,x", "{container}");
        assert!(env.contains_key("CHARM_PLUGINS_HASH"), "{container}");
    }

    // The next hooks find the record in the layers: no exec, no write, no restart.
    for event in [
        ScenarioEvent::update_status(),
        ScenarioEvent::config_changed(),
        ScenarioEvent::pebble_ready("indico-celery"),
    ] {
        let name = event.hook_name();
        let again = context().run(event, output.state.clone()).unwrap();
        assert_eq!(all_execs(&again), 0, "{name}");
        assert!(again.pebble_writes().is_empty(), "{name}");
        assert!(again.service_transitions.is_empty(), "{name}");
        assert_eq!(again.state.unit_status, Some(Status::Active), "{name}");
    }
}

#[test]
fn a_changed_list_reinstalls_and_restarts_only_indico_and_celery() {
    let first = context()
        .run(
            ScenarioEvent::config_changed(),
            state().with_config("external_plugins", PLUGINS),
        )
        .unwrap();
    let changed = context()
        .run(
            ScenarioEvent::config_changed(),
            first
                .state
                .clone()
                .with_config("external_plugins", "indico-plugin-piwik==3.2.2"),
        )
        .unwrap();
    assert_eq!(execs_of(&changed, PIP).len(), 2);
    let mut restarted = changed.restarted_services();
    restarted.sort_unstable();
    assert_eq!(
        restarted,
        [("indico", "indico"), ("indico-celery", "indico-celery")]
    );

    // Emptying the list needs no pip: the plugins are just no longer enabled.
    let emptied = context()
        .run(
            ScenarioEvent::config_changed(),
            changed.state.clone().with_config("external_plugins", ""),
        )
        .unwrap();
    assert_eq!(all_execs(&emptied), 0);
    let env = service_environment(&emptied, "indico", "indico");
    assert!(!env.contains_key("INDICO_PLUGINS") && !env.contains_key("CHARM_PLUGINS_HASH"));
}

#[test]
fn a_restarted_container_gets_its_plugins_again() {
    let first = context()
        .run(
            ScenarioEvent::config_changed(),
            state().with_config("external_plugins", PLUGINS),
        )
        .unwrap();
    // Pebble restarted with the container: fresh filesystem, no layers.
    let restarted = first
        .state
        .clone()
        .with_container("indico-celery", with_tools(Container::new()));
    let output = context()
        .run(ScenarioEvent::pebble_ready("indico-celery"), restarted)
        .unwrap();
    let containers: Vec<_> = execs_of(&output, PIP).iter().map(|(c, _)| *c).collect();
    assert_eq!(containers, ["indico-celery"]);
    assert_eq!(
        service_environment(&output, "indico-celery", "indico-celery")["INDICO_PLUGINS"],
        "piwik,x"
    );
}

#[test]
fn a_failing_pip_blocks_naming_the_container_and_leaves_indico_unconfigured() {
    let failing = indico_container()
        .with_exec(
            [PIP, "install"],
            ExecResult::fail(
                1,
                "Collecting indico-plugin-nope\nERROR: No matching distribution found for indico-plugin-nope\n",
            ),
        )
        .with_exec([PYTHON, "-"], ExecResult::ok(r#"{"plugins": []}"#));
    let output = context()
        .run(
            ScenarioEvent::config_changed(),
            state()
                .with_container("indico", failing)
                .with_config("external_plugins", "indico-plugin-nope"),
        )
        .unwrap();
    assert_eq!(
        output.state.unit_status,
        Some(Status::Blocked(
            "Failed to install external plugins in indico: ERROR: No matching distribution found for indico-plugin-nope"
                .into()
        ))
    );
    assert!(
        !output
            .pushed_files("indico")
            .contains_key("/srv/indico/etc/uwsgi.ini")
    );
    assert!(
        output.state.containers["indico"]
            .running_services()
            .is_empty()
    );
    // The next hook tries again.
    let again = context()
        .run(ScenarioEvent::update_status(), output.state.clone())
        .unwrap();
    assert_eq!(
        execs_of(&again, PIP)
            .iter()
            .filter(|(c, _)| *c == "indico")
            .count(),
        1
    );
}

#[test]
fn the_customization_repository_is_cloned_as_indico_through_the_proxy_and_replaced_on_change() {
    let proxy = ModelProxy {
        https: Some("http://squid.internal:3128".into()),
        ..ModelProxy::default()
    };
    let output = context()
        .run(
            ScenarioEvent::config_changed(),
            state()
                .with_model_proxy(proxy)
                .with_config("customization_sources_url", REPO),
        )
        .unwrap();
    assert_eq!(output.state.unit_status, Some(Status::Active));
    let clones = execs_of(&output, "git");
    assert_eq!(clones.len(), 1);
    let (container, request) = clones[0];
    assert_eq!(container, "indico");
    assert_eq!(
        request.command,
        [
            "git",
            "clone",
            "--quiet",
            "--",
            "charm-customization:",
            "/srv/indico/custom"
        ]
    );
    assert_eq!(
        request.environment["GIT_CONFIG_KEY_0"],
        format!("url.{REPO}.insteadOf")
    );
    assert_eq!(request.user.as_deref(), Some("indico"));
    assert_eq!(
        request.environment["HTTPS_PROXY"],
        "http://squid.internal:3128/"
    );
    assert_eq!(
        request.environment["https_proxy"],
        "http://squid.internal:3128/"
    );
    let calls = output.pebble_calls_to("indico");
    let removed = calls
        .iter()
        .position(|c| matches!(c, PebbleCall::RemovePath { path } if path == "/srv/indico/custom"));
    let cloned = calls
        .iter()
        .position(|c| matches!(c, PebbleCall::Exec { request } if request.command[0] == "git"));
    assert!(removed < cloned && removed.is_some(), "{calls:?}");
    let env = service_environment(&output, "indico", "indico");
    assert!(env.contains_key("CHARM_CUSTOMIZATION_HASH"));
    assert!(
        !env.values().any(|v| v.contains("custom.git")),
        "the URL is not in the layer"
    );

    // Same URL: nothing runs.
    let again = context()
        .run(ScenarioEvent::update_status(), output.state.clone())
        .unwrap();
    assert_eq!(all_execs(&again), 0);
    assert!(again.pebble_writes().is_empty());

    // A new URL replaces the clone and restarts Indico (not Celery).
    let moved = context()
        .run(
            ScenarioEvent::config_changed(),
            output
                .state
                .clone()
                .with_config("customization_sources_url", "https://example.com/other.git"),
        )
        .unwrap();
    let clones = execs_of(&moved, "git");
    assert_eq!(clones.len(), 1);
    assert_eq!(
        clones[0].1.environment["GIT_CONFIG_KEY_0"],
        "url.https://example.com/other.git.insteadOf"
    );
    assert_eq!(moved.restarted_services(), [("indico", "indico")]);

    // No URL: the clone goes, an empty directory stays, no git.
    let dropped = context()
        .run(
            ScenarioEvent::config_changed(),
            moved
                .state
                .clone()
                .with_config("customization_sources_url", ""),
        )
        .unwrap();
    assert!(execs_of(&dropped, "git").is_empty());
    assert!(
        dropped
            .pebble_calls_to("indico")
            .iter()
            .any(|c| matches!(c, PebbleCall::MakeDir { path } if path == "/srv/indico/custom"))
    );
    assert_eq!(dropped.state.unit_status, Some(Status::Active));
}

#[test]
fn a_failing_clone_blocks_without_showing_the_token() {
    let url = "https://bot:ghp_S3cr3t@example.com/private.git";
    let failing = indico_container().with_exec(
        ["git", "clone"],
        ExecResult::fail(
            128,
            "fatal: unable to access 'https://bot:ghp_S3cr3t@example.com/private.git/': The requested URL returned error: 403\n",
        ),
    );
    let output = context()
        .run(
            ScenarioEvent::config_changed(),
            state()
                .with_container("indico", failing)
                .with_config("customization_sources_url", url),
        )
        .unwrap();
    assert_eq!(
        output.state.unit_status,
        Some(Status::Blocked(
            "Failed to clone the customization repository: fatal: unable to access 'https://***@example.com/private.git/': The requested URL returned error: 403".into()
        ))
    );
    assert!(!visible_text(&output).contains("ghp_S3cr3t"));
}
