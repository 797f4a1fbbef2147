//! Plan tests: a fully related state and variations of it, plus golden files for the rendered
//! configuration and layers (`UPDATE_GOLDEN=1 cargo test` rewrites them; review the diff).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use juju_runtime::{RelationId, Status};
use pebble_client::Layer;
use serde_json::json;

use super::*;
use crate::config::{CharmConfig, ConfigError};
use crate::interfaces::Availability;
use crate::interfaces::database::DatabaseConnection;
use crate::interfaces::peers::{PeerAppData, PeerError, Peers};
use crate::interfaces::redis::RedisEndpoint;
use crate::proxy::{HTTP_PROXY_VAR, HTTPS_PROXY_VAR, NO_PROXY_VAR, ProxySettings};
use crate::sensitive::Sensitive;
use crate::state::{
    ContainerState, DatabaseRelation, MigrationState, SecretKeyState, State, UnitIdentity,
};

const PASSWORD: &str = "db-p@ss/w0rd";
const SECRET_KEY: &str = "the-secret-key-0123456789";

fn config(values: serde_json::Value) -> Result<CharmConfig, ConfigError> {
    let serde_json::Value::Object(map) = values else {
        panic!("config must be an object")
    };
    CharmConfig::parse(&map, "indico")
}

/// Leader of a fully related application whose schema matches the image.
pub(crate) fn ready_state() -> State {
    State {
        unit: UnitIdentity {
            app: "indico".into(),
            unit: "indico/0".into(),
            model: "events".into(),
        },
        leader: true,
        config: config(json!({})),
        proxy: Ok(ProxySettings::default()),
        database_relation: Some(DatabaseRelation {
            id: RelationId::new("database", 3),
            write_request: false,
        }),
        database: Ok(Availability::Ready(DatabaseConnection {
            host: "postgresql-k8s-primary".into(),
            port: 5432,
            database: "indico".into(),
            username: "relation_3".into(),
            password: Sensitive::new(PASSWORD.into()),
        })),
        redis_broker: Ok(Availability::Ready(RedisEndpoint {
            host: "redis-broker-0".into(),
            port: 6379,
        })),
        redis_cache: Ok(Availability::Ready(RedisEndpoint {
            host: "redis-cache-0".into(),
            port: 6380,
        })),
        peers: Ok(Some(Peers {
            relation_id: RelationId::new("indico-peers", 1),
            app: PeerAppData {
                celery_unit: Some("indico/0".into()),
                migrated_version: Some("3.2.9".into()),
                ..PeerAppData::default()
            },
            raw_app: Databag::from([
                ("celery-unit".into(), "indico/0".into()),
                ("migrated-version".into(), "3.2.9".into()),
            ]),
            other_units: BTreeSet::from(["indico/1".to_owned()]),
        })),
        departing_unit: None,
        secret_key: SecretKeyState::Available(Sensitive::new(SECRET_KEY.into())),
        migration: MigrationState {
            migrated_version: Some("3.2.9".into()),
            image_version: Some("3.2.9".into()),
            blocked: None,
        },
        containers: ContainerName::ALL
            .into_iter()
            .map(|c| {
                (
                    c,
                    ContainerState {
                        reachable: true,
                        current_plan: None,
                    },
                )
            })
            .collect(),
        extensions: Default::default(),
        optional: Default::default(),
    }
}

fn proxy(pairs: &[(&str, &str)]) -> ProxySettings {
    let env: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ProxySettings::from_env(|name| env.get(name).cloned()).unwrap()
}

fn service_env<'a>(
    pod: &'a DesiredPod,
    container: ContainerName,
    service: &str,
) -> &'a BTreeMap<String, String> {
    &pod.containers[&container].layer.services[service].environment
}

#[test]
fn a_ready_leader_configures_every_container_and_is_active_pending_health() {
    let pod = plan(&ready_state()).unwrap();
    assert_eq!(pod.containers.len(), 4);
    assert_eq!(pod.status, Status::Active);
    assert_eq!(pod.workload_version.as_deref(), Some("3.2.9"));
    assert!(pod.relation_writes.is_empty(), "{:?}", pod.relation_writes);
    let env = service_env(&pod, ContainerName::Indico, layers::INDICO_SERVICE);
    assert_eq!(env["INDICO_BASE_URL"], "http://indico.local");
    assert_eq!(
        env["INDICO_SQLALCHEMY_DATABASE_URI"],
        "postgresql://relation_3:db-p%40ss%2Fw0rd@postgresql-k8s-primary:5432/indico"
    );
    assert_eq!(env["INDICO_CELERY_BROKER"], "redis://redis-broker-0:6379/0");
    assert_eq!(
        env["INDICO_REDIS_CACHE_URL"],
        "redis://redis-cache-0:6380/0"
    );
    assert_eq!(env["INDICO_ENABLE_ROOMBOOKING"], "false");
    assert_eq!(env["INDICO_SECRET_KEY"], SECRET_KEY);
    assert_eq!(env[layers::CONFIG_HASH_VAR].len(), 64);
}

