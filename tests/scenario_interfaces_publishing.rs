//! Scenario tests of the optional relations where this charm publishes: `ingress` (traefik's
//! ingress v2), `nginx-route`, `metrics-endpoint` (prometheus_scrape), `grafana-dashboard`
//! and `logging` (loki_push_api, plus the Pebble log targets). Writes happen in the relation's
//! own hooks and leader-elected/config-changed/upgrade-charm, only where the bag differs; a
//! repeated hook writes nothing; removal and malformed answers are covered. Also the cost of a
//! no-op hook with every optional relation related.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use std::io::Read as _;

use base64::Engine as _;
use charm_scenario::{Output, Relation, ScenarioEvent, State};
use fixtures::*;
use juju_runtime::Status;
use serde_json::Value;

const INGRESS_ID: u64 = 20;
const ROUTE_ID: u64 = 21;
const METRICS_ID: u64 = 22;
const GRAFANA_ID: u64 = 23;
const LOGGING_ID: u64 = 30;
const LOKI_URL: &str = "http://loki-0.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push";

fn ingress() -> Relation {
    Relation::new("ingress", INGRESS_ID, "traefik-k8s")
        .with_interface("ingress")
        .with_remote_unit(0, Vec::<(String, String)>::new())
}

fn nginx_route() -> Relation {
    Relation::new("nginx-route", ROUTE_ID, "nginx-ingress-integrator")
        .with_interface("nginx-route")
        .with_remote_unit(0, Vec::<(String, String)>::new())
}

fn metrics() -> Relation {
    Relation::new("metrics-endpoint", METRICS_ID, "prometheus-k8s")
        .with_interface("prometheus_scrape")
        .with_remote_unit(0, Vec::<(String, String)>::new())
}

fn grafana() -> Relation {
    Relation::new("grafana-dashboard", GRAFANA_ID, "grafana-k8s")
        .with_interface("grafana_dashboard")
        .with_remote_unit(0, Vec::<(String, String)>::new())
}

