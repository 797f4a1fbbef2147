//! Convergence, as a property (issue #7): from any start, after any sequence of Juju events
//! and input changes (config and model proxy changes, relations added, changed and removed,
//! pebble-ready with or without a container restart that loses its layers and files,
//! leadership changes, update-status), the unit's Pebble plans, files, opened ports,
//! published relation data and status equal those of a fresh unit given the same final
//! inputs; and one more update-status then makes no Pebble write and no relation-set.
//! (A Loki target the charm disabled, since Pebble cannot delete one, counts as none.)
//!
//! "The same final inputs" are what Juju and the rest of the application hold at the end:
//! config, model proxy, leadership, every relation's remote bags, the secrets, and the peer
//! application bag (shared by all units; a fresh unit joining an existing application finds
//! it as it is). While this unit is not the leader, another unit leads and keeps the peer
//! record of related optional endpoints up to date, as the charm's leader does.
//!
//! One exception, by design: a unit that cannot configure a container (a dependency missing
//! or pending, or a Blocked input, which never reaches Pebble: see `bad_input_matrix.rs`)
//! leaves it running as it was, where a fresh unit has nothing yet. So a container's plan,
//! files and services are compared where the fresh unit configured it, and the published
//! relation data unless the fresh unit is Blocked; the status and opened ports always.

#[path = "fixtures/indico_scenario.rs"]
mod fixtures;

use std::collections::{BTreeMap, BTreeSet};

use charm_scenario::{
    Container, ModelProxy, Output, PebbleCall, Relation, RelationKind, ScenarioEvent, State,
};
use fixtures::*;
use proptest::prelude::*;
use serde_json::{Value, json};

const INGRESS_ID: u64 = 20;
const ROUTE_ID: u64 = 21;
const LOGGING_ID: u64 = 30;
/// The optional endpoints in the order the charm records them (`OPTIONAL_ENDPOINTS`).
const OPTIONAL_ORDER: [&str; 6] = ["ingress", "nginx-route", "logging", "s3", "saml", "smtp"];

/// A relation the sequence can add, change and remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rel {
    Database,
    Broker,
    Cache,
    S3,
    Saml,
    Smtp,
    Ingress,
    NginxRoute,
    Logging,
}

const RELS: [Rel; 9] = [
    Rel::Database,
    Rel::Broker,
    Rel::Cache,
    Rel::S3,
    Rel::Saml,
    Rel::Smtp,
    Rel::Ingress,
    Rel::NginxRoute,
    Rel::Logging,
];

impl Rel {
    fn id(self) -> u64 {
        match self {
            Rel::Database => DATABASE_ID,
            Rel::Broker => BROKER_ID,
            Rel::Cache => CACHE_ID,
            Rel::S3 => S3_ID,
            Rel::Saml => SAML_ID,
            Rel::Smtp => SMTP_ID,
            Rel::Ingress => INGRESS_ID,
            Rel::NginxRoute => ROUTE_ID,
            Rel::Logging => LOGGING_ID,
        }
    }

