//! The harness's own tests: each drives a small charm closure through `Context::run` and
//! checks one Juju or Pebble rule the harness must copy.

use std::collections::BTreeMap;

use charm_scenario::{
    CharmFailure, CharmSpec, Container, Context, ExecResult, HookRun, HookToolCall, Inconsistency,
    ModelProxy, PebbleCall, Relation, ScenarioEvent, Secret, ServiceTransitionKind, State,
};
use juju_runtime::{
    Bag, HookToolError, HookTools, Port, RelationId, Scope, SecretAddOptions, SecretContent,
    SecretGetOptions, SecretOwner, SecretRef, Status,
};
use pebble_client::{Error as PebbleError, ExecRequest, Layer, Pebble, PushOptions};
use serde_json::json;

const METADATA: &str = r#"
name: demo
containers:
  web: {resource: web-image}
peers:
  cluster: {interface: demo-cluster}
requires:
  db: {interface: pgsql, limit: 1}
  cache: {interface: redis}
"#;

const CONFIG: &str = r#"
options:
  port: {type: int, default: 8080, description: p}
  name: {type: string, default: demo, description: n}
  debug: {type: boolean, default: false, description: d}
  token: {type: string, description: t}
"#;

const ACTIONS: &str = r#"
greet:
  params:
    who: {type: string}
    times: {type: integer, default: 1}
  required: [who]
  additionalProperties: false
"#;

fn spec() -> CharmSpec {
    CharmSpec::parse(METADATA, Some(CONFIG), Some(ACTIONS)).unwrap()
}

fn fail(e: impl std::fmt::Display) -> CharmFailure {
    CharmFailure::from_error(&e)
}

