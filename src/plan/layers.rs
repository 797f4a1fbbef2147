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
pub fn celery(environment: BTreeMap<String, String>, unit: &str, beat: bool) -> Layer {
    let node = celery_node_name(unit);
    let mut command = format!("{VENV}/bin/indico celery worker --hostname {node}");
    if beat {
        command.push_str(" --beat --schedule /srv/indico/tmp/celerybeat-schedule");
    }
    let service = as_indico_user(service("Indico Celery worker", command, environment));
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
    layer(
        "Indico Celery",
        (CELERY_SERVICE, service),
        ("indico-celery-alive", alive),
    )
}

/// `indico-nginx`: nginx in the foreground with the pushed configuration.
pub fn nginx(files_hash: &str) -> Layer {
    let environment = BTreeMap::from([(CONFIG_HASH_VAR.to_owned(), files_hash.to_owned())]);
    let service = service(
        "nginx in front of Indico",
        format!("/usr/sbin/nginx -c {NGINX_CONF_PATH} -g 'daemon off;'"),
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
/// looked up in PATH under the upstream image's name, `nginx-prometheus-exporter`.
pub fn exporter() -> Layer {
    let service = service(
        "nginx Prometheus exporter",
        format!(
            "nginx-prometheus-exporter -nginx.scrape-uri=http://127.0.0.1:{STATUS_PORT}/stub_status -web.listen-address=:{EXPORTER_PORT}"
        ),
        BTreeMap::new(),
    );
    let alive = Check {
        http: Some(HttpCheck {
            url: Some(format!("http://localhost:{EXPORTER_PORT}/metrics")),
            ..HttpCheck::default()
        }),
        ..check(CheckLevel::Alive, 30, 5, 3)
    };
    layer(
        "nginx Prometheus exporter",
        (EXPORTER_SERVICE, service),
        ("exporter-alive", alive),
    )
}
