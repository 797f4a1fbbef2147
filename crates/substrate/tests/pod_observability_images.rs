//! What the workload images add for sign-on and observability, proven on one deployment of
//! the real charm (`indico-oi` with `pg-oi`, `redis-broker-oi`, `redis-cache-oi`) and a
//! stand-in SAML identity provider, in sequence:
//!
//! 1. SAML (issue #8): `saml-idp-oi` is a local charm (a shell `dispatch`) that publishes the
//!    application bag saml-integrator writes: entity id, a real self-signed certificate, SSO
//!    and SLO URLs with their bindings. Once related, Indico loads flask-multipass's SAML
//!    provider: `/login/` offers "SAML SSO", `/multipass/saml/saml/metadata` answers with
//!    python3-saml's SP metadata whose entityID is the site URL and whose assertion consumer
//!    is on the site, and `/login/saml/` redirects to the IdP's SSO URL with a SAMLRequest.
//!    Then a whole login: the test plays the IdP (python3-saml and xmlsec in the `indico`
//!    container sign a SAML response with the IdP's key) and posts its answer to Indico's
//!    assertion consumer. A copy forged after signing is refused; the signed one makes Indico
//!    take the identity and offer a new user's registration with the email the IdP vouched
//!    for. So the relation's certificate reaches python3-saml, and lxml and xmlsec work on one
//!    libxml2.
//! 2. The Celery exporter (issue #8): Flower in `indico-celery` answers on 5555 with
//!    `flower_worker_online{worker="indico-celery@indico-oi-0"} 1`; every `flower_*` metric
//!    the dashboard and the alert rules use is one this Flower exports; its UI and API answer
//!    401 (locked), only `/metrics` and `/healthcheck` are open.
//! 3. The nginx exporter as non-root (issue #6): its process in the
//!    `nginx-prometheus-exporter` container has uid and gid 1001 (real, effective, saved,
//!    filesystem), the upstream image's numeric user, which this image leaves without a
//!    passwd entry, as upstream's has none; and it still reports `nginx_up 1`.
//!
//! Slow (minutes) and needs root, podman, PostgreSQL, Redis, openssl and the images, so it
//! is ignored by default. Pods are one deployment at a time on this machine; run it in your
//! own state directory, under the shared lock, and bring the substrate down after:
//!
//! ```text
//! INDICO_SUBSTRATE_DIR=/var/lib/indico-substrate-<you> flock /run/indico-pods.lock sh -c \
//!   'cargo test -p indico-substrate --test pod_observability_images -- --ignored --nocapture; \
//!    target/debug/indico-substrate down'
//! ```
//!
//! The charm is deployed as in `cli_pods_scenarios` (`$INDICO_CHARM_DIR`, else the release
//! binary). Every wait is bounded; a timeout prints `status` and the debug log's tail.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use support::{Jar, block_on, diagnosis, ok, pebble, unit_address, wait_active_within};

const APP: &str = "indico-oi";
const UNIT: &str = "indico-oi/0";
const PG: &str = "pg-oi";
const BROKER: &str = "redis-broker-oi";
const CACHE: &str = "redis-cache-oi";
const IDP: &str = "saml-idp-oi";
/// The default `site_url` of `APP`, and so the SAML service provider's entity id.
const SITE_URL: &str = "http://indico-oi.local";
const HOST: &str = "indico-oi.local";
const IDP_ENTITY_ID: &str = "https://idp.example.com/saml/metadata";
const IDP_SSO_URL: &str = "https://idp.example.com/saml/sso";
/// The email the stand-in IdP vouches for in the SAML login.
const SAML_EMAIL: &str = "ada@example.com";
/// The Celery node name the charm gives the unit's worker.
const WORKER: &str = "indico-celery@indico-oi-0";
const WAIT: Duration = Duration::from_secs(600);

/// [`support::wait_until`] with this file's `WAIT`; returns the seconds it took.
fn wait_for(what: &str, done: impl FnMut() -> bool) -> f64 {
    support::wait_until(what, WAIT, done)
}

/// Runs `command` in `container` with `stdin`; fails the test on a non-zero exit.
fn exec(container: &str, command: &[&str], stdin: &[u8]) -> String {
    let request = pebble_client::ExecRequest {
        stdin: Some(stdin.to_vec()),
        timeout: Some(Duration::from_secs(60)),
        ..pebble_client::ExecRequest::new(command.iter().copied())
    };
    block_on(pebble(UNIT, container).exec(&request))
        .unwrap_or_else(|e| panic!("exec {command:?} in {container}: {e}"))
        .stdout_text()
}

fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// GETs `url` (with Indico's Host) until `accept` takes the answer, bounded.
fn get_until(client: &Client, url: &str, accept: impl Fn(&Response) -> bool) -> Response {
    let start = Instant::now();
    loop {
        let answer = client.get(url).header("Host", HOST).send();
        if let Ok(response) = &answer
            && accept(response)
        {
            return answer.unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "GET {url}: no acceptable answer within 240 s, last {answer:?}\n{}",
            diagnosis()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A self-signed certificate and its key, made by openssl: (key PEM, certificate PEM).
fn idp_certificate(dir: &Path) -> (String, String) {
    let key = dir.join("idp.key");
    let cert = dir.join("idp.crt");
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=idp.example.com", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        status.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    (
        std::fs::read_to_string(key).unwrap(),
        std::fs::read_to_string(cert).unwrap(),
    )
}

/// The certificate as saml-integrator publishes it: base64 DER, no armour, one line.
fn bare_base64(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
}

/// A local charm playing saml-integrator: its leader publishes the provider's application
/// bag on every hook of the `saml` relation.
fn idp_charm(dir: &Path, certificate: &str) -> PathBuf {
    let charm = dir.join("saml-idp");
    std::fs::create_dir_all(&charm).unwrap();
    std::fs::write(
        charm.join("metadata.yaml"),
        "name: saml-idp\nprovides:\n  saml:\n    interface: saml\n",
    )
    .unwrap();
    let binding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    let dispatch = format!(
        r#"#!/bin/sh
set -eu
case "$JUJU_DISPATCH_PATH" in
  hooks/install|hooks/start) status-set active ;;
  hooks/saml-relation-*)
    if [ "$(is-leader)" = True ]; then
      relation-set --app \
        entity_id={IDP_ENTITY_ID} \
        metadata_url={IDP_ENTITY_ID} \
        x509certs={certificate} \
        single_sign_on_service_redirect_url={IDP_SSO_URL} \
        single_sign_on_service_redirect_binding={binding} \
        single_logout_service_redirect_url=https://idp.example.com/saml/slo \
        single_logout_service_redirect_binding={binding}
    fi ;;
esac
"#
    );
    juju_runtime::testing::write_executable(&charm.join("dispatch"), dispatch.as_bytes()).unwrap();
    charm
}

/// Plays the identity provider's part of a login, in the `indico` container: builds the SAML
/// response an IdP would post back for `email` (subject, audience, recipient, validity
/// window, attributes), signs it with the IdP's key through python3-saml and xmlsec, and
/// prints it base64-encoded (the HTTP-POST binding) twice: as signed, and forged after
/// signing (another email). Reads the key, certificate and URLs as JSON on stdin.
const IDP_RESPONSE: &str = r#"
import base64, datetime, json, sys, uuid
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.utils import OneLogin_Saml2_Utils as U
p = json.load(sys.stdin)
now = datetime.datetime.now(datetime.timezone.utc)
def at(minutes):
    return (now + datetime.timedelta(minutes=minutes)).strftime('%Y-%m-%dT%H:%M:%SZ')
rid, aid = '_' + uuid.uuid4().hex, '_' + uuid.uuid4().hex
attribute = '<saml:Attribute Name="{}"><saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>'
doc = (
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
    'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
    f'ID="{rid}" Version="2.0" IssueInstant="{at(0)}" Destination="{p["acs"]}">'
    f'<saml:Issuer>{p["idp"]}</saml:Issuer>'
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
    f'<saml:Assertion ID="{aid}" Version="2.0" IssueInstant="{at(0)}">'
    f'<saml:Issuer>{p["idp"]}</saml:Issuer>'
    '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">'
    'saml-user-4711</saml:NameID>'
    '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
    f'<saml:SubjectConfirmationData NotOnOrAfter="{at(5)}" Recipient="{p["acs"]}"/>'
    '</saml:SubjectConfirmation></saml:Subject>'
    f'<saml:Conditions NotBefore="{at(-1)}" NotOnOrAfter="{at(5)}"><saml:AudienceRestriction>'
    f'<saml:Audience>{p["sp"]}</saml:Audience></saml:AudienceRestriction></saml:Conditions>'
    f'<saml:AuthnStatement AuthnInstant="{at(0)}" SessionIndex="{aid}"><saml:AuthnContext>'
    '<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
    '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>'
    '<saml:AttributeStatement>'
    + attribute.format('email', p['email'])
    + attribute.format('first_name', 'Ada')
    + attribute.format('last_name', 'Lovelace')
    + '</saml:AttributeStatement></saml:Assertion></samlp:Response>')
signed = U.add_sign(doc, p['key'], p['cert'], sign_algorithm=C.RSA_SHA256, digest_algorithm=C.SHA256)
signed = signed.decode() if isinstance(signed, bytes) else signed
forged = signed.replace(p['email'], 'mallory@example.com')
encode = lambda xml: base64.b64encode(xml.encode()).decode()
print(json.dumps({'signed': encode(signed), 'forged': encode(forged)}))
"#;

