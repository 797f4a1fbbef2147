//! The Pebble layer of each workload container: services, commands, users, environment and
//! health checks (indico-charm.md §1).

use std::collections::BTreeMap;

use pebble_client::{
    Check, CheckLevel, ExecCheck, GoDuration, HttpCheck, Layer, Override, Service, Startup,
    TcpCheck,
};

use super::files::{NGINX_CONF_PATH, STATUS_PORT, UWSGI_INI_PATH, VENV, WEB_PORT};

/// The label every layer of this charm is added under.
pub const LABEL: &str = "indico";
/// Environment variable carrying the hash of the files a service reads.
pub const CONFIG_HASH_VAR: &str = "CHARM_CONFIG_HASH";
/// The service name in the `indico` container.
pub const INDICO_SERVICE: &str = "indico";
/// The service name in the `indico-celery` container.
pub const CELERY_SERVICE: &str = "indico-celery";
/// The service name in the `indico-nginx` container.
pub const NGINX_SERVICE: &str = "indico-nginx";
/// The service name in the `nginx-prometheus-exporter` container.
pub const EXPORTER_SERVICE: &str = "exporter";
/// The exporter's metrics port.
pub const EXPORTER_PORT: u16 = 9113;
/// The user and group id the nginx exporter runs as: the upstream image's
/// (nginx/nginx-prometheus-exporter, `USER 1001:1001` on a `scratch` base without
/// /etc/passwd, so only numeric ids work there).
pub const EXPORTER_RUN_AS_ID: u32 = 1001;
/// The Celery exporter's service name in the `indico-celery` container (Flower).
pub const CELERY_EXPORTER_SERVICE: &str = "celery-exporter";
/// Flower's port: its `/metrics` (Prometheus) and `/healthcheck`.
pub const CELERY_EXPORTER_PORT: u16 = 5555;
/// Flower's own venv in the image, apart from Indico's.
const FLOWER_VENV: &str = "/srv/flower/.venv";
/// Flower's settings in the image (metrics only: UI and API locked, offline workers purged).
const FLOWER_CONFIG: &str = "/srv/flower/flowerconfig.py";
/// The variable of Indico's environment holding the Celery broker URL.
const BROKER_VARIABLE: &str = "INDICO_CELERY_BROKER";
/// uWSGI's port.
pub const UWSGI_PORT: u16 = 8081;

fn layer(summary: &str, service: (&str, Service), check: (&str, Check)) -> Layer {
    Layer {
        summary: Some(summary.to_owned()),
        services: BTreeMap::from([(service.0.to_owned(), service.1)]),
        checks: BTreeMap::from([(check.0.to_owned(), check.1)]),
        ..Layer::default()
    }
}

fn http_check(url: String, level: CheckLevel) -> Check {
    Check {
        http: Some(HttpCheck {
            url: Some(url),
            ..HttpCheck::default()
        }),
        ..check(level, 30, 5, 3)
    }
}

fn service(summary: &str, command: String, environment: BTreeMap<String, String>) -> Service {
    Service {
        summary: Some(summary.to_owned()),
        r#override: Some(Override::Replace),
        startup: Some(Startup::Enabled),
        command: Some(command),
        environment,
        ..Service::default()
    }
}

fn as_indico_user(service: Service) -> Service {
    Service {
        user: Some("indico".to_owned()),
        group: Some("indico".to_owned()),
        working_dir: Some("/srv/indico".to_owned()),
        ..service
    }
}

fn check(level: CheckLevel, period: u64, timeout: u64, threshold: u32) -> Check {
    Check {
        r#override: Some(Override::Replace),
        level: Some(level),
        period: Some(GoDuration::from_secs(period)),
        timeout: Some(GoDuration::from_secs(timeout)),
        threshold: Some(threshold),
        ..Check::default()
    }
}

/// `indico`: uWSGI in http mode on 127.0.0.1:8081. Ready once the port accepts connections;
/// uWSGI needs ~7 s to load Indico, hence 6 × 10 s before the check counts as down.
pub fn indico(environment: BTreeMap<String, String>, files_hash: &str) -> Layer {
    let mut environment = environment;
    environment.insert(CONFIG_HASH_VAR.to_owned(), files_hash.to_owned());
    let service = as_indico_user(service(
        "Indico under uWSGI",
        format!("{VENV}/bin/uwsgi --ini {UWSGI_INI_PATH}"),
        environment,
    ));
    let ready = Check {
        tcp: Some(TcpCheck {
            port: Some(UWSGI_PORT),
            host: Some("127.0.0.1".to_owned()),
        }),
        ..check(CheckLevel::Ready, 10, 3, 6)
    };
    layer("Indico", (INDICO_SERVICE, service), ("indico-ready", ready))
}