fn ctx(charm: impl Fn(&HookRun<'_>) -> Result<(), CharmFailure> + 'static) -> Context {
    Context::new(spec(), charm)
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

fn db(id: u64) -> Relation {
    Relation::new("db", id, "postgresql")
}

fn noop() -> Context {
    ctx(|_| Ok(()))
}

#[test]
fn an_event_for_an_undeclared_relation_is_refused() {
    let relation = Relation::new("s3", 7, "minio");
    let err = noop()
        .run(
            ScenarioEvent::relation_changed(&relation, None),
            State::new().with_relation(relation.clone()),
        )
        .unwrap_err();
    let found = err.inconsistencies();
    assert!(
        found.contains(&Inconsistency::UndeclaredEndpoint {
            hook: "s3-relation-changed".into(),
            endpoint: "s3".into()
        }),
        "{err}"
    );
    assert!(
        found.contains(&Inconsistency::RelationOnUndeclaredEndpoint {
            endpoint: "s3".into(),
            id: 7
        })
    );
}

#[test]
fn a_mistyped_or_unknown_config_value_is_refused() {
    let err = noop()
        .run(
            ScenarioEvent::config_changed(),
            State::new()
                .with_config("port", "8080")
                .with_config("colour", "red"),
        )
        .unwrap_err();
    assert_eq!(
        err.inconsistencies(),
        [
            Inconsistency::UnknownConfigKey("colour".into()),
            Inconsistency::ConfigType {
                key: "port".into(),
                expected: "int",
                got: "string".into()
            },
        ]
    );
    assert!(
        err.to_string()
            .contains("config option \"port\" must be of type int, got string")
    );
}

#[test]
fn impossible_relations_containers_and_actions_are_refused() {
    // `with_relation` replaces by id, so a duplicate id needs the field itself.
    let mut state = State::new()
        .with_relation(db(1))
        .with_relation(db(2))
        .with_relation(Relation::new("cluster", 3, "other"))
        .with_container("sidecar", Container::new());
    state.relations.push(Relation::new("cache", 1, "redis"));
    let err = noop()
        .run(
            ScenarioEvent::action("greet", [("times", json!("x")), ("whom", json!("a"))]),
            state,
        )
        .unwrap_err();
    let found = err.inconsistencies();
    for expected in [
        Inconsistency::DuplicateRelationId(1),
        Inconsistency::OverLimit {
            endpoint: "db".into(),
            count: 2,
            limit: 1,
        },
        Inconsistency::RelationKindMismatch {
            endpoint: "cluster".into(),
            id: 3,
            expected: "peer",
            got: "non-peer",
        },
        Inconsistency::UnknownContainer("sidecar".into()),
        Inconsistency::UnknownActionParam {
            action: "greet".into(),
            param: "whom".into(),
        },
        Inconsistency::ActionParamType {
            action: "greet".into(),
            param: "times".into(),
            expected: "integer".into(),
            got: "string".into(),
        },
        Inconsistency::MissingActionParam {
            action: "greet".into(),
            param: "who".into(),
        },
    ] {
        assert!(
            found.contains(&expected),
            "{expected:?} missing from {found:?}"
        );
    }
    let err = noop()
        .run(
            ScenarioEvent::leader_elected(),
            State::new().with_relation(Relation::new("cache", 9, "Redis_K8s")),
        )
        .unwrap_err();
    assert_eq!(
        err.inconsistencies(),
        [
            Inconsistency::InvalidRemoteApp {
                endpoint: "cache".into(),
                id: 9,
                app: "Redis_K8s".into()
            },
            Inconsistency::LeaderElectedOnNonLeader,
        ]
    );
    let err = noop()
        .run(ScenarioEvent::pebble_ready("db"), State::new())
        .unwrap_err();
    assert!(matches!(
        err.inconsistencies(),
        [Inconsistency::UndeclaredContainer { .. }]
    ));
    let err = noop()
        .run(
            ScenarioEvent::action("dance", Vec::<(String, _)>::new()),
            State::new(),
        )
        .unwrap_err();
    assert_eq!(
        err.inconsistencies(),
        [Inconsistency::UndeclaredAction("dance".into())]
    );
}

#[test]
fn config_get_gives_defaults_overridden_by_set_values() {
    let out = ctx(|run| {
        let config = run.hook_tools().config_get().map_err(fail)?;
        let expected: BTreeMap<String, serde_json::Value> = [
            ("debug", json!(true)),
            ("name", json!("demo")),
            ("port", json!(8080)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if config != expected {
            return Err(CharmFailure::from_error(&format!("{config:?}")));
        }
        Ok(())
    })
    .run(
        ScenarioEvent::config_changed(),
        State::new().with_config("debug", true),
    )
    .unwrap();
    assert_eq!(out.hook_tool_calls, [HookToolCall::ConfigGet]);
}

#[test]
fn buffered_changes_are_dropped_on_failure_and_immediate_ones_stay() {
    let relation = db(3);
    let err = ctx(|run| {
        let tools = run.hook_tools();
        let id = RelationId::new("db", 3);
        let data = BTreeMap::from([("database".to_owned(), "demo".to_owned())]);
        tools.relation_set(&id, Scope::App, &data).map_err(fail)?;
        tools
            .state_set(&BTreeMap::from([("k".to_owned(), "v".to_owned())]))
            .map_err(fail)?;
        tools.open_port(Port::Tcp(8080)).map_err(fail)?;
        tools
            .status_set(Scope::Unit, &Status::Maintenance("busy".into()))
            .map_err(fail)?;
        tools.application_version_set("1.2.3").map_err(fail)?;
        Err(CharmFailure {
            exit_code: 1,
            stderr: "boom\n".into(),
        })
    })
    .run(
        ScenarioEvent::config_changed(),
        State::new()
            .with_leader(true)
            .with_relation(relation.clone()),
    )
    .unwrap_err();
    let failure = err.failure().expect("the charm ran");
    assert_eq!((failure.exit_code, failure.stderr.as_str()), (1, "boom\n"));
    let state = &failure.output.state;
    assert_eq!(state.relation(3).unwrap(), &relation);
    assert!(state.charm_state.is_empty());
    assert!(state.opened_ports.is_empty());
    assert_eq!(state.unit_status, Some(Status::Maintenance("busy".into())));
    assert_eq!(state.workload_version.as_deref(), Some("1.2.3"));
    assert_eq!(failure.output.calls_to("relation-set").len(), 1);
}

#[test]
fn the_own_app_bag_is_the_leaders_with_the_real_tools_errors() {
    let charm = |run: &HookRun<'_>| {
        let tools = run.hook_tools();
        let id = RelationId::new("db", 3);
        let data = BTreeMap::from([("database".to_owned(), "demo".to_owned())]);
        match tools.relation_set(&id, Scope::App, &data) {
            Err(HookToolError::NotLeader { tool, message }) => {
                assert_eq!(
                    (tool, message.as_str()),
                    ("relation-set", "cannot write relation settings")
                );
            }
            other => panic!("expected NotLeader, got {other:?}"),
        }
        match tools.relation_get(&id, &Bag::App("demo".into())) {
            Err(HookToolError::PermissionDenied { .. }) => {}
            other => panic!("expected PermissionDenied, got {other:?}"),
        }
        let remote = tools
            .relation_get(&id, &Bag::App("postgresql".into()))
            .map_err(fail)?;
        assert_eq!(remote.get("endpoints").map(String::as_str), Some("pg:5432"));
        match tools.relation_get(&id, &Bag::Unit("postgresql/9".into())) {
            Err(HookToolError::Failed {
                message,
                exit_code: Some(1),
                ..
            }) => {
                assert_eq!(message, "unknown unit postgresql/9");
            }
            other => panic!("expected unknown unit, got {other:?}"),
        }
        match tools.relation_get(&RelationId::new("db", 4), &Bag::App("postgresql".into())) {
            Err(HookToolError::RelationNotFound { .. }) => {}
            other => panic!("expected RelationNotFound, got {other:?}"),
        }
        Ok(())
    };
    let out = ctx(charm)
        .run(
            ScenarioEvent::config_changed(),
            State::new().with_relation(db(3).with_remote_app_data([("endpoints", "pg:5432")])),
        )
        .unwrap();
    assert!(out.state.relation(3).unwrap().local_app_data.is_empty());
}

#[test]
fn writes_are_read_back_within_the_hook_and_empty_values_delete() {
    let out = ctx(|run| {
        let tools = run.hook_tools();
        let id = RelationId::new("db", 3);
        let set = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        tools
            .relation_set(&id, Scope::App, &set("a", "1"))
            .map_err(fail)?;
        tools
            .relation_set(&id, Scope::App, &set("old", ""))
            .map_err(fail)?;
        let bag = tools
            .relation_get(&id, &Bag::App("demo".into()))
            .map_err(fail)?;
        assert_eq!(bag, set("a", "1"));
        tools
            .relation_set(&id, Scope::Unit, &set("host", "h"))
            .map_err(fail)?;
        let unit = tools
            .relation_get(&id, &Bag::Unit("demo/0".into()))
            .map_err(fail)?;
        assert_eq!(unit.get("host").map(String::as_str), Some("h"));
        Ok(())
    })
    .run(
        ScenarioEvent::config_changed(),
        State::new()
            .with_leader(true)
            .with_relation(db(3).with_local_app_data([("old", "x")])),
    )
    .unwrap();
    let relation = out.state.relation(3).unwrap();
    assert_eq!(
        relation.local_app_data,
        BTreeMap::from([("a".into(), "1".into())])
    );
    assert_eq!(
        relation.local_unit_data.get("host").map(String::as_str),
        Some("h")
    );
}

#[test]
fn relation_ids_sort_as_text_and_omit_the_relation_being_broken() {
    let ids = |broken: Option<u64>| {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let context = ctx(move |run| {
            let ids = run.hook_tools().relation_ids("cache").map_err(fail)?;
            record
                .lock()
                .unwrap()
                .extend(ids.iter().map(ToString::to_string));
            Ok(())
        });
        let state = State::new()
            .with_relation(Relation::new("cache", 2, "redis"))
            .with_relation(Relation::new("cache", 10, "redis"));
        let event = match broken {
            Some(id) => ScenarioEvent::relation_broken(state.relation(id).unwrap()),
            None => ScenarioEvent::update_status(),
        };
        context.run(event, state).unwrap();
        seen.lock().unwrap().clone()
    };
    assert_eq!(ids(None), ["cache:10", "cache:2"]);
    assert_eq!(ids(Some(10)), ["cache:2"]);
}

#[test]
fn a_departing_unit_is_no_longer_listed_and_peers_share_the_app_bag() {
    let peers = Relation::peer("cluster", 1)
        .with_local_app_data([("secret-id", "secret:abc")])
        .with_remote_unit(1, [("k", "v")])
        .with_remote_unit(2, Vec::<(String, String)>::new());
    let out = ctx(|run| {
        let tools = run.hook_tools();
        let id = RelationId::new("cluster", 1);
        assert_eq!(tools.relation_list(&id).map_err(fail)?, ["demo/1"]);
        assert_eq!(
            tools.relation_remote_app(&id).map_err(fail)?.as_deref(),
            Some("demo")
        );
        let app = tools
            .relation_get(&id, &Bag::App("demo".into()))
            .map_err(fail)?;
        assert_eq!(app.get("secret-id").map(String::as_str), Some("secret:abc"));
        // A departed unit's data stays readable.
        let gone = tools
            .relation_get(&id, &Bag::Unit("demo/2".into()))
            .map_err(fail)?;
        assert!(gone.contains_key("ingress-address"));
        Ok(())
    })
    .run(
        ScenarioEvent::relation_departed(&peers, 2),
        State::new().with_relation(peers.clone()),
    );
    let out = out.unwrap();
    assert_eq!(out.calls_to("relation-list").len(), 2);
}

#[test]
fn the_environment_is_what_juju_sets() {
    let relation = db(5).with_remote_unit(0, Vec::<(String, String)>::new());
    let out = ctx(|run| {
        let env = run.env();
        let expect = |k: &str, v: &str| assert_eq!(env.get(k).map(String::as_str), Some(v), "{k}");
        expect("JUJU_DISPATCH_PATH", "hooks/db-relation-changed");
        expect("JUJU_HOOK_NAME", "db-relation-changed");
        expect("JUJU_RELATION", "db");
        expect("JUJU_RELATION_ID", "db:5");
        expect("JUJU_REMOTE_UNIT", "postgresql/0");
        expect("JUJU_REMOTE_APP", "postgresql");
        expect("JUJU_UNIT_NAME", "demo/0");
        expect("JUJU_CHARM_HTTP_PROXY", "http://proxy:3128");
        expect("JUJU_CHARM_NO_PROXY", "");
        assert!(env["JUJU_CONTEXT_ID"].starts_with("demo/0-db-relation-changed-"));
        assert_eq!(
            run.context().proxy.http.as_deref(),
            Some("http://proxy:3128")
        );
        Ok(())
    })
    .run(
        ScenarioEvent::relation_changed(&relation, Some(0)),
        State::new()
            .with_relation(relation.clone())
            .with_model_proxy(ModelProxy {
                http: Some("http://proxy:3128".into()),
                ..ModelProxy::default()
            }),
    );
    out.unwrap();
}

#[test]
fn actions_get_defaulted_params_and_record_results() {
    let out = ctx(|run| {
        let tools = run.hook_tools();
        let params = tools.action_get().map_err(fail)?;
        assert_eq!(params.get_str("who"), Some("world"));
        assert_eq!(params.get("times"), Some(&json!(1)));
        tools
            .action_set(&BTreeMap::from([("greeting.text".into(), "hi".into())]))
            .map_err(fail)?;
        assert!(matches!(
            tools.action_set(&BTreeMap::from([("stdout".into(), "x".into())])),
            Err(HookToolError::Usage { .. })
        ));
        tools.action_fail("").map_err(fail)?;
        Ok(())
    })
    .run(
        ScenarioEvent::action("greet", [("who", json!("world"))]),
        State::new(),
    )
    .unwrap();
    assert_eq!(out.action.results["greeting.text"], "hi");
    assert_eq!(
        out.action.failure.as_deref(),
        Some("action failed without reason given, check action for errors")
    );
    let outside = ctx(|run| match run.hook_tools().action_get() {
        Err(HookToolError::NotRunningAction { .. }) => Ok(()),
        other => Err(fail(format!("{other:?}"))),
    });
    outside.run(ScenarioEvent::install(), State::new()).unwrap();
}

#[test]
fn app_secrets_are_the_leaders_and_consumers_see_their_tracked_revision() {
    let charm = |run: &HookRun<'_>| {
        let tools = run.hook_tools();
        let content = SecretContent::new([("secret-key", "s3cr3t")]).unwrap();
        let options = SecretAddOptions {
            label: Some("key".into()),
            ..SecretAddOptions::default()
        };
        let leader = tools.is_leader().map_err(fail)?;
        match tools.secret_add(&content, &options) {
            Ok(uri) => {
                assert!(leader);
                let read = tools
                    .secret_get(&SecretRef::Label("key".into()), SecretGetOptions::default())
                    .map_err(fail)?;
                assert_eq!(read.get("secret-key"), Some("s3cr3t"));
                assert_eq!(tools.secret_ids().map_err(fail)?, [uri.xid().to_owned()]);
            }
            Err(HookToolError::NotLeader { .. }) => assert!(!leader),
            Err(e) => return Err(fail(e)),
        }
        Ok(())
    };
    let out = ctx(charm)
        .run(
            ScenarioEvent::leader_elected(),
            State::new().with_leader(true),
        )
        .unwrap();
    assert_eq!(out.state.secrets.len(), 1);
    assert_eq!(out.state.secrets[0].owner, Some(SecretOwner::Application));
    let out = ctx(charm)
        .run(ScenarioEvent::install(), State::new())
        .unwrap();
    assert!(out.state.secrets.is_empty());

    let uri: juju_runtime::SecretUri = "secret:cs00000000000000000042".parse().unwrap();
    let granted = Secret::new(
        uri.clone(),
        None,
        SecretContent::new([("password", "one")]).unwrap(),
    )
    .with_new_revision(SecretContent::new([("password", "two")]).unwrap());
    let out = ctx(move |run| {
        let tools = run.hook_tools();
        let by_uri = SecretRef::Uri(uri.clone());
        let get = |peek, refresh| {
            tools
                .secret_get(&by_uri, SecretGetOptions { peek, refresh })
                .map(|c| c.get("password").map(str::to_owned))
        };
        assert_eq!(get(false, false).map_err(fail)?.as_deref(), Some("one"));
        assert_eq!(get(true, false).map_err(fail)?.as_deref(), Some("two"));
        assert_eq!(get(false, false).map_err(fail)?.as_deref(), Some("one"));
        assert_eq!(get(false, true).map_err(fail)?.as_deref(), Some("two"));
        assert_eq!(get(false, false).map_err(fail)?.as_deref(), Some("two"));
        assert!(matches!(
            tools.secret_info_get(&by_uri),
            Err(HookToolError::SecretNotFound { .. })
        ));
        Ok(())
    })
    .run(ScenarioEvent::install(), State::new().with_secret(granted))
    .unwrap();
    assert_eq!(out.state.secrets[0].tracked_revision, 2);
}

#[test]
fn opened_ports_do_not_show_this_hooks_changes() {
    let out = ctx(|run| {
        let tools = run.hook_tools();
        tools.open_port(Port::Tcp(8080)).map_err(fail)?;
        assert_eq!(tools.opened_ports().map_err(fail)?, [Port::Tcp(80)]);
        assert!(
            tools
                .open_port(Port::Range {
                    protocol: juju_runtime::hook_tools::Protocol::Tcp,
                    from: 1,
                    to: 2
                })
                .is_err()
        );
        Ok(())
    })
    .run(
        ScenarioEvent::config_changed(),
        State {
            opened_ports: [Port::Tcp(80)].into(),
            ..State::new()
        },
    )
    .unwrap();
    assert_eq!(
        out.state.opened_ports,
        [Port::Tcp(80), Port::Tcp(8080)].into()
    );
}

#[test]
fn a_panic_is_a_failed_dispatch_and_logs_are_captured() {
    let err = ctx(|_| {
        tracing::info!(answer = 42, "about to fail");
        panic!("bad input");
    })
    .run(ScenarioEvent::install(), State::new())
    .unwrap_err();
    let failure = err.failure().unwrap();
    assert_eq!(failure.exit_code, 101);
    assert_eq!(failure.stderr, "charm panicked: bad input\n");
    assert!(
        failure.output.logs.contains("about to fail"),
        "{}",
        failure.output.logs
    );
    assert!(failure.output.logs.contains("answer=42"));
}

const WEB_LAYER: &str = r#"
services:
  web:
    override: replace
    command: /bin/web
    startup: enabled
    environment: {PORT: "8080"}
  worker:
    override: replace
    command: /bin/worker
    startup: enabled
checks:
  up:
    override: replace
    level: ready
    tcp: {port: 8080}
"#;

fn layer(yaml: &str) -> Layer {
    Layer::from_yaml(yaml).unwrap()
}

/// A charm that adds `WEB_LAYER` with `web`'s PORT from config and replans unless the
/// plan already satisfies it.
fn layered_charm(run: &HookRun<'_>) -> Result<(), CharmFailure> {
    let port = run.hook_tools().config_get().map_err(fail)?["port"].to_string();
    let mut wanted = layer(WEB_LAYER);
    if let Some(web) = wanted.services.get_mut("web") {
        web.environment.insert("PORT".into(), port);
    }
    let pebble = run.pebble("web");
    block_on(async {
        let plan = pebble.plan().await?;
        if !plan.satisfies(&wanted) {
            pebble.add_layer("demo", &wanted, true).await?;
            pebble.replan().await?;
        }
        Ok::<_, PebbleError>(())
    })
    .map_err(fail)
}

#[test]
fn replan_starts_what_is_enabled_and_restarts_only_what_changed() {
    let context = ctx(layered_charm);
    let first = context
        .run(
            ScenarioEvent::pebble_ready("web"),
            State::new().with_container("web", Container::new()),
        )
        .unwrap();
    let started: Vec<_> = first
        .service_transitions
        .iter()
        .map(|t| (t.service.as_str(), t.kind))
        .collect();
    assert_eq!(
        started,
        [
            ("web", ServiceTransitionKind::Started),
            ("worker", ServiceTransitionKind::Started)
        ]
    );

    let again = context
        .run(ScenarioEvent::update_status(), first.state.clone())
        .unwrap();
    assert!(
        again.pebble_writes().is_empty(),
        "{:?}",
        again.pebble_writes()
    );
    assert!(again.service_transitions.is_empty());

    let changed = context
        .run(
            ScenarioEvent::config_changed(),
            first.state.clone().with_config("port", 9090),
        )
        .unwrap();
    assert_eq!(changed.restarted_services(), [("web", "web")]);
    assert_eq!(changed.service_transitions.len(), 1);
}

#[test]
fn an_unreachable_container_fails_every_call_with_cannot_connect() {
    let err = ctx(layered_charm)
        .run(
            ScenarioEvent::update_status(),
            State::new().with_container("web", Container::unreachable()),
        )
        .unwrap_err();
    let failure = err.failure().unwrap();
    assert!(
        failure
            .stderr
            .starts_with("cannot connect to Pebble at /charm/containers/web/pebble.socket"),
        "{}",
        failure.stderr
    );
    assert_eq!(failure.output.pebble_calls.len(), 1);
    assert!(!failure.output.pebble_calls[0].succeeded);
}

#[test]
fn layers_need_override_and_a_free_label_unless_combined() {
    ctx(|run| {
        let pebble = run.pebble("web");
        block_on(async {
            let bare = layer("services: {web: {command: /bin/web}}");
            let err = pebble.add_layer("a", &bare, false).await.unwrap_err();
            assert!(
                err.to_string()
                    .contains("must define \"override\" for service \"web\""),
                "{err}"
            );
            let good = layer(WEB_LAYER);
            pebble.add_layer("a", &good, false).await.unwrap();
            let err = pebble.add_layer("a", &good, false).await.unwrap_err();
            assert!(
                err.to_string().contains("layer \"a\" already exists"),
                "{err}"
            );
            let merge = layer("services: {web: {override: merge, environment: {EXTRA: '1'}}}");
            pebble.add_layer("a", &merge, true).await.unwrap();
            let plan = pebble.plan().await.unwrap();
            assert_eq!(plan.services["web"].environment.len(), 2);
        });
        Ok(())
    })
    .run(
        ScenarioEvent::pebble_ready("web"),
        State::new().with_container("web", Container::new()),
    )
    .unwrap();
}

#[test]
fn exec_answers_by_longest_prefix_and_files_need_their_parent() {
    let container = Container::new()
        .with_exec(["indico"], ExecResult::ok("generic"))
        .with_exec(["indico", "db"], ExecResult::fail(3, "no database\n"))
        .with_exec_fn(["env"], |request: &ExecRequest| {
            ExecResult::ok(request.environment.get("A").cloned().unwrap_or_default())
        });
    let out = ctx(|run| {
        let pebble = run.pebble("web");
        block_on(async {
            let out = pebble
                .exec(&ExecRequest::new(["indico", "shell"]))
                .await
                .unwrap();
            assert_eq!(out.stdout_text(), "generic");
            match pebble
                .exec(&ExecRequest::new(["indico", "db", "upgrade"]))
                .await
            {
                Err(PebbleError::Exec(e)) => {
                    assert_eq!(
                        (e.exit_code, e.stderr_text().as_str()),
                        (3, "no database\n")
                    );
                }
                other => panic!("{other:?}"),
            }
            let mut request = ExecRequest::new(["env"]);
            request.environment.insert("A".into(), "from-env".into());
            assert_eq!(
                pebble.exec(&request).await.unwrap().stdout_text(),
                "from-env"
            );
            assert!(pebble.exec(&ExecRequest::new(["git"])).await.is_err());

            let err = pebble
                .push("/etc/app/app.conf", b"x", &PushOptions::default())
                .await
                .unwrap_err();
            assert!(err.is_not_found(), "{err}");
            let options = PushOptions {
                make_dirs: true,
                permissions: Some(0o600),
                ..PushOptions::default()
            };
            pebble
                .push("/etc/app/app.conf", b"x", &options)
                .await
                .unwrap();
            assert_eq!(pebble.pull("/etc/app/app.conf").await.unwrap(), b"x");
            let listed = pebble.list_files("/etc/app", None, false).await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].permissions, 0o600);
        });
        Ok(())
    })
    .run(
        ScenarioEvent::pebble_ready("web"),
        State::new().with_container("web", container),
    )
    .unwrap();
    let execs = out
        .pebble_calls_to("web")
        .into_iter()
        .filter(|c| matches!(c, PebbleCall::Exec { .. }))
        .count();
    assert_eq!(execs, 4);
    assert_eq!(out.pushed_files("web")["/etc/app/app.conf"], b"x");
    assert_eq!(
        out.state.containers["web"].files["/etc/app/app.conf"].permissions,
        0o600
    );
}

#[test]
fn a_service_that_exits_at_once_fails_the_replan_and_stays_in_error() {
    let out = ctx(|run| {
        let pebble = run.pebble("web");
        block_on(async {
            pebble
                .add_layer("demo", &layer(WEB_LAYER), true)
                .await
                .unwrap();
            match pebble.replan().await {
                Err(PebbleError::ChangeFailed { kind, err, .. }) => {
                    assert_eq!(kind, "replan");
                    assert!(err.contains("Start service \"worker\""), "{err}");
                    assert!(!err.contains("\"web\""), "{err}");
                }
                other => panic!("expected ChangeFailed, got {other:?}"),
            }
            let services = pebble.services(&[]).await.unwrap();
            let current: Vec<_> = services
                .iter()
                .map(|s| (s.name.as_str(), s.current))
                .collect();
            assert_eq!(
                current,
                [
                    ("web", pebble_client::ServiceStatus::Active),
                    ("worker", pebble_client::ServiceStatus::Error)
                ]
            );
        });
        Ok(())
    })
    .run(
        ScenarioEvent::pebble_ready("web"),
        State::new().with_container("web", Container::new().with_failing_service("worker")),
    )
    .unwrap();
    assert_eq!(out.state.containers["web"].running_services(), ["web"]);
}
