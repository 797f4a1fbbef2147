//! Scenario tests of the reconcile: the status in each situation, the environment the
//! workload gets, idempotence (a repeated hook writes nothing and restarts nothing) and
//! restarts limited to what a change affects. Each runs the real charm code through the
//! in-memory harness.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use charm_scenario::{Inconsistency, ModelProxy, Relation, ScenarioEvent, State};
use fixtures::*;
use juju_runtime::Status;
use serde_json::json;

fn waiting(message: &str) -> Option<Status> {
    Some(Status::Waiting(message.to_owned()))
}

#[test]
fn the_harness_refuses_an_undeclared_relation_and_a_mistyped_option() {
    let ctx = context();
    let relation = Relation::new("databases", 9, "postgresql-k8s");
    let err = ctx
        .run(
            ScenarioEvent::relation_joined(&relation, 0),
            State::new().with_relation(
                relation
                    .clone()
                    .with_remote_unit(0, Vec::<(String, String)>::new()),
            ),
        )
        .unwrap_err();
    assert!(
        err.inconsistencies()
            .contains(&Inconsistency::UndeclaredEndpoint {
                hook: "databases-relation-joined".into(),
                endpoint: "databases".into(),
            })
    );
    let err = ctx
        .run(
            ScenarioEvent::config_changed(),
            State::new().with_config("enable_roombooking", "yes"),
        )
        .unwrap_err();
    assert_eq!(
        err.inconsistencies(),
        [Inconsistency::ConfigType {
            key: "enable_roombooking".into(),
            expected: "boolean",
            got: "string".into()
        }]
    );
}

#[test]
fn each_waiting_message_in_order_as_relations_arrive() {
    let ctx = context();
    let mut state = with_containers(State::new().with_leader(true));
    let arrivals = [
        ("start", None, "Waiting for redis-broker availability"),
        (
            "broker",
            Some(broker_relation()),
            "Waiting for redis-cache availability",
        ),
        (
            "cache",
            Some(cache_relation()),
            "Waiting for database availability",
        ),
        (
            "database pending",
            Some(database_relation_pending()),
            "Waiting for database availability",
        ),
        (
            "database",
            Some(database_relation()),
            "Waiting for the peer relation",
        ),
    ];
    for (step, relation, expected) in arrivals {
        let event = match &relation {
            Some(r) => {
                state = state.with_relation(r.clone());
                ScenarioEvent::relation_changed(r, None)
            }
            None => ScenarioEvent::config_changed(),
        };
        let out = ctx.run(event, state.clone()).unwrap();
        assert_eq!(out.state.unit_status, waiting(expected), "after {step}");
        assert_eq!(
            out.calls_to("status-set").len(),
            1,
            "one status per hook ({step})"
        );
        state = out.state;
    }
}

#[test]
fn active_when_everything_is_present_and_running() {
    let out = context()
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    assert_eq!(out.state.unit_status, Some(Status::Active));
    assert_eq!(out.state.workload_version.as_deref(), Some(IMAGE_VERSION));
    for (container, services) in [
        ("indico", &["indico"][..]),
        // Flower exports the Celery metrics next to the worker.
        ("indico-celery", &["celery-exporter", "indico-celery"][..]),
        ("indico-nginx", &["indico-nginx"][..]),
        ("nginx-prometheus-exporter", &["exporter"][..]),
    ] {
        assert_eq!(
            out.state.containers[container].running_services(),
            services,
            "{container}"
        );
    }
}

