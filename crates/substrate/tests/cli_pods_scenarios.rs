//! End-to-end scenarios with the real charm on the local substrate, driven through the
//! Juju-like command line, on one deployment (`indico-sc` with `pg-sc`, `redis-broker-sc`
//! and `redis-cache-sc`), in sequence:
//!
//! 1. deploy + integrate: active, `GET /` is a 302 to `/bootstrap`, `/health` is 204, a
//!    static asset comes from nginx, the exporter reports `nginx_up 1`;
//! 2. an https `site_url` with a port: uWSGI and Celery get the new `INDICO_BASE_URL`,
//!    nginx sends HSTS, and only the services whose definition changed restart (the
//!    exporter's `current-since` stays); then the same site without a port, where Indico
//!    answers its host (302 to `/bootstrap`), puts the https URL in its JS config and no
//!    longer answers the old host. (With the port, Indico answers 404 to every Host: see
//!    the comment at that step);
//! 3. an invalid `site_url` blocks the unit, `--reset` makes it active again;
//!    `uwsgi_processes=3` restarts uWSGI alone, with three workers;
//! 4. removing the cache relation waits for it, relating it again is active;
//! 5. `add-admin`, then fresh uWSGI workers: the image's WSGI file leaves Indico's webpack
//!    manifest complete before the first request, and after a uWSGI restart 12 concurrent
//!    home-page requests all answer 200 (three rounds); an HTTP login as the admin,
//!    `anonymize-user`, the login then refused, and 51 addresses refused;
//! 6. `scale 2`: both units active, the second pod 5/5, Celery beat on exactly one unit, one
//!    secret key, migrations run by one unit only.
//!
//! Slow (minutes) and needs root, podman, PostgreSQL, Redis and the images, so it is
//! ignored by default: `cargo test -p indico-substrate --test cli_pods_scenarios --
//! --ignored --nocapture`. The charm is deployed as in `cli_pods_indico`: the unpacked
//! `.charm` in `$INDICO_CHARM_DIR` when set, else the release binary
//! (`$INDICO_CHARM_BINARY` or built here). Every wait is bounded; on a timeout the test
//! prints `status` and the last 40 lines of `debug-log` before failing.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use support::{
    Jar, WORKLOADS, block_on, cli, debug_log_len, debug_log_since, diagnosis, location, ok, pebble,
    service_env, try_plan, unit_address,
};

const APP: &str = "indico-sc";
const UNIT0: &str = "indico-sc/0";
const UNIT1: &str = "indico-sc/1";
const PG: &str = "pg-sc";
const BROKER: &str = "redis-broker-sc";
const CACHE: &str = "redis-cache-sc";
/// Indico's host for the default `site_url` (`<app>.local`).
const DEFAULT_HOST: &str = "indico-sc.local";
const SITE_URL: &str = "https://events.example.com:8443";
const ADMIN_EMAIL: &str = "admin@example.com";
const WAIT: Duration = Duration::from_secs(600);

/// [`support::wait_until`] with this file's `WAIT`; returns the seconds it took.
fn wait_for(what: &str, done: impl FnMut() -> bool) -> f64 {
    support::wait_until(what, WAIT, done)
}

/// Waits until `unit` shows workload `status` with exactly `message` and its agent is idle.
fn wait_unit(name: &str, status: &str, message: &str) -> f64 {
    support::wait_status(name, status, &format!("{message:?}"), WAIT, |m| {
        m == message
    })
}

fn wait_active(name: &str) -> f64 {
    support::wait_active_within(name, WAIT)
}

/// uWSGI worker processes in a pod container (uWSGI names them, `auto-procname`).
fn uwsgi_workers(container: &str) -> usize {
    support::container_processes(container)
        .iter()
        .filter(|p| p.args.contains("uWSGI worker"))
        .count()
}

/// `current-since` of every service of every workload container of `unit`.
fn services_since(unit: &str) -> BTreeMap<String, String> {
    let mut since = BTreeMap::new();
    for container in WORKLOADS {
        let services = block_on(pebble(unit, container).services(&[]))
            .unwrap_or_else(|e| panic!("services of {unit} {container}: {e}"));
        for service in services {
            since.insert(
                format!("{container}/{}", service.name),
                service.current_since.unwrap_or_default(),
            );
        }
    }
    since
}

fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// GETs `url` until `accept` takes the answer (Indico may still be starting), bounded.
fn get_until(
    client: &Client,
    url: &str,
    headers: &[(&str, &str)],
    accept: impl Fn(&Response) -> bool,
) -> Response {
    let start = Instant::now();
    loop {
        let mut request = client.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let answer = request.send();
        if let Ok(response) = &answer
            && accept(response)
        {
            return answer.unwrap();
        }
        if start.elapsed() > Duration::from_secs(180) {
            panic!(
                "GET {url} {headers:?}: no acceptable answer within 180 s, last {answer:?}\n{}",
                diagnosis()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The `value` of the `<input>` named `name` in `html`.
fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind("<input")?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let value = tag.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

/// Logs in through Indico's local login form; returns the login POST's answer and the
/// home page fetched with the resulting session.
fn login(base: &str, password: &str) -> (StatusCode, String, String) {
    let client = http();
    let mut jar = Jar::default();
    let form = client
        .get(format!("{base}/login/"))
        .header("Host", DEFAULT_HOST)
        .send()
        .expect("GET /login/");
    assert_eq!(form.status(), StatusCode::OK, "GET /login/");
    jar.take(&form);
    let html = form.text().expect("login form");
    let csrf = input_value(&html, "csrf_token")
        .unwrap_or_else(|| panic!("no csrf_token in the login form:\n{html}"));
    assert!(
        html.contains("name=\"identifier\"") && html.contains("name=\"password\""),
        "the login form lacks identifier/password:\n{html}"
    );
    let posted = client
        .post(format!("{base}/login/"))
        .header("Host", DEFAULT_HOST)
        .header("Cookie", jar.header())
        .header("Referer", format!("http://{DEFAULT_HOST}/login/"))
        .form(&[
            ("_provider", "indico"),
            ("identifier", ADMIN_EMAIL),
            ("password", password),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .expect("POST /login/");
    let status = posted.status();
    let went_to = location(&posted);
    jar.take(&posted);
    let home = client
        .get(format!("{base}/"))
        .header("Host", DEFAULT_HOST)
        .header("Cookie", jar.header())
        .send()
        .expect("GET / after login");
    assert_eq!(home.status(), StatusCode::OK, "GET / after login");
    (status, went_to, home.text().expect("home page"))
}

/// Python run in the `indico` service's context: loads the image's WSGI file as uWSGI does,
/// then prints what Indico's manifest cache holds before any request.
const MANIFEST_PROBE: &str = r#"
import runpy
from indico.core.webpack import IndicoManifestLoader
runpy.run_path("/srv/indico/indico.wsgi")
for manifest in IndicoManifestLoader.cache.values():
    print(sorted(name for name in ("__custom.js", "__custom.css") if name in manifest._entries))
"#;

/// Fresh uWSGI workers answer their first concurrent requests (see files/indico/indico.wsgi).
///
/// Indico 3.2.9 caches its webpack manifest before adding the customization entries, so a
/// second thread of a fresh worker could render a page without them: HTTP 500. Without the
/// image's preload, 12 concurrent `GET /` right after a uWSGI restart got one 500 in three
/// of four rounds. Checked twice: the manifest cache after the WSGI file alone (exact), and
/// three restart-and-burst rounds through nginx (the symptom).
fn fresh_workers_answer_together(base: &str) {
    let indico = pebble(UNIT0, "indico");
    let mut probe =
        pebble_client::ExecRequest::new(["/srv/indico/.venv/bin/python", "-c", MANIFEST_PROBE]);
    probe.service_context = Some("indico".into());
    probe.working_dir = Some("/srv/indico".into());
    probe.timeout = Some(Duration::from_secs(120));
    let cached = block_on(indico.exec(&probe))
        .unwrap_or_else(|e| panic!("the manifest probe in {UNIT0} indico: {e}"))
        .stdout_text();
    assert_eq!(
        cached.trim(),
        "['__custom.css', '__custom.js']",
        "after the WSGI file alone, Indico's manifest cache should hold the customization entries"
    );
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    for round in 1..=3 {
        block_on(indico.restart(&["indico"]))
            .unwrap_or_else(|e| panic!("restart uWSGI in {UNIT0}: {e}"));
        let started = Instant::now();
        let statuses: Vec<String> = std::thread::scope(|scope| {
            let requests: Vec<_> = (0..12)
                .map(|_| {
                    scope.spawn(|| {
                        client
                            .get(format!("{base}/"))
                            .header("Host", DEFAULT_HOST)
                            .send()
                            .map_or_else(|e| e.to_string(), |r| r.status().to_string())
                    })
                })
                .collect();
            requests
                .into_iter()
                .map(|r| r.join().unwrap_or_else(|_| "panicked".into()))
                .collect()
        });
        println!(
            "  fresh workers, round {round}: {} answered in {:.1} s",
            statuses.len(),
            started.elapsed().as_secs_f64()
        );
        assert!(
            statuses.iter().all(|s| s == "200 OK"),
            "round {round}: the first requests of fresh uWSGI workers: {statuses:?}"
        );
    }
}

#[test]
#[ignore = "slow (minutes): runs the real charm in podman pods; needs root, podman, PostgreSQL, Redis"]
fn scenarios_on_one_deployment() {
    let _teardown = support::Teardown::new(&[APP, PG, BROKER, CACHE]);
    let log_offset = debug_log_len();
    let total = Instant::now();

    // 1. Deploy and integrate.
    println!("1. deploy + integrate");
    let started = Instant::now();
    support::deploy_stack(APP, PG, BROKER, CACHE, &[]);
    wait_active(UNIT0);
    println!("  time to active: {:.1} s", started.elapsed().as_secs_f64());
    let client = http();
    let base0 = format!("http://{}:8080", unit_address(UNIT0));
    let root = get_until(
        &client,
        &format!("{base0}/"),
        &[("Host", DEFAULT_HOST)],
        |r| r.status() == StatusCode::FOUND,
    );
    assert!(
        location(&root).ends_with("/bootstrap"),
        "GET / redirected to {:?}, expected /bootstrap",
        location(&root)
    );
    let health = client
        .get(format!("{base0}/health"))
        .header("Host", DEFAULT_HOST)
        .send()
        .expect("GET /health");
    assert_eq!(health.status(), StatusCode::NO_CONTENT, "GET /health");
    // A static asset comes from nginx itself: Indico would add X-Indico-URL.
    let icon = client
        .get(format!("{base0}/images/indico.ico"))
        .header("Host", DEFAULT_HOST)
        .send()
        .expect("GET /images/indico.ico");
    assert_eq!(icon.status(), StatusCode::OK, "GET /images/indico.ico");
    assert!(
        icon.headers().get("x-indico-url").is_none(),
        "the icon came from Indico, not nginx: {:?}",
        icon.headers()
    );
    // The exporter scrapes nginx's pod-local stub_status.
    let metrics = get_until(
        &client,
        &format!("http://{}:9113/metrics", unit_address(UNIT0)),
        &[],
        |r| r.status() == StatusCode::OK,
    )
    .text()
    .expect("the exporter's metrics");
    assert!(
        metrics.lines().any(|l| l.trim() == "nginx_up 1"),
        "no `nginx_up 1` in the exporter's metrics"
    );

    // 2. An https site_url: Indico, nginx and uWSGI follow; only what changed restarts.
    println!("2. site_url={SITE_URL}");
    let before = services_since(UNIT0);
    let started = Instant::now();
    ok(&["config", APP, &format!("site_url={SITE_URL}")]);
    wait_for("indico's BASE_URL is the new site_url", || {
        service_env(UNIT0, "indico", "indico", "INDICO_BASE_URL").as_deref() == Some(SITE_URL)
    });
    wait_active(UNIT0);
    println!(
        "  config change to active: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // With a port in site_url, Indico compares the forwarded host with host:port: the
    // request a browser sends for that URL (Host with the port) must reach Indico, which
    // answers a fresh database with the bootstrap redirect. nginx's HSTS header is on
    // every answer of an https site.
    let mut hsts = String::new();
    for host in ["events.example.com", "events.example.com:8443"] {
        let answer = get_until(
            &client,
            &format!("{base0}/"),
            &[("Host", host), ("X-Forwarded-Proto", "https")],
            |r| r.status() != StatusCode::BAD_GATEWAY,
        );
        println!(
            "  GET / Host {host}, X-Forwarded-Proto https: {} {:?}",
            answer.status(),
            location(&answer)
        );
        if host.ends_with(":8443") {
            assert_eq!(answer.status(), StatusCode::FOUND, "Host {host}");
            assert!(
                location(&answer).ends_with("/bootstrap"),
                "Host {host}: {:?}",
                location(&answer)
            );
        }
        hsts = answer
            .headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            hsts.contains("max-age="),
            "no HSTS header: {:?}",
            answer.headers()
        );
    }
    println!("  HSTS: {hsts}");
    let celery_base_url = service_env(UNIT0, "indico-celery", "indico-celery", "INDICO_BASE_URL");
    assert_eq!(
        celery_base_url.as_deref(),
        Some(SITE_URL),
        "celery's BASE_URL"
    );
    let after = services_since(UNIT0);
    println!("  current-since before: {before:?}\n  current-since after:  {after:?}");
    let exporter = "nginx-prometheus-exporter/exporter";
    assert!(
        before.contains_key(exporter),
        "no exporter service: {before:?}"
    );
    assert_eq!(
        before.get(exporter),
        after.get(exporter),
        "the exporter restarted although site_url does not concern it"
    );
    assert_ne!(
        before.get("indico/indico"),
        after.get("indico/indico"),
        "uWSGI did not restart with a new BASE_URL"
    );

    // The same site without a port: Indico redirects to the https URL.
    let portless = "https://events.example.com";
    ok(&["config", APP, &format!("site_url={portless}")]);
    wait_for("indico's BASE_URL without the port", || {
        service_env(UNIT0, "indico", "indico", "INDICO_BASE_URL").as_deref() == Some(portless)
    });
    wait_active(UNIT0);
    let redirect = get_until(
        &client,
        &format!("{base0}/"),
        &[
            ("Host", "events.example.com"),
            ("X-Forwarded-Proto", "https"),
        ],
        |r| r.status() == StatusCode::FOUND,
    );
    assert!(
        location(&redirect).ends_with("/bootstrap"),
        "GET / with the new host redirected to {:?}",
        location(&redirect)
    );
    // Werkzeug's redirects are relative: the absolute https URL is in Indico's JS config.
    let js_vars = client
        .get(format!("{base0}/assets/js-vars/global.js"))
        .header("Host", "events.example.com")
        .header("X-Forwarded-Proto", "https")
        .send()
        .expect("GET global.js");
    assert_eq!(js_vars.status(), StatusCode::OK, "GET global.js");
    let js_vars = js_vars.text().expect("global.js");
    assert!(
        js_vars.contains("https://events.example.com/")
            || js_vars.contains("\"https://events.example.com\""),
        "Indico's JS config lacks the https site URL: {}",
        js_vars.chars().take(600).collect::<String>()
    );
    let old_host = client
        .get(format!("{base0}/"))
        .header("Host", DEFAULT_HOST)
        .send()
        .expect("GET / with the old host");
    assert_eq!(
        old_host.status(),
        StatusCode::NOT_FOUND,
        "Indico still answers the old host"
    );
    assert!(
        redirect.headers().contains_key("strict-transport-security"),
        "no HSTS header: {:?}",
        redirect.headers()
    );

    // 3. An invalid site_url blocks; reset makes the unit active again.
    println!("3. invalid site_url, then reset");
    ok(&["config", APP, "site_url=not a url"]);
    wait_unit(
        UNIT0,
        "blocked",
        "Configuration option site_url is not valid",
    );
    ok(&["config", APP, "--reset", "site_url"]);
    wait_for("indico's BASE_URL back to the default", || {
        service_env(UNIT0, "indico", "indico", "INDICO_BASE_URL").as_deref()
            == Some("http://indico-sc.local")
    });
    wait_active(UNIT0);
    // uWSGI's size is config: a change restarts uWSGI with that many workers, nothing else.
    let indico = support::container_name(UNIT0, "indico");
    let before = services_since(UNIT0);
    ok(&["config", APP, "uwsgi_processes=3"]);
    wait_for("three uWSGI workers", || uwsgi_workers(&indico) == 3);
    wait_active(UNIT0);
    let after = services_since(UNIT0);
    let restarted: Vec<&String> = after
        .iter()
        .filter(|(service, since)| before.get(*service) != Some(since))
        .map(|(service, _)| service)
        .collect();
    assert_eq!(
        restarted,
        ["indico/indico"],
        "restarted by uwsgi_processes=3"
    );
    ok(&["config", APP, "--reset", "uwsgi_processes"]);
    wait_for("two uWSGI workers", || uwsgi_workers(&indico) == 2);
    wait_active(UNIT0);

    // 4. The cache relation goes and comes back.
    println!("4. remove and restore redis-cache");
    ok(&["remove-relation", &format!("{APP}:redis-cache"), CACHE]);
    wait_unit(UNIT0, "waiting", "Waiting for redis-cache availability");
    ok(&["integrate", &format!("{APP}:redis-cache"), CACHE]);
    wait_active(UNIT0);

    // 5. Admin, login, anonymize.
    println!("5. add-admin, login, anonymize-user");
    let password = indico_substrate::host::random_hex(16).unwrap();
    let started = Instant::now();
    let added = ok(&[
        "run",
        UNIT0,
        "add-admin",
        &format!("email={ADMIN_EMAIL}"),
        &format!("password={password}"),
    ]);
    println!("  add-admin: {:.1} s", started.elapsed().as_secs_f64());
    assert!(added.contains(ADMIN_EMAIL), "add-admin results: {added}");
    assert!(
        !added.contains(&password),
        "add-admin results show the password"
    );
    // Indico answers again once the cache relation's restart is over.
    get_until(
        &client,
        &format!("{base0}/"),
        &[("Host", DEFAULT_HOST)],
        |r| r.status() == StatusCode::OK,
    );
    fresh_workers_answer_together(&base0);
    let (status, went_to, home) = login(&base0, &password);
    assert_eq!(
        status,
        StatusCode::FOUND,
        "the admin's login was not accepted"
    );
    assert!(!went_to.contains("/login"), "login redirected to {went_to}");
    assert!(
        home.contains("<title>Home · Indico</title>"),
        "home page title after login"
    );
    assert!(
        home.contains("/logout/"),
        "the home page after login has no logout link (not logged in)"
    );
    let started = Instant::now();
    let anonymized = ok(&[
        "run",
        UNIT0,
        "anonymize-user",
        &format!("email={ADMIN_EMAIL}"),
    ]);
    println!("  anonymize-user: {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        anonymized.contains(ADMIN_EMAIL),
        "anonymize-user results: {anonymized}"
    );
    let (status, went_to, home) = login(&base0, &password);
    assert!(
        status != StatusCode::FOUND || went_to.contains("/login"),
        "login still accepted after anonymize ({status}, to {went_to})"
    );
    assert!(!home.contains("/logout/"), "logged in after anonymize");
    let many: Vec<String> = (0..51).map(|i| format!("user{i}@example.com")).collect();
    let refused = cli(&[
        "run",
        UNIT0,
        "anonymize-user",
        &format!("email={}", many.join(",")),
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "51 addresses were accepted");
    assert!(
        stderr.contains("Failed to anonymize user: List of more than 50 emails are not allowed"),
        "51 addresses: {stderr}"
    );

    // 6. Two units: one beat, one key, one migration.
    println!("6. scale to 2");
    let started = Instant::now();
    ok(&["scale", APP, "2"]);
    wait_active(UNIT1);
    wait_active(UNIT0);
    println!(
        "  scale 2 to both active: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pods = ok(&["pods"]);
    let row: Vec<&str> = pods
        .lines()
        .find(|l| l.starts_with("indico-sc-1 "))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(row.get(1..3), Some(&["5/5", "Running"][..]), "{pods}");
    let beat: Vec<bool> = [UNIT0, UNIT1]
        .iter()
        .map(|u| {
            let command = try_plan(u, "indico-celery")
                .unwrap_or_else(|| panic!("{u} indico-celery: Pebble does not answer"))
                .services
                .get("indico-celery")
                .and_then(|s| s.command.clone())
                .unwrap_or_else(|| panic!("{u} has no indico-celery command"));
            command
                .split_whitespace()
                .any(|w| w == "-B" || w == "--beat")
        })
        .collect();
    assert_eq!(
        beat.iter().filter(|b| **b).count(),
        1,
        "celery beat (-B/--beat) per unit: {beat:?}"
    );
    let key0 = service_env(UNIT0, "indico", "indico", "INDICO_SECRET_KEY");
    let key1 = service_env(UNIT1, "indico", "indico", "INDICO_SECRET_KEY");
    assert!(
        key0.as_deref().is_some_and(|k| !k.is_empty()),
        "indico-sc/0 has no secret key"
    );
    assert!(key0 == key1, "the units have different secret keys");
    let log = debug_log_since(log_offset);
    let migrated: std::collections::BTreeSet<&str> = log
        .lines()
        .filter(|l| l.starts_with("unit-indico-sc-") && l.contains("database migration done"))
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_eq!(migrated.len(), 1, "units that ran migrations: {migrated:?}");
    let base1 = format!("http://{}:8080", unit_address(UNIT1));
    get_until(
        &client,
        &format!("{base1}/"),
        &[("Host", DEFAULT_HOST)],
        |r| r.status() == StatusCode::OK,
    );
    println!("all scenarios: {:.1} s", total.elapsed().as_secs_f64());
}