    /// The relation as its provider answers it; `variant` changes one value (a rotated
    /// password, another port, bucket, host ...).
    fn relation(self, variant: u8) -> Relation {
        let v = u32::from(variant);
        match self {
            Rel::Database => {
                let mut relation = database_relation();
                relation
                    .remote_app_data
                    .insert("password".into(), format!("{DB_PASSWORD}-{v}"));
                relation
            }
            Rel::Broker | Rel::Cache => {
                let mut relation = if self == Rel::Broker {
                    broker_relation()
                } else {
                    cache_relation()
                };
                relation
                    .remote_units_data
                    .entry(0)
                    .or_default()
                    .insert("port".into(), (6379 + v).to_string());
                relation
            }
            Rel::S3 => Relation::new("s3", S3_ID, "s3-integrator")
                .with_interface("s3")
                .with_remote_app_data([
                    ("access-key", "AKIAINDICOEXAMPLE".to_owned()),
                    (
                        "secret-key",
                        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
                    ),
                    ("bucket", format!("indico-attachments-{v}")),
                    ("endpoint", "https://s3.example.com".to_owned()),
                    ("region", "eu-west-1".to_owned()),
                    ("s3-uri-style", "path".to_owned()),
                ])
                .with_remote_unit(0, Vec::<(String, String)>::new()),
            Rel::Saml => Relation::new("saml", SAML_ID, "saml-integrator")
                .with_interface("saml")
                .with_remote_app_data([
                    ("entity_id", format!("https://login{v}.example.com")),
                    (
                        "metadata_url",
                        format!("https://login{v}.example.com/saml/metadata"),
                    ),
                    ("x509certs", CERT.to_owned()),
                    (
                        "single_sign_on_service_redirect_url",
                        format!("https://login{v}.example.com/saml/"),
                    ),
                    (
                        "single_sign_on_service_redirect_binding",
                        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect".to_owned(),
                    ),
                ])
                .with_remote_unit(0, Vec::<(String, String)>::new()),
            Rel::Smtp => Relation::new("smtp", SMTP_ID, "smtp-integrator")
                .with_interface("smtp")
                .with_remote_app_data([
                    ("host", format!("smtp{v}.example.com")),
                    ("port", "587".to_owned()),
                    ("user", "indico".to_owned()),
                    ("password_id", SMTP_SECRET_URI.to_owned()),
                    ("auth_type", "plain".to_owned()),
                    ("transport_security", "starttls".to_owned()),
                    ("skip_ssl_verify", "False".to_owned()),
                    ("smtp_sender", "events@example.com".to_owned()),
                ])
                .with_remote_unit(0, Vec::<(String, String)>::new()),
            Rel::Ingress => Relation::new("ingress", INGRESS_ID, "traefik-k8s")
                .with_interface("ingress")
                .with_remote_app_data([(
                    "ingress",
                    format!(r#"{{"url": "https://events{v}.example.com/"}}"#),
                )])
                .with_remote_unit(0, Vec::<(String, String)>::new()),
            Rel::NginxRoute => Relation::new("nginx-route", ROUTE_ID, "nginx-ingress-integrator")
                .with_interface("nginx-route")
                .with_remote_unit(0, Vec::<(String, String)>::new()),
            Rel::Logging => Relation::new("logging", LOGGING_ID, "loki")
                .with_interface("loki_push_api")
                .with_remote_unit(
                    0,
                    [(
                        "endpoint",
                        format!(
                            r#"{{"url": "http://loki-{v}.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push"}}"#
                        ),
                    )],
                ),
        }
    }
}

/// The config values the sequence chooses from (one invalid site_url and one invalid
/// process count, to pass through Blocked).
const CONFIG_CHOICES: [(&str, &[&str]); 4] = [
    (
        "site_url",
        &[
            "",
            "https://events.example.com",
            "http://indico.example.org:8080",
            "https://",
        ],
    ),
    (
        "indico_no_reply_email",
        &["noreply@mydomain.local", "noreply@events.example.com"],
    ),
    ("enable_roombooking", &["false", "true"]),
    ("uwsgi_processes", &["2", "4", "0"]),
];

fn config_value(option: usize, choice: usize) -> (&'static str, Value) {
    let (name, values) = CONFIG_CHOICES[option % CONFIG_CHOICES.len()];
    let value = values[choice % values.len()];
    let value = match name {
        "enable_roombooking" => json!(value == "true"),
        "uwsgi_processes" => json!(value.parse::<u32>().unwrap_or_default()),
        _ => json!(value),
    };
    (name, value)
}

/// The model's HTTP(S) proxy choices (the last one invalid, to pass through Blocked).
const PROXY_CHOICES: [Option<&str>; 3] = [
    None,
    Some("http://squid.internal:3128"),
    Some("ftp://squid.internal"),
];

/// The container names and what a (re)started one looks like: the image's files only.
fn fresh_container(name: &str) -> Container {
    if name == "indico" {
        indico_container()
    } else {
        Container::new()
    }
}

/// One step of a sequence.
#[derive(Clone, Debug)]
enum Step {
    Config {
        option: usize,
        choice: usize,
    },
    /// The model's proxy settings change (Juju then runs config-changed).
    Proxy(usize),
    Relate(Rel),
    Change(Rel, u8),
    Unrelate(Rel),
    PebbleReady {
        container: usize,
        restart: bool,
    },
    Leader(bool),
    UpdateStatus,
}

const CONTAINERS: [&str; 4] = [
    "indico",
    "indico-celery",
    "indico-nginx",
    "nginx-prometheus-exporter",
];

fn rel() -> impl Strategy<Value = Rel> {
    proptest::sample::select(RELS.to_vec())
}

fn step() -> impl Strategy<Value = Step> {
    // Removals are rarer than the rest, so that many sequences end fully related (where
    // every container is configured and compared).
    prop_oneof![
        2 => (0..3usize, 0..4usize).prop_map(|(option, choice)| Step::Config { option, choice }),
        1 => (0..PROXY_CHOICES.len()).prop_map(Step::Proxy),
        2 => rel().prop_map(Step::Relate),
        2 => (rel(), 0..3u8).prop_map(|(r, v)| Step::Change(r, v)),
        1 => rel().prop_map(Step::Unrelate),
        2 => (0..4usize, any::<bool>())
            .prop_map(|(container, restart)| Step::PebbleReady { container, restart }),
        2 => any::<bool>().prop_map(Step::Leader),
        1 => Just(Step::UpdateStatus),
    ]
}

/// The start: leadership, the relations that exist, and config changes, before the unit's
/// initial hooks.
#[derive(Clone, Debug)]
struct Start {
    leader: bool,
    related: BTreeSet<Rel>,
    config: Vec<(usize, usize)>,
}

fn start() -> impl Strategy<Value = Start> {
    // Each relation exists at the start with probability 0.8.
    (
        any::<bool>(),
        proptest::collection::vec(proptest::bool::weighted(0.8), RELS.len()),
        proptest::collection::vec((0..3usize, 0..4usize), 0..3),
    )
        .prop_map(|(leader, present, config)| Start {
            leader,
            related: RELS
                .into_iter()
                .zip(present)
                .filter_map(|(r, p)| p.then_some(r))
                .collect(),
            config,
        })
}

/// The model a new unit starts in: `start`'s inputs and an empty peer application bag.
fn start_state(start: &Start) -> State {
    let mut state = with_containers(
        State::new()
            .with_leader(start.leader)
            .with_relation(peers(Vec::<(String, String)>::new(), &[1]))
            .with_secret(smtp_secret()),
    );
    for r in &start.related {
        state = state.with_relation(r.relation(0));
    }
    for (option, choice) in &start.config {
        let (name, value) = config_value(*option, *choice);
        state.config.insert(name.to_owned(), value);
    }
    other_leader_upkeep(&mut state);
    state
}

/// What another leader maintains while this unit does not lead: the peer record of related
/// optional endpoints (and the S3 bucket in use), as the charm's leader writes them.
fn other_leader_upkeep(state: &mut State) {
    if state.leader {
        return;
    }
    let related: Vec<&str> = OPTIONAL_ORDER
        .into_iter()
        .filter(|endpoint| state.relations_on(endpoint).next().is_some())
        .collect();
    let bucket = state
        .relation(S3_ID)
        .and_then(|r| r.remote_app_data.get("bucket").cloned());
    let Some(peers) = state.relation_mut(PEERS_ID) else {
        return;
    };
    let bag = &mut peers.local_app_data;
    if related.is_empty() {
        bag.remove("related-endpoints");
    } else {
        bag.insert("related-endpoints".into(), related.join(","));
    }
    if let Some(bucket) = bucket {
        bag.insert("s3-bucket-in-use".into(), bucket);
    }
}

/// Runs one event; every hook must exit 0.
fn run(state: State, event: ScenarioEvent) -> Result<Output, TestCaseError> {
    let name = event.hook_name();
    context()
        .run(event, state)
        .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))
}