/// The Celery node name of this unit's worker (`indico-celery@indico-0`), so the health check
/// pings this unit's worker and not any worker of the application.
pub fn celery_node_name(unit: &str) -> String {
    format!("indico-celery@{}", unit.replace('/', "-"))
}

/// `indico-celery`: the worker, with the beat scheduler when `beat`. Alive while the worker
/// answers a ping; the ping loads all of Indico (9–12 s), so it runs every 2 min with 60 s.
///
/// Beside it, [`CELERY_EXPORTER_SERVICE`]: Flower as the Celery metrics exporter on
/// [`CELERY_EXPORTER_PORT`] (`flower_worker_online`, `flower_events_total`, ...), every unit
/// its own, reading the events of all workers from the broker (`CELERY_BROKER_URL`, the only
/// variable it gets: none of Indico's secrets). Alive while `/healthcheck` answers. Without a
/// broker in `environment` (never the case once Indico's environment is complete) there is no
/// exporter.
pub fn celery(environment: BTreeMap<String, String>, unit: &str, beat: bool) -> Layer {
    let node = celery_node_name(unit);
    let mut command = format!("{VENV}/bin/indico celery worker --hostname {node}");
    if beat {
        command.push_str(" --beat --schedule /srv/indico/tmp/celerybeat-schedule");
    }
    let broker = environment.get(BROKER_VARIABLE).cloned();
    let worker = as_indico_user(service("Indico Celery worker", command, environment));
    let alive = Check {
        exec: Some(ExecCheck {
            command: Some(format!(
                "{VENV}/bin/indico celery inspect ping --destination {node}"
            )),
            service_context: Some(CELERY_SERVICE.to_owned()),
            ..ExecCheck::default()
        }),
        ..check(CheckLevel::Alive, 120, 60, 3)
    };
    let mut layer = layer(
        "Indico Celery",
        (CELERY_SERVICE, worker),
        ("indico-celery-alive", alive),
    );
    if let Some(broker) = broker {
        let exporter = as_indico_user(service(
            "Celery Prometheus exporter (Flower)",
            format!(
                "{FLOWER_VENV}/bin/celery flower --conf={FLOWER_CONFIG} --port={CELERY_EXPORTER_PORT}"
            ),
            BTreeMap::from([("CELERY_BROKER_URL".to_owned(), broker)]),
        ));
        layer
            .services
            .insert(CELERY_EXPORTER_SERVICE.to_owned(), exporter);
        // 127.0.0.1, not localhost: Flower may not listen on ::1.
        layer.checks.insert(
            "celery-exporter-alive".to_owned(),
            http_check(
                format!("http://127.0.0.1:{CELERY_EXPORTER_PORT}/healthcheck"),
                CheckLevel::Alive,
            ),
        );
    }
    layer
}

/// `indico-nginx`: nginx in the foreground with the pushed configuration.
pub fn nginx(files_hash: &str) -> Layer {
    let environment = BTreeMap::from([(CONFIG_HASH_VAR.to_owned(), files_hash.to_owned())]);
    let service = service(
        "nginx in front of Indico",
        // The image's wrapper ends orphaned workers of a master that died, then execs nginx.
        format!("/usr/local/bin/indico-nginx-run -c {NGINX_CONF_PATH} -g 'daemon off;'"),
        environment,
    );
    let alive = Check {
        http: Some(HttpCheck {
            url: Some(format!("http://localhost:{WEB_PORT}/health")),
            ..HttpCheck::default()
        }),
        ..check(CheckLevel::Alive, 10, 3, 3)
    };
    layer(
        "nginx",
        (NGINX_SERVICE, service),
        ("indico-nginx-alive", alive),
    )
}

/// `exporter`: nginx-prometheus-exporter scraping the pod-local stub_status (nginx serves it on
/// 127.0.0.1 only, so the address is explicit: `localhost` may resolve to `::1`). The binary is
/// looked up in PATH under the upstream image's name, `nginx-prometheus-exporter`. It runs as
/// [`EXPORTER_RUN_AS_ID`] (user and group), not root, by number: the upstream image has no
/// /etc/passwd to resolve a name in.
pub fn exporter() -> Layer {
    let service = Service {
        user_id: Some(EXPORTER_RUN_AS_ID),
        group_id: Some(EXPORTER_RUN_AS_ID),
        ..service(
            "nginx Prometheus exporter",
            format!(
                "nginx-prometheus-exporter -nginx.scrape-uri=http://127.0.0.1:{STATUS_PORT}/stub_status -web.listen-address=:{EXPORTER_PORT}"
            ),
            BTreeMap::new(),
        )
    };
    let alive = http_check(
        format!("http://localhost:{EXPORTER_PORT}/metrics"),
        CheckLevel::Alive,
    );
    layer(
        "nginx Prometheus exporter",
        (EXPORTER_SERVICE, service),
        ("exporter-alive", alive),
    )
}