#[test]
fn debug_output_of_the_plan_never_shows_secrets() {
    let pod = plan(&ready_state()).unwrap();
    let shown = format!("{pod:?} {:?}", ready_state());
    assert!(!shown.contains(SECRET_KEY), "{shown}");
    assert!(!shown.contains("p@ss"), "{shown}");
    assert!(!shown.contains("p%40ss"), "{shown}");
}

#[test]
fn config_changes_reach_the_environment_as_typed_values() {
    let mut state = ready_state();
    state.config = config(json!({
        "enable_roombooking": true,
        "customization_debug": true,
        "site_url": "https://events.example.com:8443",
    }));
    let pod = plan(&state).unwrap();
    let env = service_env(&pod, ContainerName::IndicoCelery, layers::CELERY_SERVICE);
    assert_eq!(env["INDICO_ENABLE_ROOMBOOKING"], "true");
    assert_eq!(env["INDICO_CUSTOMIZATION_DEBUG"], "true");
    assert_eq!(env["INDICO_BASE_URL"], "https://events.example.com:8443");
}

#[test]
fn every_proxy_variable_reaches_indico_and_celery() {
    let mut state = ready_state();
    state.proxy = Ok(proxy(&[
        (HTTP_PROXY_VAR, "http://squid:3128"),
        (HTTPS_PROXY_VAR, "http://squid:3129"),
        (NO_PROXY_VAR, "localhost,.svc"),
    ]));
    let pod = plan(&state).unwrap();
    for (container, service) in [
        (ContainerName::Indico, layers::INDICO_SERVICE),
        (ContainerName::IndicoCelery, layers::CELERY_SERVICE),
    ] {
        let env = service_env(&pod, container, service);
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            assert!(env.contains_key(var), "{container} lacks {var}");
        }
        assert_eq!(env["https_proxy"], "http://squid:3129/");
    }
}

#[test]
fn a_file_change_changes_only_the_dependent_service_definition() {
    let before = plan(&ready_state()).unwrap();
    let mut state = ready_state();
    state.config = config(json!({"site_url": "https://events.example.com"}));
    let after = plan(&state).unwrap();
    let nginx = |pod: &DesiredPod| pod.containers[&ContainerName::IndicoNginx].layer.clone();
    assert_ne!(
        nginx(&before).services[layers::NGINX_SERVICE].environment[layers::CONFIG_HASH_VAR],
        nginx(&after).services[layers::NGINX_SERVICE].environment[layers::CONFIG_HASH_VAR],
        "HSTS changes nginx.conf, so the nginx service definition must change"
    );
    assert_eq!(
        before.containers[&ContainerName::Indico].layer.services[layers::INDICO_SERVICE]
            .environment[layers::CONFIG_HASH_VAR],
        after.containers[&ContainerName::Indico].layer.services[layers::INDICO_SERVICE].environment
            [layers::CONFIG_HASH_VAR],
        "the uWSGI ini did not change"
    );
    assert_eq!(
        before.containers[&ContainerName::NginxPrometheusExporter],
        after.containers[&ContainerName::NginxPrometheusExporter]
    );
}

#[test]
fn planning_twice_gives_the_same_pod() {
    assert_eq!(plan(&ready_state()).unwrap(), plan(&ready_state()).unwrap());
}

#[test]
fn invalid_config_blocks_and_configures_nothing() {
    let mut state = ready_state();
    state.config = config(json!({"site_url": "no-scheme.example.com"}));
    let pod = plan(&state).unwrap();
    assert_eq!(
        pod.status,
        Status::Blocked("Configuration option site_url is not valid".into())
    );
    assert!(pod.containers.is_empty());
}

#[test]
fn an_invalid_model_proxy_blocks_naming_the_setting() {
    let mut state = ready_state();
    let env = BTreeMap::from([(HTTP_PROXY_VAR.to_owned(), "squid:3128".to_owned())]);
    state.proxy = ProxySettings::from_env(|n| env.get(n).cloned());
    let pod = plan(&state).unwrap();
    let Status::Blocked(message) = &pod.status else {
        panic!("expected Blocked, got {:?}", pod.status)
    };
    assert!(message.contains("JUJU_CHARM_HTTP_PROXY"), "{message}");
    assert!(pod.containers.is_empty());
}