#[test]
fn a_bad_site_url_blocks_naming_the_option() {
    let out = context()
        .run(
            ScenarioEvent::config_changed(),
            ready_leader_state().with_config("site_url", "https://"),
        )
        .unwrap();
    match out.state.unit_status {
        Some(Status::Blocked(message)) => {
            assert!(
                message.starts_with("Configuration option site_url is not valid"),
                "{message}"
            )
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
    assert!(out.state.containers["indico"].running_services().is_empty());
}

#[test]
fn a_bad_model_proxy_blocks_naming_the_setting_without_its_value() {
    let proxy = "ftp://user:hunter2@proxy.example:3128";
    let out = context()
        .run(
            ScenarioEvent::config_changed(),
            ready_leader_state().with_model_proxy(ModelProxy {
                https: Some(proxy.into()),
                ..ModelProxy::default()
            }),
        )
        .unwrap();
    match &out.state.unit_status {
        Some(Status::Blocked(message)) => {
            assert!(message.contains("JUJU_CHARM_HTTPS_PROXY"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        other => panic!("expected Blocked, got {other:?}"),
    }
    assert!(!visible_text(&out).contains("hunter2"));
}

#[test]
fn the_workload_environment_is_typed_and_complete() {
    let state = ready_leader_state()
        .with_config("site_url", "https://events.example.com:8443/")
        .with_config("enable_roombooking", true)
        .with_config("indico_no_reply_email", "robot@example.com")
        .with_model_proxy(ModelProxy {
            http: Some("http://squid.internal:3128".into()),
            no_proxy: Some("127.0.0.1,localhost".into()),
            ..ModelProxy::default()
        })
        .with_relation(
            broker_relation()
                .with_remote_app_data([("leader-host", "redis-broker-1.redis-broker-endpoints")]),
        );
    let out = context()
        .run(ScenarioEvent::config_changed(), state)
        .unwrap();
    let env = service_environment(&out, "indico", "indico");
    let get = |k: &str| env.get(k).map(String::as_str);
    assert_eq!(
        get("INDICO_SQLALCHEMY_DATABASE_URI"),
        Some(
            "postgresql://relation_id_3:Zq3-pg-p%40ss%2Fword@postgresql-k8s-primary.indico-model.svc.cluster.local:5432/indico"
        )
    );
    assert_eq!(
        get("INDICO_CELERY_BROKER"),
        Some("redis://redis-broker-1.redis-broker-endpoints:6379/0"),
        "the HA leader-host wins over the unit's hostname"
    );
    assert_eq!(
        get("INDICO_REDIS_CACHE_URL"),
        Some("redis://redis-cache-0.redis-cache-endpoints.indico-model.svc.cluster.local:6379/0")
    );
    // Scheme, host and port of site_url reach Indico as one base URL (the Python charm's
    // SERVICE_SCHEME/HOSTNAME/PORT trio; our indico.conf reads INDICO_BASE_URL).
    assert_eq!(
        get("INDICO_BASE_URL"),
        Some("https://events.example.com:8443")
    );
    assert_eq!(get("INDICO_NO_REPLY_EMAIL"), Some("robot@example.com"));
    assert_eq!(
        get("INDICO_SUPPORT_EMAIL"),
        Some("support-tech@mydomain.local")
    );
    assert_eq!(
        get("INDICO_PUBLIC_SUPPORT_EMAIL"),
        Some("support@mydomain.local")
    );
    assert_eq!(get("INDICO_ENABLE_ROOMBOOKING"), Some("true"));
    assert_eq!(get("INDICO_CUSTOMIZATION_DEBUG"), Some("false"));
    assert_eq!(get("INDICO_SECRET_KEY"), Some(SECRET_KEY));
    assert_eq!(get("HTTP_PROXY"), Some("http://squid.internal:3128/"));
    assert_eq!(get("http_proxy"), get("HTTP_PROXY"));
    assert_eq!(get("NO_PROXY"), Some("127.0.0.1,localhost"));
    assert_eq!(get("HTTPS_PROXY"), None, "an unset proxy gives no variable");
    // Celery gets the same Indico settings.
    let celery = service_environment(&out, "indico-celery", "indico-celery");
    assert_eq!(
        celery.get("INDICO_CELERY_BROKER"),
        env.get("INDICO_CELERY_BROKER")
    );
    // The password never leaves the workload environment.
    assert!(!visible_text(&out).contains(DB_PASSWORD));
}

#[test]
fn an_empty_site_url_means_the_application_local_name() {
    let out = context()
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    let env = service_environment(&out, "indico", "indico");
    assert_eq!(
        env.get("INDICO_BASE_URL").map(String::as_str),
        Some("http://indico.local")
    );
}

#[test]
fn a_repeated_hook_makes_no_pebble_write_and_no_restart() {
    let ctx = context();
    let first = ctx
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    assert_eq!(first.state.unit_status, Some(Status::Active));
    assert!(!first.pebble_writes().is_empty());
    for event in [
        ScenarioEvent::config_changed(),
        ScenarioEvent::update_status(),
        ScenarioEvent::pebble_ready("indico"),
        ScenarioEvent::relation_changed(&database_relation(), Some(0)),
    ] {
        let name = event.hook_name();
        let again = ctx.run(event, first.state.clone()).unwrap();
        assert!(
            again.pebble_writes().is_empty(),
            "{name}: {:#?}",
            again.pebble_writes()
        );
        assert!(again.service_transitions.is_empty(), "{name}");
        assert!(again.calls_to("relation-set").is_empty(), "{name}");
        assert!(again.calls_to("secret-add").is_empty(), "{name}");
        assert_eq!(again.state.unit_status, Some(Status::Active), "{name}");
        assert!(
            again.hook_tool_calls.len() <= 20,
            "{name}: {} hook-tool calls (budget 20)",
            again.hook_tool_calls.len()
        );
    }
}

#[test]
fn a_changed_option_restarts_only_the_services_it_affects() {
    let ctx = context();
    let first = ctx
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    let changed = ctx
        .run(
            ScenarioEvent::config_changed(),
            first.state.clone().with_config("enable_roombooking", true),
        )
        .unwrap();
    let mut restarted = changed.restarted_services();
    restarted.sort_unstable();
    assert_eq!(
        restarted,
        [("indico", "indico"), ("indico-celery", "indico-celery")]
    );
    assert!(
        changed
            .pebble_writes()
            .iter()
            .all(|w| w.container == "indico" || w.container == "indico-celery"),
        "{:#?}",
        changed.pebble_writes()
    );

    // site_url also changes nginx's configuration (HSTS for https) and so restarts it too,
    // but never the exporter.
    let https = ctx
        .run(
            ScenarioEvent::config_changed(),
            first
                .state
                .clone()
                .with_config("site_url", "https://events.example.com"),
        )
        .unwrap();
    let restarted: Vec<_> = https.restarted_services();
    assert!(
        restarted.contains(&("indico-nginx", "indico-nginx")),
        "{restarted:?}"
    );
    assert!(
        !restarted
            .iter()
            .any(|(c, _)| *c == "nginx-prometheus-exporter")
    );
}

#[test]
fn unreachable_pebble_is_a_waiting_status_not_a_failure() {
    let mut state = ready_leader_state();
    state
        .containers
        .get_mut("indico-nginx")
        .unwrap()
        .can_connect = false;
    let out = context()
        .run(ScenarioEvent::update_status(), state)
        .unwrap();
    assert_eq!(out.state.unit_status, waiting("Waiting for pebble"));
}

#[test]
fn an_option_of_the_right_type_but_bad_value_is_a_status() {
    let out = context()
        .run(
            ScenarioEvent::config_changed(),
            ready_leader_state().with_config("indico_support_email", json!("not an address")),
        )
        .unwrap();
    match out.state.unit_status {
        Some(Status::Blocked(m)) => assert!(m.contains("indico_support_email"), "{m}"),
        other => panic!("expected Blocked, got {other:?}"),
    }
}

fn database_relation_with_secret(uri: &str) -> Relation {
    let mut relation = database_relation();
    relation.remote_app_data.remove("username");
    relation.remote_app_data.remove("password");
    relation
        .remote_app_data
        .insert("secret-user".into(), uri.into());
    relation
}

fn credentials(password: &str) -> juju_runtime::SecretContent {
    juju_runtime::SecretContent::new([("username", "relation_id_3"), ("password", password)])
        .unwrap()
}

#[test]
fn database_credentials_in_a_juju_secret_follow_its_latest_revision() {
    const URI: &str = "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/d0dbcreds000000000001";
    let uri: juju_runtime::SecretUri = URI.parse().unwrap();
    let granted = charm_scenario::Secret::new(uri, None, credentials("first-pass"))
        .with_new_revision(credentials("second-pass"));
    let state = ready_leader_state()
        .with_relation(database_relation_with_secret(URI))
        .with_secret(granted);
    let ctx = context();
    let out = ctx.run(ScenarioEvent::config_changed(), state).unwrap();
    assert_eq!(out.state.unit_status, Some(Status::Active));
    let uri_in_env = |out: &charm_scenario::Output| {
        service_environment(out, "indico", "indico")["INDICO_SQLALCHEMY_DATABASE_URI"].clone()
    };
    assert!(
        uri_in_env(&out).contains(":second-pass@"),
        "the latest revision is used"
    );
    let tracked = out.state.secret_by_uri(&URI.parse().unwrap()).unwrap();
    assert_eq!(tracked.tracked_revision, 2, "refreshed to the latest");

    // The provider rotates the password: secret-changed restarts what uses the database.
    let mut rotated = out.state.clone();
    let secret = tracked.clone().with_new_revision(credentials("third-pass"));
    rotated = rotated.with_secret(secret.clone());
    let changed = ctx
        .run(
            ScenarioEvent::secret(charm_scenario::SecretHook::Changed, &secret),
            rotated,
        )
        .unwrap();
    assert!(uri_in_env(&changed).contains(":third-pass@"));
    let mut restarted = changed.restarted_services();
    restarted.sort_unstable();
    assert_eq!(
        restarted,
        [("indico", "indico"), ("indico-celery", "indico-celery")]
    );
    for password in ["first-pass", "second-pass", "third-pass"] {
        assert!(
            !visible_text(&changed).contains(password),
            "{password} leaked"
        );
    }
}

#[test]
fn a_credentials_secret_not_granted_yet_means_waiting_for_the_database() {
    let state = ready_leader_state().with_relation(database_relation_with_secret(
        "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/d0notgranted000000001",
    ));
    let out = context()
        .run(ScenarioEvent::config_changed(), state)
        .unwrap();
    assert_eq!(
        out.state.unit_status,
        waiting("Waiting for database availability")
    );
}

#[test]
fn a_service_that_dies_at_once_or_a_failing_check_is_a_waiting_status_not_a_failed_hook() {
    let broken = ready_leader_state()
        .with_container("indico", indico_container().with_failing_service("indico"));
    let out = context()
        .run(ScenarioEvent::config_changed(), broken)
        .unwrap();
    assert_eq!(
        out.state.unit_status,
        waiting("Waiting for services to start: indico")
    );

    let converged = context()
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap()
        .state;
    let mut failing = converged.clone();
    let nginx = failing.containers.remove("indico-nginx").unwrap();
    failing = failing.with_container(
        "indico-nginx",
        nginx.with_check_status("indico-nginx-alive", pebble_client::CheckStatus::Down, 3),
    );
    let out = context()
        .run(
            ScenarioEvent::pebble_check_failed("indico-nginx", "indico-nginx-alive"),
            failing,
        )
        .unwrap();
    assert_eq!(
        out.state.unit_status,
        waiting("Health checks failing: indico-nginx-alive")
    );
    assert!(
        out.pebble_writes().is_empty(),
        "a failing check is not fixed by rewriting"
    );
}