/// `# TYPE` names in a Prometheus text exposition.
fn exported_names(metrics: &str) -> Vec<String> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Every `flower_*` metric name in `text`, histogram suffixes removed.
fn flower_names_in(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("flower_"))
        .map(|w| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| w.strip_suffix(s))
                .unwrap_or(w)
                .to_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `Uid:` and `Gid:` of the process whose command line starts with `program`, read from
/// /proc inside `container`.
fn process_ids(container: &str, program: &str) -> String {
    let script = r#"for d in /proc/[0-9]*; do
  if tr '\0' ' ' < "$d/cmdline" 2>/dev/null | grep -q "^$1"; then grep -E '^(Uid|Gid):' "$d/status"; fi
done"#;
    exec(container, &["/bin/sh", "-c", script, "sh", program], b"")
}

/// A whole SAML login against Indico's assertion consumer, the IdP played by
/// [`IDP_RESPONSE`]: a response forged after signing is refused, and the signed one makes
/// Indico take the identity (a new user's registration, with the email the IdP vouched for).
fn saml_login(base: &str, idp_key: &str, idp_cert: &str) {
    let acs = format!("{SITE_URL}/multipass/saml/saml/acs");
    let input = serde_json::json!({
        "key": idp_key, "cert": idp_cert, "acs": acs, "sp": SITE_URL, "idp": IDP_ENTITY_ID,
        "email": SAML_EMAIL,
    });
    let printed = exec(
        "indico",
        &["/srv/indico/.venv/bin/python", "-c", IDP_RESPONSE],
        input.to_string().as_bytes(),
    );
    let responses: serde_json::Value = serde_json::from_str(printed.trim())
        .unwrap_or_else(|e| panic!("the IdP script printed {printed:?}: {e}"));
    let client = http();
    let post = |jar: &mut Jar, response: &str| {
        let answer = client
            .post(format!("{base}/multipass/saml/saml/acs"))
            .header("Host", HOST)
            .header("Cookie", jar.header())
            .form(&[("SAMLResponse", response)])
            .send()
            .expect("POST to the assertion consumer");
        jar.take(&answer);
        let to = support::location(&answer);
        (answer.status(), to)
    };

    let mut forged_jar = Jar::default();
    let (status, to) = post(
        &mut forged_jar,
        responses["forged"].as_str().unwrap_or_default(),
    );
    println!("  forged response: {status} to {to:?}");
    assert!(
        !to.contains("/register"),
        "a response altered after signing was accepted: {status} to {to}"
    );

    let mut jar = Jar::default();
    let (status, to) = post(&mut jar, responses["signed"].as_str().unwrap_or_default());
    println!("  signed response: {status} to {to:?}");
    assert!(
        status.is_redirection() && to.ends_with("/register/saml"),
        "the signed response was not taken as a new identity: {status} to {to:?}\n{}",
        diagnosis()
    );
    let register = client
        .get(format!("{base}/register/saml"))
        .header("Host", HOST)
        .header("Cookie", jar.header())
        .send()
        .expect("GET /register/saml");
    assert_eq!(register.status(), StatusCode::OK, "GET /register/saml");
    let page = register.text().expect("the registration page");
    assert!(
        page.contains(SAML_EMAIL) && !page.contains("mallory@example.com"),
        "the registration page does not offer the email the IdP vouched for:\n{page}"
    );
}

