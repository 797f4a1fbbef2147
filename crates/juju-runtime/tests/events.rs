//! Event parsing from recorded hook environments: every hook kind Juju 3.6 sends a
//! sidecar charm parses into the right `Event`, and every missing or malformed variable
//! gives an error naming that variable.

use std::collections::BTreeMap;
use std::path::PathBuf;

use juju_runtime::{
    ActionEvent, ContextError, Event, JujuContext, PebbleNotice, RelationEvent, RelationEventKind,
    RelationId, SecretEvent, SecretEventKind, StorageEvent, StorageEventKind, WorkloadEvent,
    WorkloadEventKind,
};

const MODEL_UUID: &str = "6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42";
const SECRET_URI: &str = "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/cs3v8rnmp25c7b2ji5e0";

/// The variables Juju 3.6 sets for every hook of unit indico/0 (contract §1.3), as
/// recorded from a sidecar unit, for the hook `dispatch` (e.g. `hooks/install`).
fn recorded_env(dispatch: &str) -> BTreeMap<String, String> {
    let hook_name = dispatch.strip_prefix("hooks/").unwrap_or("");
    let context = if hook_name.is_empty() {
        dispatch.trim_start_matches("actions/")
    } else {
        hook_name
    };
    [
        ("KUBERNETES_SERVICE_HOST", "10.152.183.1"),
        ("KUBERNETES_SERVICE_PORT", "443"),
        ("CHARM_DIR", "/var/lib/juju/agents/unit-indico-0/charm"),
        ("JUJU_CHARM_DIR", "/var/lib/juju/agents/unit-indico-0/charm"),
        (
            "JUJU_CONTEXT_ID",
            &format!("indico/0-{context}-6c1a2b3d4e5f60718293a4b5c6d7e8f9"),
        ),
        ("JUJU_HOOK_NAME", hook_name),
        (
            "JUJU_AGENT_SOCKET_ADDRESS",
            "/var/lib/juju/agents/unit-indico-0/agent.socket",
        ),
        ("JUJU_AGENT_SOCKET_NETWORK", "unix"),
        ("JUJU_UNIT_NAME", "indico/0"),
        ("JUJU_MODEL_UUID", MODEL_UUID),
        ("JUJU_MODEL_NAME", "indico-prod"),
        ("JUJU_API_ADDRESSES", "10.1.0.5:17070 10.1.0.6:17070"),
        ("JUJU_SLA", "unsupported"),
        ("JUJU_MACHINE_ID", ""),
        ("JUJU_PRINCIPAL_UNIT", ""),
        ("JUJU_AVAILABILITY_ZONE", ""),
        ("JUJU_VERSION", "3.6.1"),
        ("CLOUD_API_VERSION", "1.29.4"),
        ("JUJU_CHARM_HTTP_PROXY", ""),
        ("JUJU_CHARM_HTTPS_PROXY", ""),
        ("JUJU_CHARM_FTP_PROXY", ""),
        ("JUJU_CHARM_NO_PROXY", ""),
        ("APT_LISTCHANGES_FRONTEND", "none"),
        ("DEBIAN_FRONTEND", "noninteractive"),
        ("LANG", "C.UTF-8"),
        ("TERM", "tmux-256color"),
        (
            "PATH",
            "/var/lib/juju/tools/unit-indico-0:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ),
        ("JUJU_DISPATCH_PATH", dispatch),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn with(mut env: BTreeMap<String, String>, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    env
}

fn without(mut env: BTreeMap<String, String>, var: &str) -> BTreeMap<String, String> {
    env.remove(var);
    env
}

fn parse(env: BTreeMap<String, String>) -> Result<JujuContext, ContextError> {
    JujuContext::from_vars(env)
}

fn event(env: BTreeMap<String, String>) -> Event {
    match parse(env) {
        Ok(ctx) => ctx.event,
        Err(e) => panic!("recorded environment refused: {e}"),
    }
}

/// The variable an error names, and whether it was missing (vs malformed).
fn error_var(env: BTreeMap<String, String>) -> (&'static str, bool) {
    match parse(env) {
        Ok(ctx) => panic!("accepted, giving {:?}", ctx.event),
        Err(ContextError::Missing { var }) => (var, true),
        Err(ContextError::Malformed { var, .. }) => (var, false),
    }
}

fn relation_env(hook: &str, remote_unit: &str) -> BTreeMap<String, String> {
    with(
        recorded_env(&format!("hooks/database-relation-{hook}")),
        &[
            ("JUJU_RELATION", "database"),
            ("JUJU_RELATION_ID", "database:7"),
            ("JUJU_REMOTE_UNIT", remote_unit),
            ("JUJU_REMOTE_APP", "postgresql-k8s"),
        ],
    )
}

fn departed_env() -> BTreeMap<String, String> {
    with(
        relation_env("departed", "postgresql-k8s/1"),
        &[("JUJU_DEPARTING_UNIT", "postgresql-k8s/1")],
    )
}

fn workload_env(container: &str, kind: &str) -> BTreeMap<String, String> {
    with(
        recorded_env(&format!("hooks/{container}-{kind}")),
        &[("JUJU_WORKLOAD_NAME", container)],
    )
}

fn notice_env() -> BTreeMap<String, String> {
    with(
        workload_env("indico", "pebble-custom-notice"),
        &[
            ("JUJU_NOTICE_ID", "42"),
            ("JUJU_NOTICE_TYPE", "custom"),
            ("JUJU_NOTICE_KEY", "getindico.io/migrated"),
        ],
    )
}

fn check_env(kind: &str) -> BTreeMap<String, String> {
    with(
        workload_env("indico-nginx", kind),
        &[("JUJU_PEBBLE_CHECK_NAME", "nginx-up")],
    )
}

fn secret_env(hook: &str, revision: Option<&str>) -> BTreeMap<String, String> {
    let env = with(
        recorded_env(&format!("hooks/{hook}")),
        &[
            ("JUJU_SECRET_ID", SECRET_URI),
            ("JUJU_SECRET_LABEL", "secret-key"),
        ],
    );
    match revision {
        Some(r) => with(env, &[("JUJU_SECRET_REVISION", r)]),
        None => env,
    }
}

fn action_env() -> BTreeMap<String, String> {
    with(
        recorded_env("actions/add-admin"),
        &[
            ("JUJU_ACTION_NAME", "add-admin"),
            ("JUJU_ACTION_UUID", "42"),
            ("JUJU_ACTION_TAG", "action-42"),
        ],
    )
}

#[test]
fn context_fields_come_from_the_environment() {
    let env = with(
        recorded_env("hooks/install"),
        &[
            ("JUJU_CHARM_HTTP_PROXY", "http://squid.internal:3128"),
            ("JUJU_CHARM_NO_PROXY", "127.0.0.1,localhost"),
        ],
    );
    let ctx = parse(env).unwrap();
    assert_eq!(ctx.unit.to_string(), "indico/0");
    assert_eq!(ctx.app, "indico");
    assert_eq!(ctx.model_name, "indico-prod");
    assert_eq!(ctx.model_uuid, MODEL_UUID);
    assert_eq!(ctx.juju_version.to_string(), "3.6.1");
    assert!(ctx.juju_version.at_least(3, 6, 0));
    assert!(!ctx.juju_version.at_least(3, 6, 2));
    assert_eq!(
        ctx.charm_dir,
        PathBuf::from("/var/lib/juju/agents/unit-indico-0/charm")
    );
    assert_eq!(
        ctx.proxy.http.as_deref(),
        Some("http://squid.internal:3128")
    );
    assert_eq!(ctx.proxy.https, None, "empty means unset");
    assert_eq!(ctx.proxy.ftp, None);
    assert_eq!(ctx.proxy.no_proxy.as_deref(), Some("127.0.0.1,localhost"));
    assert_eq!(ctx.event, Event::Install);
}

#[test]
fn every_simple_hook_parses() {
    let cases = [
        ("install", Event::Install),
        ("start", Event::Start),
        ("stop", Event::Stop),
        ("remove", Event::Remove),
        ("upgrade-charm", Event::UpgradeCharm),
        ("config-changed", Event::ConfigChanged),
        ("update-status", Event::UpdateStatus),
        ("leader-elected", Event::LeaderElected),
        ("leader-settings-changed", Event::LeaderSettingsChanged),
    ];
    for (hook, expected) in cases {
        let parsed = event(recorded_env(&format!("hooks/{hook}")));
        assert_eq!(parsed, expected, "{hook}");
        assert_eq!(parsed.name(), hook);
    }
}

#[test]
fn relation_created_and_broken_have_no_remote_unit() {
    for (hook, kind) in [
        ("created", RelationEventKind::Created),
        ("broken", RelationEventKind::Broken),
    ] {
        let parsed = event(relation_env(hook, ""));
        assert_eq!(
            parsed,
            Event::Relation(RelationEvent {
                kind,
                relation: RelationId::new("database", 7),
                remote_app: Some("postgresql-k8s".to_owned()),
                remote_unit: None,
                departing_unit: None,
            })
        );
        assert_eq!(parsed.name(), format!("database-relation-{hook}"));
    }
}

#[test]
fn relation_joined_has_the_remote_unit() {
    let Event::Relation(e) = event(relation_env("joined", "postgresql-k8s/0")) else {
        panic!("not a relation event");
    };
    assert_eq!(e.kind, RelationEventKind::Joined);
    assert_eq!(e.remote_unit.unwrap().to_string(), "postgresql-k8s/0");
    assert_eq!(e.departing_unit, None);
}

#[test]
fn relation_changed_by_unit_or_by_app() {
    let Event::Relation(by_unit) = event(relation_env("changed", "postgresql-k8s/0")) else {
        panic!("not a relation event");
    };
    assert_eq!(by_unit.kind, RelationEventKind::Changed);
    assert_eq!(
        by_unit.remote_unit.map(|u| u.to_string()).as_deref(),
        Some("postgresql-k8s/0")
    );
    let Event::Relation(by_app) = event(relation_env("changed", "")) else {
        panic!("not a relation event");
    };
    assert_eq!(by_app.remote_unit, None);
    assert_eq!(by_app.remote_app.as_deref(), Some("postgresql-k8s"));
}

#[test]
fn relation_departed_has_the_departing_unit() {
    let Event::Relation(e) = event(departed_env()) else {
        panic!("not a relation event");
    };
    assert_eq!(e.kind, RelationEventKind::Departed);
    assert_eq!(e.departing_unit.unwrap().to_string(), "postgresql-k8s/1");
    // This unit itself may be the one leaving.
    let env = with(departed_env(), &[("JUJU_DEPARTING_UNIT", "indico/0")]);
    let Event::Relation(e) = event(env) else {
        panic!("not a relation event");
    };
    assert_eq!(e.departing_unit.unwrap().to_string(), "indico/0");
}

#[test]
fn remote_app_falls_back_to_the_remote_units_app() {
    let env = with(
        relation_env("joined", "postgresql-k8s/0"),
        &[("JUJU_REMOTE_APP", "")],
    );
    let Event::Relation(e) = event(env) else {
        panic!("not a relation event");
    };
    assert_eq!(e.remote_app.as_deref(), Some("postgresql-k8s"));
}

#[test]
fn peer_relation_with_dashed_endpoint_parses() {
    let env = with(
        recorded_env("hooks/indico-peers-relation-changed"),
        &[
            ("JUJU_RELATION", "indico-peers"),
            ("JUJU_RELATION_ID", "indico-peers:0"),
            ("JUJU_REMOTE_UNIT", "indico/1"),
            ("JUJU_REMOTE_APP", "indico"),
        ],
    );
    let Event::Relation(e) = event(env) else {
        panic!("not a relation event");
    };
    assert_eq!(e.relation, RelationId::new("indico-peers", 0));
    assert_eq!(e.remote_app.as_deref(), Some("indico"));
}

#[test]
fn pebble_ready_parses_with_its_container() {
    let parsed = event(workload_env("indico-celery", "pebble-ready"));
    assert_eq!(
        parsed,
        Event::Workload(WorkloadEvent {
            container: "indico-celery".to_owned(),
            kind: WorkloadEventKind::PebbleReady,
        })
    );
    assert_eq!(parsed.name(), "indico-celery-pebble-ready");
}

#[test]
fn pebble_custom_notice_has_the_notice() {
    let parsed = event(notice_env());
    assert_eq!(
        parsed,
        Event::Workload(WorkloadEvent {
            container: "indico".to_owned(),
            kind: WorkloadEventKind::CustomNotice(PebbleNotice {
                id: "42".to_owned(),
                notice_type: "custom".to_owned(),
                key: "getindico.io/migrated".to_owned(),
            }),
        })
    );
    assert_eq!(parsed.name(), "indico-pebble-custom-notice");
}

#[test]
fn pebble_check_failed_and_recovered_have_the_check() {
    let failed = event(check_env("pebble-check-failed"));
    assert_eq!(
        failed,
        Event::Workload(WorkloadEvent {
            container: "indico-nginx".to_owned(),
            kind: WorkloadEventKind::CheckFailed {
                check_name: "nginx-up".to_owned()
            },
        })
    );
    let recovered = event(check_env("pebble-check-recovered"));
    assert_eq!(
        recovered,
        Event::Workload(WorkloadEvent {
            container: "indico-nginx".to_owned(),
            kind: WorkloadEventKind::CheckRecovered {
                check_name: "nginx-up".to_owned()
            },
        })
    );
    assert_eq!(recovered.name(), "indico-nginx-pebble-check-recovered");
}

#[test]
fn secret_hooks_parse() {
    let cases = [
        ("secret-changed", None, SecretEventKind::Changed),
        ("secret-rotate", None, SecretEventKind::Rotate),
        (
            "secret-expired",
            Some("3"),
            SecretEventKind::Expired { revision: 3 },
        ),
        (
            "secret-remove",
            Some("2"),
            SecretEventKind::Remove { revision: 2 },
        ),
    ];
    for (hook, revision, kind) in cases {
        let parsed = event(secret_env(hook, revision));
        let Event::Secret(SecretEvent {
            kind: got,
            uri,
            label,
        }) = &parsed
        else {
            panic!("{hook}: not a secret event");
        };
        assert_eq!(*got, kind, "{hook}");
        assert_eq!(uri.as_str(), SECRET_URI);
        assert_eq!(uri.xid(), "cs3v8rnmp25c7b2ji5e0");
        assert_eq!(label.as_deref(), Some("secret-key"));
        assert_eq!(parsed.name(), hook);
    }
}

#[test]
fn secret_label_empty_is_none_and_old_uri_form_is_accepted() {
    let env = with(
        secret_env("secret-changed", None),
        &[
            ("JUJU_SECRET_LABEL", ""),
            ("JUJU_SECRET_ID", "secret:cs3v8rnmp25c7b2ji5e0"),
        ],
    );
    let Event::Secret(e) = event(env) else {
        panic!("not a secret event");
    };
    assert_eq!(e.label, None);
    assert_eq!(e.uri.xid(), "cs3v8rnmp25c7b2ji5e0");
}

#[test]
fn storage_hooks_parse() {
    for (hook, kind) in [
        ("storage-attached", StorageEventKind::Attached),
        ("storage-detaching", StorageEventKind::Detaching),
    ] {
        let env = with(
            recorded_env(&format!("hooks/archive-{hook}")),
            &[
                ("JUJU_STORAGE_ID", "archive/0"),
                ("JUJU_STORAGE_LOCATION", "/srv/indico/archive"),
                ("JUJU_STORAGE_KIND", "filesystem"),
            ],
        );
        assert_eq!(
            event(env),
            Event::Storage(StorageEvent {
                kind,
                storage_name: "archive".to_owned(),
                storage_id: "archive/0".to_owned(),
                location: Some("/srv/indico/archive".to_owned()),
            })
        );
    }
}

#[test]
fn actions_parse() {
    let parsed = event(action_env());
    assert_eq!(
        parsed,
        Event::Action(ActionEvent {
            name: "add-admin".to_owned(),
            id: "42".to_owned(),
        })
    );
    assert_eq!(parsed.name(), "add-admin");
}

#[test]
fn unknown_hooks_are_unknown_not_errors() {
    for hook in [
        "collect-metrics",
        "leader-deposed",
        "pre-series-upgrade",
        "some-future-hook",
    ] {
        assert_eq!(
            event(recorded_env(&format!("hooks/{hook}"))),
            Event::Unknown(hook.to_owned())
        );
    }
}

#[test]
fn missing_common_variables_are_named() {
    for var in [
        "JUJU_UNIT_NAME",
        "JUJU_VERSION",
        "JUJU_MODEL_NAME",
        "JUJU_MODEL_UUID",
        "JUJU_CHARM_DIR",
        "JUJU_DISPATCH_PATH",
        "JUJU_HOOK_NAME",
    ] {
        assert_eq!(
            error_var(without(recorded_env("hooks/start"), var)),
            (var, true),
            "{var}"
        );
    }
}

#[test]
fn malformed_common_variables_are_named() {
    let cases: &[(&str, &str)] = &[
        ("JUJU_UNIT_NAME", "indico"),
        ("JUJU_UNIT_NAME", "indico/zero"),
        ("JUJU_UNIT_NAME", ""),
        ("JUJU_VERSION", "three"),
        ("JUJU_VERSION", "3"),
        ("JUJU_VERSION", "3.6.x"),
        ("JUJU_MODEL_NAME", ""),
        ("JUJU_MODEL_UUID", ""),
        ("JUJU_CHARM_DIR", ""),
        ("JUJU_DISPATCH_PATH", "install"),
        ("JUJU_DISPATCH_PATH", "bin/install"),
        ("JUJU_DISPATCH_PATH", "hooks/"),
        ("JUJU_DISPATCH_PATH", "hooks/a/b"),
        ("JUJU_DISPATCH_PATH", ""),
        ("JUJU_HOOK_NAME", "stop"),
    ];
    for (var, value) in cases {
        let env = with(recorded_env("hooks/start"), &[(var, value)]);
        assert_eq!(error_var(env), (*var, false), "{var}={value:?}");
    }
}

#[test]
fn juju_versions_parse() {
    let cases = [
        ("3.6.0", "3.6.0", true),
        ("3.6-rc1", "3.6-rc1", false),
        ("3.6-beta2.1", "3.6-beta2.1", false),
        ("3.6.1.2", "3.6.1.2", true),
    ];
    for (text, display, at_least_3_6_0) in cases {
        let env = with(recorded_env("hooks/start"), &[("JUJU_VERSION", text)]);
        let version = parse(env).unwrap().juju_version;
        assert_eq!(version.to_string(), display);
        assert_eq!(version.at_least(3, 6, 0), at_least_3_6_0, "{text}");
    }
}

#[test]
fn action_variables_are_checked() {
    assert_eq!(
        error_var(without(action_env(), "JUJU_ACTION_NAME")),
        ("JUJU_ACTION_NAME", true)
    );
    assert_eq!(
        error_var(without(action_env(), "JUJU_ACTION_UUID")),
        ("JUJU_ACTION_UUID", true)
    );
    assert_eq!(
        error_var(with(
            action_env(),
            &[("JUJU_ACTION_NAME", "anonymize-user")]
        )),
        ("JUJU_ACTION_NAME", false)
    );
    assert_eq!(
        error_var(with(action_env(), &[("JUJU_HOOK_NAME", "add-admin")])),
        ("JUJU_HOOK_NAME", false),
        "JUJU_HOOK_NAME must be empty for actions"
    );
}

#[test]
fn relation_variables_are_checked() {
    let joined = || relation_env("joined", "postgresql-k8s/0");
    for var in [
        "JUJU_RELATION",
        "JUJU_RELATION_ID",
        "JUJU_REMOTE_UNIT",
        "JUJU_REMOTE_APP",
    ] {
        assert_eq!(error_var(without(joined(), var)), (var, true), "{var}");
    }
    let malformed: &[(&str, &str)] = &[
        ("JUJU_RELATION", "db"),
        ("JUJU_RELATION_ID", "7"),
        ("JUJU_RELATION_ID", "database:seven"),
        ("JUJU_RELATION_ID", "db:7"),
        ("JUJU_REMOTE_UNIT", ""),
        ("JUJU_REMOTE_UNIT", "postgresql-k8s"),
        ("JUJU_REMOTE_APP", "Postgres"),
    ];
    for (var, value) in malformed {
        assert_eq!(
            error_var(with(joined(), &[(var, value)])),
            (*var, false),
            "{var}={value:?}"
        );
    }
    assert_eq!(
        error_var(without(departed_env(), "JUJU_DEPARTING_UNIT")),
        ("JUJU_DEPARTING_UNIT", true)
    );
    assert_eq!(
        error_var(with(departed_env(), &[("JUJU_DEPARTING_UNIT", "nobody")])),
        ("JUJU_DEPARTING_UNIT", false)
    );
    assert_eq!(
        error_var(with(departed_env(), &[("JUJU_REMOTE_UNIT", "")])),
        ("JUJU_REMOTE_UNIT", false)
    );
    assert_eq!(
        error_var(with(
            relation_env("changed", ""),
            &[("JUJU_REMOTE_UNIT", "pg/x")]
        )),
        ("JUJU_REMOTE_UNIT", false)
    );
}

#[test]
fn workload_variables_are_checked() {
    assert_eq!(
        error_var(without(
            workload_env("indico", "pebble-ready"),
            "JUJU_WORKLOAD_NAME"
        )),
        ("JUJU_WORKLOAD_NAME", true)
    );
    assert_eq!(
        error_var(with(
            workload_env("indico", "pebble-ready"),
            &[("JUJU_WORKLOAD_NAME", "indico-nginx")]
        )),
        ("JUJU_WORKLOAD_NAME", false)
    );
    for var in ["JUJU_NOTICE_ID", "JUJU_NOTICE_TYPE", "JUJU_NOTICE_KEY"] {
        assert_eq!(error_var(without(notice_env(), var)), (var, true), "{var}");
        assert_eq!(
            error_var(with(notice_env(), &[(var, "")])),
            (var, false),
            "{var} empty"
        );
    }
    for kind in ["pebble-check-failed", "pebble-check-recovered"] {
        assert_eq!(
            error_var(without(check_env(kind), "JUJU_PEBBLE_CHECK_NAME")),
            ("JUJU_PEBBLE_CHECK_NAME", true),
            "{kind}"
        );
    }
}

#[test]
fn secret_variables_are_checked() {
    assert_eq!(
        error_var(without(
            secret_env("secret-changed", None),
            "JUJU_SECRET_ID"
        )),
        ("JUJU_SECRET_ID", true)
    );
    for bad in ["cs3v8rnmp25c7b2ji5e0", "secret:", "secret://model"] {
        assert_eq!(
            error_var(with(
                secret_env("secret-rotate", None),
                &[("JUJU_SECRET_ID", bad)]
            )),
            ("JUJU_SECRET_ID", false),
            "{bad}"
        );
    }
    for hook in ["secret-expired", "secret-remove"] {
        assert_eq!(
            error_var(secret_env(hook, None)),
            ("JUJU_SECRET_REVISION", true),
            "{hook}"
        );
        for bad in ["0", "-1", "two", ""] {
            assert_eq!(
                error_var(secret_env(hook, Some(bad))),
                ("JUJU_SECRET_REVISION", false),
                "{hook} revision {bad:?}"
            );
        }
    }
}

#[test]
fn storage_variables_are_checked() {
    let env = recorded_env("hooks/archive-storage-attached");
    assert_eq!(error_var(env.clone()), ("JUJU_STORAGE_ID", true));
    for bad in ["archive", "data/0", "archive/x"] {
        assert_eq!(
            error_var(with(env.clone(), &[("JUJU_STORAGE_ID", bad)])),
            ("JUJU_STORAGE_ID", false),
            "{bad}"
        );
    }
}

#[test]
fn errors_say_which_variable_and_why() {
    let err = parse(with(
        relation_env("joined", "postgresql-k8s/0"),
        &[("JUJU_RELATION_ID", "database:seven")],
    ))
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("JUJU_RELATION_ID"), "{text}");
    assert!(text.contains("database:seven"), "{text}");
    let err = parse(without(recorded_env("hooks/start"), "JUJU_UNIT_NAME")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable JUJU_UNIT_NAME is not set"
    );
}

/// One recorded environment per hook kind.
fn one_env_per_hook_kind() -> Vec<BTreeMap<String, String>> {
    let mut envs: Vec<_> = [
        "install",
        "start",
        "stop",
        "remove",
        "upgrade-charm",
        "config-changed",
        "update-status",
        "leader-elected",
        "leader-settings-changed",
        "some-future-hook",
    ]
    .iter()
    .map(|h| recorded_env(&format!("hooks/{h}")))
    .collect();
    envs.extend([
        relation_env("created", ""),
        relation_env("joined", "postgresql-k8s/0"),
        relation_env("changed", "postgresql-k8s/0"),
        relation_env("changed", ""),
        departed_env(),
        relation_env("broken", ""),
        workload_env("indico", "pebble-ready"),
        notice_env(),
        check_env("pebble-check-failed"),
        check_env("pebble-check-recovered"),
        secret_env("secret-changed", None),
        secret_env("secret-rotate", None),
        secret_env("secret-expired", Some("3")),
        secret_env("secret-remove", Some("2")),
        with(
            recorded_env("hooks/archive-storage-attached"),
            &[
                ("JUJU_STORAGE_ID", "archive/0"),
                ("JUJU_STORAGE_LOCATION", "/srv/indico/archive"),
            ],
        ),
        action_env(),
    ]);
    envs
}

#[test]
fn env_vars_reproduce_what_juju_set() {
    for recorded in one_env_per_hook_kind() {
        let ctx = parse(recorded.clone()).unwrap();
        let rendered = ctx.env_vars();
        for (var, value) in &rendered {
            assert_eq!(
                recorded.get(*var),
                Some(value),
                "{var} for {}",
                ctx.event.name()
            );
        }
        // Every JUJU_ variable the parser reads is rendered back (agent ones aside).
        for var in recorded.keys().filter(|k| {
            k.starts_with("JUJU_")
                && ![
                    "JUJU_CONTEXT_ID",
                    "JUJU_AGENT_SOCKET_ADDRESS",
                    "JUJU_AGENT_SOCKET_NETWORK",
                    "JUJU_API_ADDRESSES",
                    "JUJU_SLA",
                    "JUJU_MACHINE_ID",
                    "JUJU_PRINCIPAL_UNIT",
                    "JUJU_AVAILABILITY_ZONE",
                ]
                .contains(&k.as_str())
        }) {
            assert!(
                rendered.iter().any(|(v, _)| v == var),
                "{var} not rendered for {}",
                ctx.event.name()
            );
        }
        assert_eq!(JujuContext::from_vars(ctx.env_vars()).unwrap(), ctx);
    }
}