/// Runs `events` in order on `state`.
fn run_all(mut state: State, events: Vec<ScenarioEvent>) -> Result<State, TestCaseError> {
    for event in events {
        state = run(state, event)?.state;
    }
    Ok(state)
}

/// Applies one step: the input change, then the hooks Juju runs for it.
fn apply(state: State, step: &Step) -> Result<State, TestCaseError> {
    let mut state = state;
    let events = match *step {
        Step::Config { option, choice } => {
            let (name, value) = config_value(option, choice);
            state.config.insert(name.to_owned(), value);
            vec![ScenarioEvent::config_changed()]
        }
        Step::Proxy(choice) => {
            let proxy = PROXY_CHOICES[choice % PROXY_CHOICES.len()].map(str::to_owned);
            state.model_proxy = ModelProxy {
                http: proxy.clone(),
                https: proxy,
                no_proxy: Some("localhost,.svc.cluster.local".to_owned()),
                ..ModelProxy::default()
            };
            vec![ScenarioEvent::config_changed()]
        }
        Step::Relate(r) if state.relation(r.id()).is_none() => {
            let relation = r.relation(0);
            state = state.with_relation(relation.clone());
            other_leader_upkeep(&mut state);
            vec![
                ScenarioEvent::relation_created(&relation),
                ScenarioEvent::relation_joined(&relation, 0),
                ScenarioEvent::relation_changed(&relation, Some(0)),
                ScenarioEvent::relation_changed(&relation, None),
            ]
        }
        Step::Change(r, variant) if state.relation(r.id()).is_some() => {
            let mut relation = r.relation(variant);
            let current = state.relation(r.id()).expect("checked");
            relation.local_app_data = current.local_app_data.clone();
            relation.local_unit_data = current.local_unit_data.clone();
            state = state.with_relation(relation.clone());
            other_leader_upkeep(&mut state);
            vec![ScenarioEvent::relation_changed(&relation, Some(0))]
        }
        Step::Unrelate(r) if state.relation(r.id()).is_some() => {
            let relation = state.relation(r.id()).expect("checked").clone();
            let departed = run(state, ScenarioEvent::relation_departed(&relation, 0))?;
            let mut state = departed.state;
            if let Some(rel) = state.relation_mut(r.id()) {
                rel.remote_units_data.clear();
            }
            let relation = state.relation(r.id()).expect("still there").clone();
            let broken = run(state, ScenarioEvent::relation_broken(&relation))?;
            let mut state = broken.state.without_relation(r.id());
            other_leader_upkeep(&mut state);
            return Ok(state);
        }
        Step::PebbleReady { container, restart } => {
            let name = CONTAINERS[container % CONTAINERS.len()];
            if restart {
                state = state.with_container(name, fresh_container(name));
            }
            vec![ScenarioEvent::pebble_ready(name)]
        }
        Step::Leader(leader) if leader != state.leader => {
            state.leader = leader;
            other_leader_upkeep(&mut state);
            vec![if leader {
                ScenarioEvent::leader_elected()
            } else {
                ScenarioEvent::leader_settings_changed()
            }]
        }
        _ => vec![ScenarioEvent::update_status()],
    };
    run_all(state, events)
}