#[test]
fn missing_relations_wait_in_the_documented_order() {
    let mut state = ready_state();
    state.database = Ok(Availability::NotRelated);
    state.redis_cache = Ok(Availability::Pending);
    state.redis_broker = Ok(Availability::NotRelated);
    let status = |s: &State| plan(s).unwrap().status;
    assert_eq!(
        status(&state),
        Status::Waiting("Waiting for redis-broker availability".into())
    );
    state.redis_broker = ready_state().redis_broker;
    assert_eq!(
        status(&state),
        Status::Waiting("Waiting for redis-cache availability".into())
    );
    state.redis_cache = ready_state().redis_cache;
    assert_eq!(
        status(&state),
        Status::Waiting("Waiting for database availability".into())
    );
    let pod = plan(&state).unwrap();
    assert_eq!(
        pod.containers.keys().copied().collect::<Vec<_>>(),
        [
            ContainerName::IndicoNginx,
            ContainerName::NginxPrometheusExporter
        ],
        "nginx and the exporter need nothing but valid config"
    );
}

#[test]
fn bad_relation_data_blocks_with_the_relation_and_key() {
    let mut state = ready_state();
    state.peers = Err(PeerError {
        key: "secret-id",
        reason: "not a secret URI",
    });
    assert_eq!(
        plan(&state).unwrap().status,
        Status::Blocked(
            "relation indico-peers: key secret-id is not valid: not a secret URI".into()
        )
    );
}

#[test]
fn an_unreachable_container_waits_for_pebble_and_is_skipped() {
    let mut state = ready_state();
    state.containers.insert(
        ContainerName::IndicoCelery,
        ContainerState {
            reachable: false,
            current_plan: None,
        },
    );
    let pod = plan(&state).unwrap();
    assert_eq!(pod.status, Status::Waiting("Waiting for pebble".into()));
    assert!(!pod.containers.contains_key(&ContainerName::IndicoCelery));
    assert_eq!(pod.containers.len(), 3);
}

#[test]
fn a_non_leader_waits_for_the_secret_key_and_for_migrations() {
    let mut state = ready_state();
    state.leader = false;
    state.secret_key = SecretKeyState::Missing;
    assert_eq!(
        plan(&state).unwrap().status,
        Status::Waiting("Waiting for the leader to publish the secret key".into())
    );
    state.secret_key = ready_state().secret_key;
    state.migration.image_version = Some("3.3.0".into());
    let pod = plan(&state).unwrap();
    assert_eq!(
        pod.status,
        Status::Waiting("Waiting for database migrations".into())
    );
    assert!(!pod.containers.contains_key(&ContainerName::Indico));
    assert!(!pod.containers.contains_key(&ContainerName::IndicoCelery));
    assert!(pod.relation_writes.is_empty(), "non-leaders write nothing");
}

#[test]
fn a_failed_extension_check_blocks() {
    let mut state = ready_state();
    state.migration.blocked = Some(migrations::MISSING_EXTENSIONS_MESSAGE.into());
    assert_eq!(
        plan(&state).unwrap().status,
        Status::Blocked(migrations::MISSING_EXTENSIONS_MESSAGE.into())
    );
}

#[test]
fn the_leader_requests_the_database_in_the_hooks_that_need_it() {
    let mut state = ready_state();
    state.database_relation = Some(DatabaseRelation {
        id: RelationId::new("database", 3),
        write_request: true,
    });
    let pod = plan(&state).unwrap();
    assert_eq!(
        pod.relation_writes,
        [RelationWrite {
            relation: RelationId::new("database", 3),
            data: database::request(),
        }]
    );
    // Other hooks do not write it again.
    assert!(plan(&ready_state()).unwrap().relation_writes.is_empty());
}

fn celery_command(pod: &DesiredPod) -> String {
    pod.containers[&ContainerName::IndicoCelery].layer.services[layers::CELERY_SERVICE]
        .command
        .clone()
        .unwrap_or_default()
}

