//! Slow end-to-end proof that the substrate runs Indico: build the images from the
//! repository's Dockerfiles, open host PostgreSQL and a private Redis to the pod subnet,
//! bring up a unit's pod, and drive each workload container's real Pebble from the host
//! (`pebble add`/`push`/`replan` on the socket the charm container also sees) to run
//! uWSGI, Celery, nginx and the exporter. Then check what a user and Prometheus see.
//!
//! Needs root, podman, catatonit, debootstrap, PostgreSQL 15 and redis-server. Takes
//! minutes cold (image builds), about a minute warm. Run it with:
//! `cargo test -p indico-substrate --test pod_runs_indico -- --ignored --nocapture`.
//! Set `INDICO_SUBSTRATE_KEEP=1` to leave the pod and database up for inspection.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indico_substrate::engine::{
    BASE_IMAGE, BaseImage, Engine, PebbleCli, PodSpec, RunningPod, SubstrateNetwork, UnitName,
    WorkloadImages, pod_status,
};
use indico_substrate::host::{IndicoBackends, random_hex};
use serde_json::json;

/// The host name in Indico's BASE_URL; requests must carry it or Indico answers 404.
const SITE_HOST: &str = "indico.local";
/// A unit of its own, so the test never touches a developer's `indico/0`.
const UNIT: &str = "indico-e2e/0";
const DATABASE: &str = "indico_e2e";

/// A minimal nginx.conf: the charm renders the real one.
const NGINX_CONF: &str = r#"
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log stderr info;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    server {
        listen 8080;
        location ~ ^/(images|dist|css|fonts)/ { root /srv/indico/static; }
        location / {
            proxy_pass http://127.0.0.1:8081;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
    }
    server {
        listen 127.0.0.1:9080;
        location = /stub_status { stub_status; }
    }
}
"#;

/// Removes the pod and the backends' database and Redis when the test ends, also on panic.
struct Cleanup<'a> {
    engine: &'a Engine,
    unit: UnitName,
    backends: Option<IndicoBackends>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if std::env::var_os("INDICO_SUBSTRATE_KEEP").is_some() {
            eprintln!(
                "INDICO_SUBSTRATE_KEEP set: leaving pod {} up",
                self.unit.pod_name()
            );
            return;
        }
        if let Err(err) = PodSpec::down(self.engine, &self.unit) {
            eprintln!("teardown: {err}");
        }
        if let Some(backends) = &self.backends
            && let Err(err) = backends.teardown()
        {
            eprintln!("teardown: {err}");
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Pebble's own output (with the services' logs), for failure messages.
fn container_logs(engine: &Engine, pod: &RunningPod, container: &str) -> String {
    let name = pod.container_name(container);
    match engine.podman().run(["logs", "--tail", "40", name.as_str()]) {
        Ok(out) => format!("{}{}", out.stdout, out.stderr),
        Err(err) => err.to_string(),
    }
}