/// A fresh unit's model holding `finished`'s final inputs.
fn same_inputs(finished: &State) -> State {
    let mut fresh = with_containers(State::new().with_leader(finished.leader));
    fresh.config = finished.config.clone();
    fresh.model_proxy = finished.model_proxy.clone();
    fresh.secrets = finished.secrets.clone();
    for relation in &finished.relations {
        let mut inputs = relation.clone();
        // This unit's own bags are its output. The application's bags are the leader's: a
        // fresh leader must write them itself; a fresh non-leader finds them as they are.
        // The peer application bag is shared state (the secret key's id, the migration
        // marker) that a new unit of an existing application always finds.
        inputs.local_unit_data = charm_scenario::state::default_unit_databag();
        if relation.kind == RelationKind::Regular && finished.leader {
            inputs.local_app_data = Default::default();
        }
        fresh = fresh.with_relation(inputs);
    }
    fresh
}

/// What must depend only on the inputs: the status, what the unit publishes, and per
/// container the plan, the files and the running services (as comparable text).
fn observe(state: &State) -> BTreeMap<String, String> {
    let mut observed = BTreeMap::from([
        ("status".to_owned(), format!("{:?}", state.unit_status)),
        (
            "opened ports".to_owned(),
            format!("{:?}", state.opened_ports),
        ),
    ]);
    for r in &state.relations {
        observed.insert(
            format!("relation {} data", r.relation_id()),
            format!("app {:?} unit {:?}", r.local_app_data, r.local_unit_data),
        );
    }
    for (name, container) in &state.containers {
        // Pebble cannot delete a log target from a layer: the charm disables it
        // (`services: [-all]`), which forwards nothing, as a target never added does.
        let plan = container.plan().map(|mut plan| {
            plan.log_targets.retain(|_, t| t.services != ["-all"]);
            plan
        });
        observed.insert(format!("{name} plan"), format!("{plan:?}"));
        for (path, file) in &container.files {
            observed.insert(
                format!("{name} file {path}"),
                format!(
                    "mode {:o} {}",
                    file.permissions,
                    String::from_utf8_lossy(&file.content)
                ),
            );
        }
        observed.insert(
            format!("{name} running"),
            format!("{:?}", container.running_services()),
        );
    }
    observed
}