#[test]
fn celery_beat_runs_on_the_published_unit_only() {
    let pod = plan(&ready_state()).unwrap();
    assert!(
        celery_command(&pod).contains("--beat"),
        "{}",
        celery_command(&pod)
    );
    let mut state = ready_state();
    state.leader = false;
    state.unit.unit = "indico/1".into();
    state.peers = ready_state().peers.map(|p| {
        p.map(|mut p| {
            p.other_units = BTreeSet::from(["indico/0".to_owned()]);
            p
        })
    });
    let pod = plan(&state).unwrap();
    assert!(
        !celery_command(&pod).contains("--beat"),
        "{}",
        celery_command(&pod)
    );
    assert!(celery_command(&pod).contains("indico-celery@indico-1"));
}

#[test]
fn the_leader_reassigns_beat_when_its_unit_departs() {
    let mut state = ready_state();
    if let Ok(Some(peers)) = &mut state.peers {
        peers.app.celery_unit = Some("indico/1".into());
        peers
            .raw_app
            .insert("celery-unit".into(), "indico/1".into());
    }
    state.departing_unit = Some("indico/1".into());
    let pod = plan(&state).unwrap();
    assert_eq!(
        pod.relation_writes,
        [RelationWrite {
            relation: RelationId::new("indico-peers", 1),
            data: Databag::from([("celery-unit".into(), "indico/0".into())]),
        }]
    );
    assert!(celery_command(&pod).contains("--beat"));
}

#[test]
fn checks_follow_the_documented_timings() {
    let pod = plan(&ready_state()).unwrap();
    let celery = &pod.containers[&ContainerName::IndicoCelery].layer.checks["indico-celery-alive"];
    assert!(celery.period.unwrap().as_duration().as_secs() >= 60);
    assert!(celery.timeout.unwrap().as_duration().as_secs() >= 30);
    let indico = &pod.containers[&ContainerName::Indico].layer.checks["indico-ready"];
    assert_eq!(indico.tcp.as_ref().and_then(|t| t.port), Some(8081));
    assert_eq!(indico.level, Some(pebble_client::CheckLevel::Ready));
}

// ---- golden files ----

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn assert_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from the golden file; run with UPDATE_GOLDEN=1 and review the diff.\n--- actual ---\n{actual}"
    );
}

fn file_text(pod: &DesiredPod, container: ContainerName) -> String {
    String::from_utf8(pod.containers[&container].files[0].content.clone()).unwrap()
}

/// The layer with secret values replaced, so golden files hold no credential-looking strings.
fn redacted_layer_yaml(layer: &Layer) -> String {
    let mut layer = layer.clone();
    for service in layer.services.values_mut() {
        for (name, value) in service.environment.iter_mut() {
            if name == "INDICO_SECRET_KEY" || name == "INDICO_SQLALCHEMY_DATABASE_URI" {
                *value = "<redacted>".into();
            }
        }
    }
    layer.to_yaml().unwrap()
}