#[test]
#[ignore = "slow (minutes): builds images and runs Indico in a podman pod; needs root, podman, PostgreSQL, Redis"]
fn pod_runs_indico() {
    let engine = Engine::open_default().expect("engine");

    // Images: cold or warm, whatever the store holds; then a second pass must be all cached.
    let started = Instant::now();
    let base_built = BaseImage::default().ensure(&engine).expect("base image");
    println!(
        "base image: {} ({})",
        secs(started.elapsed()),
        if base_built { "built" } else { "cached" }
    );
    let specs = WorkloadImages::from_repo(&repo_root()).expect("image specs");
    let mut references = Vec::new();
    for spec in specs.all() {
        let started = Instant::now();
        let built = spec.build(&engine).expect("image build");
        println!(
            "image {}: {} ({})",
            built.reference,
            secs(started.elapsed()),
            if built.cached { "cached" } else { "built" }
        );
        references.push(built.reference);
    }
    let started = Instant::now();
    for spec in specs.all() {
        let again = spec.build(&engine).expect("image rebuild");
        assert!(
            again.cached,
            "{} was rebuilt although its inputs did not change",
            again.reference
        );
    }
    println!(
        "warm image check (3 images, no build): {}",
        secs(started.elapsed())
    );
    for reference in &references {
        let size = engine
            .podman()
            .run([
                "image",
                "inspect",
                "--format",
                "{{.Size}}",
                reference.as_str(),
            ])
            .expect("inspect");
        let bytes: u64 = size.stdout.trim().parse().expect("image size");
        println!("size {reference}: {} MB", bytes / 1_000_000);
    }

    // Host backends and the pod.
    let network = SubstrateNetwork::default();
    let unit = UnitName::parse(UNIT).expect("unit");
    let mut cleanup = Cleanup {
        engine: &engine,
        unit: unit.clone(),
        backends: None,
    };
    PodSpec::down(&engine, &unit).expect("remove a leftover pod");
    let backends =
        IndicoBackends::ensure(engine.state().root(), &network.cidr(), DATABASE).expect("backends");
    cleanup.backends = Some(backends.clone());

    let spec = PodSpec::indico_unit(
        unit,
        BASE_IMAGE,
        &references[0],
        &references[1],
        &references[2],
    );
    let started = Instant::now();
    let pod = spec.up(&engine, Duration::from_secs(30)).expect("pod up");
    println!(
        "pod {} up at {} with 4 Pebbles listening: {}",
        pod.pod_name,
        pod.ip,
        secs(started.elapsed())
    );
    let pebble =
        |container: &str| PebbleCli::new(&spec.pebble_binary, &pod.pebble_socket(container));
    let scratch = tempfile::tempdir().expect("scratch dir");

    // The environment the charm will give Indico's services (indico.conf reads it).
    let environment = json!({
        "INDICO_SQLALCHEMY_DATABASE_URI": backends.database_uri(),
        "INDICO_SECRET_KEY": random_hex(32).expect("secret key"),
        "INDICO_BASE_URL": format!("http://{SITE_HOST}"),
        "INDICO_CELERY_BROKER": backends.broker_url(),
        "INDICO_REDIS_CACHE_URL": backends.cache_url(),
        "INDICO_NO_REPLY_EMAIL": "noreply@indico.local",
        "INDICO_SUPPORT_EMAIL": "support@indico.local",
        "INDICO_ENABLE_ROOMBOOKING": "false",
    });

    // `indico db prepare` once, as user indico, environment through a 0600 env file.
    let env_file = scratch.path().join("indico.env");
    let env_lines: String = environment
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| format!("{k}={}\n", v.as_str().expect("string")))
        .collect();
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&env_file)
            .unwrap();
        f.write_all(env_lines.as_bytes()).unwrap();
    }
    let env_file_text = env_file.to_string_lossy().into_owned();
    let indico_container = pod.container_name("indico");
    let started = Instant::now();
    engine
        .podman()
        .run([
            "exec",
            "--user",
            "indico",
            "--env-file",
            &env_file_text,
            &indico_container,
            "indico",
            "db",
            "prepare",
        ])
        .expect("indico db prepare");
    println!("indico db prepare: {}", secs(started.elapsed()));

    // Layers, as the charm will add them (JSON is YAML).
    let indico_layer = json!({
        "summary": "indico",
        "services": {"indico": {
            "override": "replace", "startup": "enabled", "user": "indico", "group": "indico",
            "working-dir": "/srv/indico",
            "command": "/srv/indico/.venv/bin/uwsgi --http-socket 127.0.0.1:8081 --master --processes 2 --threads 2 \
                        --virtualenv /srv/indico/.venv --wsgi-file /srv/indico/indico.wsgi --die-on-term --need-app \
                        --lazy-apps --ignore-sigpipe --ignore-write-errors --disable-write-exception",
            "environment": environment,
        }},
    });
    let celery_layer = json!({
        "summary": "indico-celery",
        "services": {"indico-celery": {
            "override": "replace", "startup": "enabled", "user": "indico", "group": "indico",
            "working-dir": "/srv/indico",
            "command": "/srv/indico/.venv/bin/indico celery worker -B",
            "environment": environment,
        }},
    });
    let nginx_layer = json!({
        "summary": "indico-nginx",
        "services": {"indico-nginx": {
            "override": "replace", "startup": "enabled",
            "command": "/usr/sbin/nginx -c /etc/nginx/nginx.conf -g 'daemon off;'",
        }},
    });
    let exporter_layer = json!({
        "summary": "exporter",
        "services": {"exporter": {
            "override": "replace", "startup": "enabled",
            "command": "/usr/bin/prometheus-nginx-exporter -nginx.scrape-uri=http://127.0.0.1:9080/stub_status \
                        -web.listen-address=:9113",
        }},
    });
    pebble("indico-nginx")
        .push(
            NGINX_CONF.as_bytes(),
            "/etc/nginx/nginx.conf",
            "644",
            scratch.path(),
        )
        .expect("push nginx.conf");
    let started = Instant::now();
    for (container, label, layer) in [
        ("indico", "indico", &indico_layer),
        ("indico-celery", "indico-celery", &celery_layer),
        ("indico-nginx", "indico-nginx", &nginx_layer),
        ("nginx-prometheus-exporter", "exporter", &exporter_layer),
    ] {
        let cli = pebble(container);
        cli.add_layer(label, &layer.to_string(), scratch.path())
            .expect("add layer");
        cli.replan().expect("replan");
    }
    println!(
        "layers added and replanned in 4 containers: {}",
        secs(started.elapsed())
    );

    // GET / through nginx -> uWSGI: 302 to /bootstrap on a fresh database.
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let base = format!("http://{}:8080", pod.ip);
    let deadline = Duration::from_secs(180);
    let first_302 = loop {
        let answer = client
            .get(format!("{base}/"))
            .header("Host", SITE_HOST)
            .send();
        if let Ok(response) = &answer
            && response.status() == reqwest::StatusCode::FOUND
        {
            break answer.expect("checked");
        }
        assert!(
            started.elapsed() < deadline,
            "no 302 from {base}/ after {} (last: {answer:?})\nindico container:\n{}",
            secs(deadline),
            container_logs(&engine, &pod, "indico")
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    println!(
        "time to first 302 after replan: {}",
        secs(started.elapsed())
    );
    let location = first_302
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        location.ends_with("/bootstrap"),
        "GET / redirected to {location:?}, expected /bootstrap"
    );

    // A static asset comes from nginx itself (Indico would add X-Indico-URL).
    let asset = client
        .get(format!("{base}/images/indico.ico"))
        .header("Host", SITE_HOST)
        .send()
        .expect("asset");
    assert_eq!(asset.status(), reqwest::StatusCode::OK, "static asset");
    assert!(
        !asset.headers().contains_key("x-indico-url"),
        "the asset came from Indico, not nginx"
    );
    let asset_type = asset
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        asset_type.starts_with("image/"),
        "asset content-type {asset_type:?}"
    );
    assert!(!asset.bytes().expect("asset body").is_empty());

    // The exporter sees nginx.
    let metrics = (0..40)
        .find_map(|_| {
            let body = client
                .get(format!("http://{}:9113/metrics", pod.ip))
                .send()
                .ok()?
                .text()
                .ok()?;
            if body.lines().any(|l| l == "nginx_up 1") {
                Some(body)
            } else {
                std::thread::sleep(Duration::from_millis(250));
                None
            }
        })
        .unwrap_or_else(|| {
            panic!(
                "no `nginx_up 1` on :9113/metrics\n{}",
                container_logs(&engine, &pod, "nginx-prometheus-exporter")
            )
        });
    assert!(
        metrics.contains("nginx_connections_active"),
        "exporter metrics lack connection gauges"
    );

    // The charm's CLI plugins: a prompt-free admin (password on stdin), then `GET /` is
    // Indico's home page; a second admin with that email is refused; anonymize removes it.
    let admin_email = "admin@indico.local";
    let autocreate = |password: &str| {
        engine.podman().run_with_stdin(
            [
                "exec",
                "-i",
                "--user",
                "indico",
                "--env-file",
                &env_file_text,
                &indico_container,
                "indico",
                "autocreate",
                "admin",
                "--password-stdin",
                admin_email,
            ],
            format!("{password}\n").as_bytes(),
        )
    };
    let started = Instant::now();
    let created = autocreate("correct horse battery staple").expect("autocreate admin");
    assert!(
        created.stdout.contains(&format!(
            "Admin with email \"{admin_email}\" correctly created"
        )),
        "autocreate said {:?}",
        created.stdout
    );
    println!("indico autocreate admin: {}", secs(started.elapsed()));
    let home = client
        .get(format!("{base}/"))
        .header("Host", SITE_HOST)
        .send()
        .expect("home page");
    assert_eq!(
        home.status(),
        reqwest::StatusCode::OK,
        "GET / once an admin exists"
    );
    assert!(
        home.text()
            .expect("home body")
            .contains("<title>Home · Indico</title>"),
        "home page title"
    );
    let duplicate = autocreate("another password")
        .expect_err("a second admin with the same email must be refused");
    assert!(
        duplicate.to_string().contains("already exists"),
        "{duplicate}"
    );
    let anonymized = engine
        .podman()
        .run([
            "exec",
            "--user",
            "indico",
            "--env-file",
            &env_file_text,
            &indico_container,
            "indico",
            "anonymize",
            "user",
            admin_email,
        ])
        .expect("anonymize");
    assert!(
        anonymized.stdout.contains(&format!(
            "User with email {admin_email} correctly anonymized"
        )),
        "{anonymized:?}"
    );
    let left = backends
        .postgres
        .psql(
            DATABASE,
            &format!("SELECT count(*) FROM users.emails WHERE email = '{admin_email}';"),
        )
        .expect("query emails");
    assert_eq!(left, "0", "the anonymized email is still stored");
    let deleted = backends
        .postgres
        .psql(
            DATABASE,
            "SELECT bool_and(is_deleted) FROM users.users WHERE first_name LIKE 'Anonymous-%';",
        )
        .expect("query users");
    assert_eq!(deleted, "t", "the anonymized user is not marked deleted");

    // Celery runs as indico and answers a ping through Redis.
    assert_eq!(
        pebble("indico-celery")
            .service_state("indico-celery")
            .expect("services")
            .as_deref(),
        Some("active"),
        "celery service\n{}",
        container_logs(&engine, &pod, "indico-celery")
    );
    let celery_container = pod.container_name("indico-celery");
    let started = Instant::now();
    let ping = engine
        .podman()
        .run([
            "exec",
            "--user",
            "indico",
            "--env-file",
            &env_file_text,
            &celery_container,
            "indico",
            "celery",
            "inspect",
            "ping",
        ])
        .unwrap_or_else(|err| {
            panic!(
                "celery ping: {err}\n{}",
                container_logs(&engine, &pod, "indico-celery")
            )
        });
    assert!(
        ping.stdout.contains("pong"),
        "celery ping answered {:?}",
        ping.stdout
    );
    println!("celery inspect ping: {}", secs(started.elapsed()));
    // Readiness as the substrate lists it: 5/5, then 4/5 once a ready check fails.
    let status = pod_status(&engine, &pod.unit, &spec.pebble_binary)
        .expect("pod status")
        .expect("pod exists");
    assert_eq!(status.ready(), (5, 5), "{status:?}");
    let failing_check = json!({"checks": {"never-ready": {
        "override": "replace", "level": "ready", "period": "1s", "threshold": 1,
        "exec": {"command": "/bin/false"},
    }}});
    pebble("indico-nginx")
        .add_layer("never-ready", &failing_check.to_string(), scratch.path())
        .expect("add check");
    let became_unready = (0..40).any(|_| {
        std::thread::sleep(Duration::from_millis(250));
        pod_status(&engine, &pod.unit, &spec.pebble_binary)
            .ok()
            .flatten()
            .is_some_and(|s| s.ready() == (4, 5))
    });
    assert!(
        became_unready,
        "a failing ready check did not make the pod 4/5"
    );

    drop(cleanup);
}