/// Whether the fresh unit configured `container` (gave it a layer).
fn configured(state: &State, container: &str) -> bool {
    state
        .container(container)
        .is_some_and(|c| !c.layers.is_empty())
}

/// The keys whose values differ, each with both values (shortened).
fn differences(left: &BTreeMap<String, String>, right: &BTreeMap<String, String>) -> Vec<String> {
    let keys: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    let short = |v: Option<&String>| match v {
        Some(v) if v.chars().count() > 300 => {
            format!("{}...", v.chars().take(300).collect::<String>())
        }
        Some(v) => v.clone(),
        None => "(absent)".to_owned(),
    };
    keys.into_iter()
        .filter(|k| left.get(*k) != right.get(*k))
        .map(|k| {
            format!(
                "{k}:\n  after the sequence: {}\n  fresh unit:         {}",
                short(left.get(k)),
                short(right.get(k))
            )
        })
        .collect()
}

fn check_convergence(start: &Start, steps: &[Step]) -> Result<(), TestCaseError> {
    let initial = start_state(start);
    let mut state = run_all(
        initial.clone(),
        charm_scenario::initial_hook_events(&initial),
    )?;
    for step in steps {
        state = apply(state, step)?;
    }

    let fresh_model = same_inputs(&state);
    let fresh = run_all(
        fresh_model.clone(),
        charm_scenario::initial_hook_events(&fresh_model),
    )?;
    // What the fresh unit leaves unconfigured (a missing dependency, a Blocked input), the
    // converged unit may still run with its last good configuration: compare the rest.
    let unconfigured: Vec<&str> = CONTAINERS
        .into_iter()
        .filter(|c| !configured(&fresh, c))
        .collect();
    // Likewise a Blocked unit publishes nothing new: what it published before stays.
    let blocked = matches!(fresh.unit_status, Some(juju_runtime::Status::Blocked(_)));
    let keep = |k: &String| {
        let unconfigured_container = unconfigured.iter().any(|c| k.starts_with(&format!("{c} ")));
        let held_while_blocked = blocked && k.starts_with("relation ");
        !(unconfigured_container || held_while_blocked)
    };
    let mut after = observe(&state);
    let mut expected = observe(&fresh);
    after.retain(|k, _| keep(k));
    expected.retain(|k, _| keep(k));
    let diff = differences(&after, &expected);
    prop_assert!(diff.is_empty(), "not converged:\n{}", diff.join("\n"));

    let again = run(state, ScenarioEvent::update_status())?;
    let writes: Vec<_> = again
        .pebble_writes()
        .into_iter()
        .map(|c| match &c.call {
            PebbleCall::Push { path, .. } => format!("{}: push {path}", c.container),
            PebbleCall::AddLayer { layer, .. } => {
                format!("{}: add layer {:?}", c.container, layer.summary)
            }
            call => format!("{}: {call:?}", c.container),
        })
        .collect();
    prop_assert!(
        writes.is_empty(),
        "update-status wrote to Pebble: {:?}",
        writes
    );
    prop_assert!(
        again.calls_to("relation-set").is_empty(),
        "update-status wrote relation data: {:?}",
        again.calls_to("relation-set")
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_final_state_depends_only_on_the_final_inputs(
        start in start(),
        steps in proptest::collection::vec(step(), 0..=12),
    ) {
        check_convergence(&start, &steps)?;
    }
}