fn states() -> [(&'static str, State); 3] {
    let mut https = ready_state();
    https.config = config(json!({"site_url": "https://events.example.com:8443"}));
    let mut proxied = ready_state();
    proxied.proxy = Ok(proxy(&[
        (HTTP_PROXY_VAR, "http://squid.internal:3128"),
        (HTTPS_PROXY_VAR, "http://squid.internal:3128"),
        (NO_PROXY_VAR, "127.0.0.1,localhost,.svc.cluster.local"),
    ]));
    [
        ("defaults", ready_state()),
        ("https-port", https),
        ("proxy", proxied),
    ]
}

#[test]
fn golden_nginx_conf_per_state() {
    for (name, state) in states() {
        let pod = plan(&state).unwrap();
        assert_golden(
            &format!("nginx-{name}.conf"),
            &file_text(&pod, ContainerName::IndicoNginx),
        );
    }
}

#[test]
fn golden_uwsgi_ini_which_no_state_changes() {
    let [(_, defaults), rest @ ..] = states();
    let ini = file_text(&plan(&defaults).unwrap(), ContainerName::Indico);
    assert_golden("uwsgi.ini", &ini);
    for (name, state) in rest {
        assert_eq!(
            file_text(&plan(&state).unwrap(), ContainerName::Indico),
            ini,
            "{name}"
        );
    }
}

/// The value of `key = value` in a rendered ini.
fn ini_value(ini: &str, key: &str) -> u32 {
    ini.lines()
        .find_map(|line| line.strip_prefix(key)?.trim_start().strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key} in\n{ini}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{key}: {e}"))
}

#[test]
fn uwsgi_workers_reach_their_request_limits_at_different_counts() {
    // uWSGI recycles worker i (1-based) after max-requests + i * max-requests-delta requests.
    // Workers share the load evenly, so equal limits would reload them all at once, and no
    // request is answered while each loads Indico again.
    let ini = file_text(&plan(&ready_state()).unwrap(), ContainerName::Indico);
    let processes = ini_value(&ini, "processes");
    let max = ini_value(&ini, "max-requests");
    let delta = ini_value(&ini, "max-requests-delta");
    assert!(processes >= 2, "{ini}");
    let limits: BTreeSet<u32> = (1..=processes).map(|i| max + i * delta).collect();
    assert_eq!(limits.len(), processes as usize, "limits {limits:?}");
    // Spread across one cycle: the last worker's extra stays within one max-requests.
    assert!(
        delta * processes <= max,
        "delta {delta} x {processes} > {max}"
    );
}

#[test]
fn uwsgi_processes_and_threads_follow_the_config_and_restart_uwsgi_only() {
    let defaults = plan(&ready_state()).unwrap();
    let mut state = ready_state();
    state.config = config(json!({"uwsgi_processes": 4, "uwsgi_threads": 1}));
    let tuned = plan(&state).unwrap();
    let ini = file_text(&tuned, ContainerName::Indico);
    assert_eq!(ini_value(&ini, "processes"), 4);
    assert_eq!(ini_value(&ini, "threads"), 1);
    let limits: BTreeSet<u32> = (1..=4)
        .map(|i| ini_value(&ini, "max-requests") + i * ini_value(&ini, "max-requests-delta"))
        .collect();
    assert_eq!(limits.len(), 4, "{ini}");
    // The ini's hash is in uWSGI's layer, so Pebble restarts uWSGI; Celery and nginx keep
    // their layers and are not restarted.
    for (container, changes) in [
        (ContainerName::Indico, true),
        (ContainerName::IndicoCelery, false),
        (ContainerName::IndicoNginx, false),
    ] {
        assert_eq!(
            defaults.containers[&container].layer != tuned.containers[&container].layer,
            changes,
            "{container}"
        );
    }
}

#[test]
fn golden_layers_per_state() {
    for (name, state) in states() {
        let pod = plan(&state).unwrap();
        for container in [
            ContainerName::Indico,
            ContainerName::IndicoCelery,
            ContainerName::IndicoNginx,
        ] {
            assert_golden(
                &format!("layer-{container}-{name}.yaml"),
                &redacted_layer_yaml(&pod.containers[&container].layer),
            );
        }
    }
    let pod = plan(&ready_state()).unwrap();
    assert_golden(
        "layer-nginx-prometheus-exporter.yaml",
        &redacted_layer_yaml(&pod.containers[&ContainerName::NginxPrometheusExporter].layer),
    );
}

/// The rendered nginx.conf passes `nginx -t` with Debian's nginx (installed on the CI host).
#[test]
fn rendered_nginx_conf_is_accepted_by_real_nginx() {
    for (name, state) in states() {
        let pod = plan(&state).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("nginx.conf");
        // The pid file goes into the temp dir so the test needs no write access to /run.
        let text = file_text(&pod, ContainerName::IndicoNginx).replace(
            "pid /run/nginx.pid;",
            &format!("pid {}/nginx.pid;", dir.path().display()),
        );
        std::fs::write(&conf, text).unwrap();
        let output = std::process::Command::new("nginx")
            .arg("-t")
            .arg("-q")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .output()
            .expect("nginx must be installed (Debian package nginx)");
        assert!(
            output.status.success(),
            "nginx -t rejected nginx-{name}.conf: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every planned layer is accepted by a real Pebble (which rejects unknown fields and invalid
/// checks), and the plan Pebble then reports satisfies it: the basis of the no-op hook.
#[tokio::test(flavor = "current_thread")]
async fn real_pebble_accepts_every_layer_and_reports_a_satisfying_plan() {
    for (name, state) in states() {
        let daemon = crate::pebble_daemon::PebbleDaemon::start();
        let client = pebble_client::Client::new(daemon.socket()).unwrap();
        let pod = plan(&state).unwrap();
        for (container, desired) in &pod.containers {
            client
                .add_layer(layers::LABEL, &desired.layer, true)
                .await
                .unwrap_or_else(|e| panic!("{name}/{container}: {e}"));
        }
        let current = client.plan().await.unwrap();
        for (container, desired) in &pod.containers {
            assert!(current.satisfies(&desired.layer), "{name}/{container}");
        }
        // Adding the same layers again changes nothing Pebble reports.
        for desired in pod.containers.values() {
            client
                .add_layer(layers::LABEL, &desired.layer, true)
                .await
                .unwrap();
        }
        assert_eq!(client.plan().await.unwrap(), current, "{name}");
    }
}