/// loki-k8s's unit answer (`LokiPushApiProvider`: unit data `endpoint`).
fn logging() -> Relation {
    Relation::new("logging", LOGGING_ID, "loki")
        .with_interface("loki_push_api")
        .with_remote_unit(0, [("endpoint", format!(r#"{{"url": "{LOKI_URL}"}}"#))])
}

fn app_bag(out: &Output, id: u64) -> &juju_runtime::Databag {
    &out.state.relation(id).unwrap().local_app_data
}

fn unit_bag(out: &Output, id: u64) -> &juju_runtime::Databag {
    &out.state.relation(id).unwrap().local_unit_data
}

/// Every optional relation this file covers, created one after another on the converged
/// leader (each relation-created hook as Juju runs it).
fn all_related(mut state: State) -> Output {
    let ctx = context();
    let relations = [ingress(), nginx_route(), metrics(), grafana(), logging()];
    let mut last = None;
    for relation in relations {
        state = state.with_relation(relation.clone());
        let out = ctx
            .run(ScenarioEvent::relation_created(&relation), state)
            .unwrap();
        state = out.state.clone();
        last = Some(out);
    }
    last.unwrap()
}

#[test]
fn ingress_and_nginx_route_publish_the_service_as_the_libraries_do() {
    let ctx = context();
    let state = ready_leader_state()
        .with_config("site_url", "https://events.example.com")
        .with_relation(ingress())
        .with_relation(nginx_route());
    let out = ctx
        .run(ScenarioEvent::relation_created(&ingress()), state)
        .unwrap();
    let bag = app_bag(&out, INGRESS_ID);
    assert_eq!(bag["model"], "\"test\"");
    assert_eq!(bag["name"], "\"indico\"");
    assert_eq!(bag["port"], "8080");
    assert_eq!(bag["redirect-https"], "true");
    let unit = unit_bag(&out, INGRESS_ID);
    assert!(
        unit["host"].starts_with("\"indico-0.indico-endpoints."),
        "{unit:?}"
    );
    assert_eq!(unit["ip"], "\"192.0.2.0\"");
    assert!(unit.contains_key("ingress-address"), "Juju's own keys stay");

    let out = ctx
        .run(ScenarioEvent::relation_created(&nginx_route()), out.state)
        .unwrap();
    let bag = app_bag(&out, ROUTE_ID);
    assert_eq!(bag["service-hostname"], "events.example.com");
    assert_eq!(bag["service-name"], "indico");
    assert_eq!(bag["service-port"], "8080");
    assert_eq!(bag["service-namespace"], "test");

    // traefik answers with the URL: read back, nothing else to do.
    let mut state = out.state;
    state
        .relation_mut(INGRESS_ID)
        .unwrap()
        .remote_app_data
        .insert(
            "ingress".into(),
            r#"{"url": "https://events.example.com/"}"#.into(),
        );
    let answered = ctx
        .run(ScenarioEvent::relation_changed(&ingress(), Some(0)), state)
        .unwrap();
    assert!(answered.calls_to("relation-set").is_empty());
    assert_eq!(answered.state.unit_status, Some(Status::Active));
    assert!(
        answered.logs.contains("https://events.example.com/"),
        "the URL is logged: {}",
        answered.logs
    );

    // A changed site_url moves the route: config-changed rewrites only the changed key.
    let moved = ctx
        .run(
            ScenarioEvent::config_changed(),
            answered
                .state
                .with_config("site_url", "https://indico.example.org"),
        )
        .unwrap();
    assert_eq!(
        app_bag(&moved, ROUTE_ID)["service-hostname"],
        "indico.example.org"
    );
    let route_writes: Vec<String> = moved
        .calls_to("relation-set")
        .iter()
        .map(|c| format!("{c:?}"))
        .filter(|c| c.contains("nginx-route"))
        .collect();
    assert_eq!(route_writes.len(), 1, "{route_writes:?}");
    assert!(
        !route_writes[0].contains("service-name"),
        "{route_writes:?}"
    );
}

#[test]
fn a_malformed_ingress_answer_blocks_naming_the_key() {
    let ctx = context();
    let state = ready_leader_state().with_relation(ingress());
    let out = ctx
        .run(ScenarioEvent::relation_created(&ingress()), state)
        .unwrap();
    let mut state = out.state;
    state
        .relation_mut(INGRESS_ID)
        .unwrap()
        .remote_app_data
        .insert("ingress".into(), "http://not-json".into());
    let out = ctx
        .run(ScenarioEvent::relation_changed(&ingress(), Some(0)), state)
        .unwrap();
    let blocked = Some(Status::Blocked(
        "relation ingress: key ingress is not valid: not JSON".into(),
    ));
    assert_eq!(out.state.unit_status, blocked);
    assert!(out.pebble_writes().is_empty());
    let later = ctx.run(ScenarioEvent::update_status(), out.state).unwrap();
    assert_eq!(
        later.state.unit_status, blocked,
        "no flapping back to Active"
    );
}

/// Decodes a grafana template's content as the grafana library does.
fn decompress(content: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content)
        .unwrap();
    let mut text = String::new();
    lzma_rust2::XzReader::new(bytes.as_slice(), false)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn metrics_and_dashboards_are_published_once_and_not_rewritten() {
    let ctx = context();
    let out = all_related(ready_leader_state());
    let bag = app_bag(&out, METRICS_ID);
    let jobs: Value = serde_json::from_str(&bag["scrape_jobs"]).unwrap();
    assert_eq!(jobs[0]["static_configs"][0]["targets"][0], "*:9113");
    let metadata: Value = serde_json::from_str(&bag["scrape_metadata"]).unwrap();
    assert_eq!(metadata["application"], "indico");
    let rules: Value = serde_json::from_str(&bag["alert_rules"]).unwrap();
    let alerts: Vec<&str> = rules["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alert"].as_str().unwrap())
        .collect();
    assert!(alerts.contains(&"IndicoNginxDown"), "{alerts:?}");
    let unit = unit_bag(&out, METRICS_ID);
    assert_eq!(unit["prometheus_scrape_unit_name"], "indico/0");
    assert!(unit["prometheus_scrape_unit_address"].starts_with("indico-0.indico-endpoints."));

    let dashboards: Value = serde_json::from_str(&app_bag(&out, GRAFANA_ID)["dashboards"]).unwrap();
    let content = dashboards["templates"]["file:indico-overview"]["content"]
        .as_str()
        .unwrap();
    let dashboard: Value = serde_json::from_str(&decompress(content)).unwrap();
    assert_eq!(dashboard["title"], "Indico overview");

    // The Loki alert rules go on logging.
    let loki_rules: Value =
        serde_json::from_str(&app_bag(&out, LOGGING_ID)["alert_rules"]).unwrap();
    assert_eq!(
        loki_rules["groups"][0]["rules"][0]["alert"],
        "IndicoHighHttp5xxRatio"
    );

    // Every hook that may write compares first: nothing is rewritten.
    for event in [
        ScenarioEvent::config_changed(),
        ScenarioEvent::leader_elected(),
        ScenarioEvent::upgrade_charm(),
        ScenarioEvent::relation_changed(&metrics(), Some(0)),
        ScenarioEvent::relation_joined(&grafana(), 0),
    ] {
        let name = event.hook_name();
        let again = ctx.run(event, out.state.clone()).unwrap();
        // (leader-elected rewrites the database request by design; that is not ours.)
        let optional_writes: Vec<String> = again
            .calls_to("relation-set")
            .iter()
            .map(|c| format!("{c:?}"))
            .filter(|c| !c.contains("\"database\""))
            .collect();
        assert!(optional_writes.is_empty(), "{name}: {optional_writes:?}");
        assert!(again.pebble_writes().is_empty(), "{name}");
        assert_eq!(again.state.unit_status, Some(Status::Active), "{name}");
    }
}

#[test]
fn a_non_leader_writes_only_its_unit_bags() {
    let ctx = context_for_unit(1);
    let mut state = ready_leader_state()
        .with_leader(false)
        .with_relation(metrics())
        .with_relation(ingress());
    let peers_rel = state.relation_mut(PEERS_ID).unwrap();
    peers_rel.remote_units_data = [(0, Default::default())].into_iter().collect();
    let out = ctx
        .run(ScenarioEvent::relation_joined(&metrics(), 0), state)
        .unwrap();
    assert!(
        app_bag(&out, METRICS_ID).is_empty(),
        "only the leader writes app data"
    );
    assert_eq!(
        unit_bag(&out, METRICS_ID)["prometheus_scrape_unit_name"],
        "indico/1"
    );
}

#[test]
fn loki_endpoints_become_log_targets_in_every_container_and_are_disabled_on_removal() {
    let ctx = context();
    let first = ctx
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    let related = ctx
        .run(
            ScenarioEvent::relation_joined(&logging(), 0),
            first.state.with_relation(logging()),
        )
        .unwrap();
    for container in [
        "indico",
        "indico-celery",
        "indico-nginx",
        "nginx-prometheus-exporter",
    ] {
        let plan = related.state.containers[container].plan().unwrap();
        let target = &plan.log_targets["loki/0"];
        assert_eq!(target.location.as_deref(), Some(LOKI_URL), "{container}");
        assert_eq!(target.services, ["all"], "{container}");
        assert_eq!(target.labels["juju_application"], "indico", "{container}");
    }
    assert!(
        related.restarted_services().is_empty(),
        "log forwarding restarts nothing: {:?}",
        related.restarted_services()
    );
    // The record lets a later, unrelated hook see logging: nothing changes.
    let again = ctx
        .run(ScenarioEvent::update_status(), related.state.clone())
        .unwrap();
    assert!(
        again.pebble_writes().is_empty(),
        "{:#?}",
        again.pebble_writes()
    );

    let broken = ctx
        .run(ScenarioEvent::relation_broken(&logging()), related.state)
        .unwrap();
    for container in [
        "indico",
        "indico-celery",
        "indico-nginx",
        "nginx-prometheus-exporter",
    ] {
        let plan = broken.state.containers[container].plan().unwrap();
        assert_eq!(plan.log_targets["loki/0"].services, ["-all"], "{container}");
    }
    assert!(broken.restarted_services().is_empty());
    assert_eq!(broken.state.unit_status, Some(Status::Active));
}

#[test]
fn a_malformed_loki_endpoint_blocks_and_changes_nothing_else() {
    let ctx = context();
    let related = ctx
        .run(
            ScenarioEvent::relation_joined(&logging(), 0),
            ctx.run(ScenarioEvent::config_changed(), ready_leader_state())
                .unwrap()
                .state
                .with_relation(logging()),
        )
        .unwrap();
    let mut input = related.state;
    input
        .relation_mut(LOGGING_ID)
        .unwrap()
        .remote_units_data
        .get_mut(&0)
        .unwrap()
        .insert("endpoint".into(), r#"{"url": "loki:3100"}"#.into());
    let out = ctx
        .run(
            ScenarioEvent::relation_changed(&logging(), Some(0)),
            input.clone(),
        )
        .unwrap();
    let status = Status::Blocked(
        "relation logging: key endpoint of loki/0 is not valid: url is not an http(s) URL".into(),
    );
    assert_eq!(out.state.unit_status, Some(status.clone()));
    assert!(out.pebble_writes().is_empty(), "{:#?}", out.pebble_writes());
    assert!(out.calls_to("relation-set").is_empty());
    let mut expected = input;
    expected.unit_status = Some(status);
    assert_eq!(out.state, expected);
}

#[test]
fn the_no_op_hook_cost_of_the_optional_relations() {
    let ctx = context();
    let core = ctx
        .run(ScenarioEvent::config_changed(), ready_leader_state())
        .unwrap();
    let core_noop = ctx
        .run(ScenarioEvent::update_status(), core.state.clone())
        .unwrap();
    let core_calls = core_noop.hook_tool_calls.len();
    assert!(core_calls <= 20, "{core_calls} hook-tool calls (budget 20)");
    // Core relations only: no optional endpoint is listed (the four are database, both Redis
    // and the peers).
    assert_eq!(core_noop.calls_to("relation-ids").len(), 4);

    let everything = all_related(core.state);
    let noop = ctx
        .run(ScenarioEvent::update_status(), everything.state.clone())
        .unwrap();
    assert_quiet_noop(&noop);
    let calls = noop.hook_tool_calls.len();
    println!(
        "no-op update-status: {core_calls} hook-tool calls with the core relations, {calls} with \
         ingress, nginx-route, metrics-endpoint, grafana-dashboard and logging related too"
    );
    // Per related optional endpoint one relation-ids; logging adds its unit list and the Loki
    // unit's bag; ingress the provider's name and bag (the URL it publishes, checked every hook
    // so that a malformed answer does not flap between Blocked and Active).
    assert_eq!(
        calls,
        core_calls + 5 + 2 + 2,
        "{calls} calls: {:#?}",
        noop.hook_tool_calls
    );
}