#[test]
#[ignore = "slow (minutes): runs the real charm in podman pods; needs root, podman, PostgreSQL, Redis"]
fn saml_celery_exporter_and_non_root_nginx_exporter_on_one_deployment() {
    let _teardown = support::Teardown::new(&[APP, PG, BROKER, CACHE, IDP]);
    let total = Instant::now();
    let scratch = tempfile::tempdir().unwrap();
    let (idp_key, idp_cert) = idp_certificate(scratch.path());
    let idp = idp_charm(scratch.path(), &bare_base64(&idp_cert));

    println!("deploy + integrate (with a SAML identity provider)");
    support::deploy_stack(APP, PG, BROKER, CACHE, &[]);
    ok(&["deploy", idp.to_str().unwrap(), IDP, "--local"]);
    ok(&["integrate", &format!("{APP}:saml"), IDP]);
    wait_active_within(UNIT, WAIT);
    let base = format!("http://{}:8080", unit_address(UNIT));
    let client = http();

    // 1. SAML.
    println!("1. SAML provider loaded by Indico");
    let login = get_until(&client, &format!("{base}/login/"), |r| {
        r.status() == StatusCode::OK
    })
    .text()
    .unwrap();
    assert!(
        login.contains("SAML SSO"),
        "the login page does not offer the SAML provider:\n{login}"
    );
    let metadata = get_until(
        &client,
        &format!("{base}/multipass/saml/saml/metadata"),
        |r| r.status() != StatusCode::BAD_GATEWAY && r.status() != StatusCode::SERVICE_UNAVAILABLE,
    );
    assert_eq!(metadata.status(), StatusCode::OK, "SP metadata");
    assert!(
        metadata
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("text/xml")),
        "SP metadata content type: {:?}",
        metadata.headers()
    );
    let metadata = metadata.text().unwrap();
    assert!(
        metadata.contains(&format!("entityID=\"{SITE_URL}\"")),
        "the SP entityID is not the site URL:\n{metadata}"
    );
    assert!(
        metadata.contains(&format!("Location=\"{SITE_URL}/multipass/saml/saml/acs\"")),
        "the assertion consumer is not on the site:\n{metadata}"
    );
    let start_login = client
        .get(format!("{base}/login/saml/"))
        .header("Host", HOST)
        .send()
        .expect("GET /login/saml/");
    let location = support::location(&start_login);
    assert!(
        start_login.status().is_redirection()
            && location.starts_with(&format!("{IDP_SSO_URL}?SAMLRequest=")),
        "GET /login/saml/: {} to {location:?}, expected a redirect to the IdP",
        start_login.status()
    );
    saml_login(&base, &idp_key, &idp_cert);

    // 2. The Celery exporter.
    println!("2. Flower exports the Celery worker");
    let flower = format!("http://{}:5555", unit_address(UNIT));
    let online = format!("flower_worker_online{{worker=\"{WORKER}\"}} 1.0");
    let mut metrics = String::new();
    wait_for("flower_worker_online 1 for this unit's worker", || {
        metrics = client
            .get(format!("{flower}/metrics"))
            .send()
            .and_then(Response::text)
            .unwrap_or_default();
        metrics.lines().any(|l| l.trim() == online)
    });
    let workers_online = metrics
        .lines()
        .filter(|l| l.starts_with("flower_worker_online{") && l.ends_with(" 1.0"))
        .count();
    println!("  workers online: {workers_online}");
    assert!(workers_online > 0);
    let exported = exported_names(&metrics);
    let repo = support::repo_root();
    let used = [
        "files/observability/grafana_dashboards/indico-overview.json",
        "files/observability/prometheus_alert_rules/indico.rules.yaml",
    ]
    .iter()
    .flat_map(|f| flower_names_in(&std::fs::read_to_string(repo.join(f)).unwrap()))
    .collect::<Vec<_>>();
    assert!(used.iter().any(|n| n == "flower_worker_online"), "{used:?}");
    for name in &used {
        assert!(
            exported.contains(name),
            "{name} is used by the dashboard or the rules but Flower does not export it: {exported:?}"
        );
    }
    for locked in ["/", "/workers", "/tasks", "/api/workers"] {
        let answer = client
            .get(format!("{flower}{locked}"))
            .send()
            .unwrap_or_else(|e| panic!("GET {locked} on Flower: {e}"));
        assert_eq!(
            answer.status(),
            StatusCode::UNAUTHORIZED,
            "Flower's {locked} must be locked"
        );
    }
    let health = client.get(format!("{flower}/healthcheck")).send().unwrap();
    assert_eq!(health.status(), StatusCode::OK, "Flower's /healthcheck");

    // 3. The nginx exporter runs as 1001:1001.
    println!("3. the nginx exporter is not root");
    let ids = process_ids("nginx-prometheus-exporter", "nginx-prometheus-exporter");
    println!("  {}", ids.replace('\n', " | "));
    let lines: Vec<&str> = ids.lines().collect();
    assert_eq!(lines.len(), 2, "one exporter process expected:\n{ids}");
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().skip(1).collect();
        assert_eq!(fields, ["1001"; 4], "{line}");
    }
    let flower_ids = process_ids("indico-celery", "/srv/flower/.venv/bin/python");
    assert!(
        flower_ids.lines().all(|l| l.contains("2000")) && !flower_ids.is_empty(),
        "Flower runs as indico (2000):\n{flower_ids}"
    );
    let exporter_metrics = get_until(
        &client,
        &format!("http://{}:9113/metrics", unit_address(UNIT)),
        |r| r.status() == StatusCode::OK,
    )
    .text()
    .unwrap();
    assert!(
        exporter_metrics.lines().any(|l| l.trim() == "nginx_up 1"),
        "the non-root exporter still reads stub_status"
    );
    println!("total: {:.1} s", total.elapsed().as_secs_f64());
}
