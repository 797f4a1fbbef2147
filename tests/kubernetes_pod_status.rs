//! The Pod diagnosis through kube's real `Client` and `Api<Pod>` over an in-process transport
//! that answers as the API server does (Pod JSON shaped as the API server returns it for a
//! Juju sidecar unit, and its 403 Status for an untrusted application): the request path,
//! the cause put into the status, and a refusal skipped quietly.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use indico_charm::kubernetes::{self, KubernetesError, PodView};
use juju_runtime::{Event, Status};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::client::Body;

const NAMESPACE: &str = "events";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/kubernetes/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A client whose every request is answered with `status` and the fixture `body`, and the
/// request URIs it received.
fn client(status: u16, body: &'static str) -> (Client, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let service = tower::service_fn(move |request: Request<Body>| {
        record.lock().unwrap().push(request.uri().to_string());
        let response = Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(fixture(body)))
            .expect("a valid response");
        async move { Ok::<_, Infallible>(response) }
    });
    (Client::new(service, NAMESPACE), seen)
}

/// The fixture as the charm decodes it, after checking that it is a valid `core/v1` Pod for
/// k8s-openapi's complete type (so the fixtures cannot drift from the API's schema).
fn pod(name: &str) -> PodView {
    let bytes = fixture(name);
    let full: Pod = serde_json::from_slice(&bytes).expect("the fixture is a core/v1 Pod");
    assert_eq!(full.metadata.name.as_deref(), Some("indico-0"));
    serde_json::from_slice(&bytes).expect("the charm's view decodes it")
}

#[test]
fn the_view_reads_the_fields_k8s_openapi_reads() {
    let bytes = fixture("pod-celery-crashloop.json");
    let full: Pod = serde_json::from_slice(&bytes).unwrap();
    let view = pod("pod-celery-crashloop.json");
    let full_statuses = full.status.unwrap().container_statuses.unwrap();
    let view_statuses = view.status.unwrap().container_statuses;
    assert_eq!(full_statuses.len(), view_statuses.len());
    for (f, v) in full_statuses.iter().zip(&view_statuses) {
        assert_eq!(
            (f.name.as_str(), f.ready, f.restart_count),
            (v.name.as_str(), v.ready, v.restart_count)
        );
        let f_waiting = f
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone());
        let v_waiting = v
            .state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone());
        assert_eq!(f_waiting, v_waiting, "{}", f.name);
    }
}

#[tokio::test]
async fn a_crash_looping_celery_worker_is_named_with_its_restarts() {
    let (client, seen) = client(200, "pod-celery-crashloop.json");
    let cause = kubernetes::pod_cause_with(&client, "indico/0").await;
    assert_eq!(
        cause.as_deref(),
        Some("indico-celery: CrashLoopBackOff (restarts 7)")
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        ["/api/v1/namespaces/events/pods/indico-0"]
    );
    let status = kubernetes::annotate(
        Status::Waiting("Waiting for pebble".into()),
        &cause.unwrap(),
    );
    assert_eq!(
        status,
        Status::Waiting("Waiting for pebble: indico-celery: CrashLoopBackOff (restarts 7)".into())
    );
}

#[tokio::test]
async fn a_healthy_pod_adds_nothing() {
    let (client, _) = client(200, "pod-healthy.json");
    assert_eq!(kubernetes::pod_cause_with(&client, "indico/0").await, None);
}

#[tokio::test]
async fn an_untrusted_application_is_refused_and_skipped_quietly() {
    let (client, seen) = client(403, "status-forbidden.json");
    let err = kubernetes::read_pod(&client, "indico-0").await.unwrap_err();
    assert!(
        matches!(err, KubernetesError::NotTrusted { ref pod } if pod == "indico-0"),
        "{err:?}"
    );
    assert_eq!(kubernetes::pod_cause_with(&client, "indico/0").await, None);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn another_api_error_is_an_error_not_a_cause() {
    let (client, _) = client(500, "status-internal-error.json");
    let err = kubernetes::read_pod(&client, "indico-0").await.unwrap_err();
    assert!(matches!(err, KubernetesError::Api { .. }), "{err:?}");
    assert_eq!(kubernetes::pod_cause_with(&client, "indico/0").await, None);
}

#[test]
fn several_problems_are_listed_in_container_order_with_reasons_only() {
    let cause = kubernetes::explain(&pod("pod-oomkilled-and-image-pull.json"));
    assert_eq!(
        cause.as_deref(),
        Some("indico: not ready, last exit OOMKilled (restarts 2), indico-nginx: ImagePullBackOff")
    );
    // Messages (which may quote image names, the environment ...) are never used.
    assert!(!cause.unwrap().contains("Back-off pulling"));
}

#[test]
fn an_unscheduled_pod_says_so() {
    assert_eq!(
        kubernetes::explain(&pod("pod-unschedulable.json")).as_deref(),
        Some("pod: Unschedulable")
    );
}

#[tokio::test]
async fn outside_a_cluster_nothing_is_asked() {
    // No service-account token on a development machine or in CI: skipped, status unchanged.
    if std::path::Path::new(kubernetes::TOKEN_PATH).exists() {
        return;
    }
    let waiting = Status::Waiting("Waiting for pebble".into());
    let status =
        kubernetes::explain_status(&Event::UpdateStatus, "indico/0", waiting.clone(), true).await;
    assert_eq!(status, waiting);
}

#[tokio::test]
async fn the_real_tls_client_builds_and_an_unreachable_api_server_is_skipped() {
    // The production client stack (rustls with ring, kube's HTTPS connector), pointed at a
    // port where nothing listens: building it must not panic, and reading fails as an error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut config = kube::Config::new(format!("https://127.0.0.1:{port}").parse().unwrap());
    config.default_namespace = NAMESPACE.to_owned();
    let client = Client::try_from(config).expect("the TLS client builds");
    let err = kubernetes::read_pod(&client, "indico-0").await.unwrap_err();
    assert!(matches!(err, KubernetesError::Api { .. }), "{err:?}");
    assert_eq!(kubernetes::pod_cause_with(&client, "indico/0").await, None);
}

/// Command-line words for openssl: `first` then `second`.
fn args<'a>(
    first: &'a [&'a str],
    second: &'a [&'a str],
) -> impl Iterator<Item = std::ffi::OsString> + 'a {
    first.iter().chain(second).map(std::ffi::OsString::from)
}

/// `flag path` pairs for openssl.
fn files(pairs: &[(&str, std::path::PathBuf)]) -> impl Iterator<Item = std::ffi::OsString> + use<> {
    let items: Vec<std::ffi::OsString> = pairs
        .iter()
        .flat_map(|(flag, file)| {
            [
                std::ffi::OsString::from(flag),
                file.clone().into_os_string(),
            ]
        })
        .collect();
    items.into_iter()
}

/// A real HTTPS server (Python's http.server behind OpenSSL, with a throw-away cluster CA
/// and API server certificate) answering the Pod read with `fixture`, as the API server would.
struct TlsApiServer {
    child: std::process::Child,
    port: u16,
    ca_der: Vec<u8>,
    _dir: tempfile::TempDir,
}

impl TlsApiServer {
    fn start(fixture_name: &str) -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        // A cluster CA and an API server certificate it signed, as in a real cluster.
        std::fs::write(
            path("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let steps: [Vec<std::ffi::OsString>; 4] = [
            args(
                &["req", "-x509", "-days", "1", "-subj", "/CN=kubernetes-ca"],
                &ec,
            )
            .chain(files(&[
                ("-keyout", path("ca.key")),
                ("-out", path("ca.pem")),
            ]))
            .collect(),
            args(&["req", "-subj", "/CN=kube-apiserver"], &ec)
                .chain(files(&[
                    ("-keyout", path("key.pem")),
                    ("-out", path("server.csr")),
                ]))
                .collect(),
            args(&["x509", "-req", "-days", "1", "-CAcreateserial"], &[])
                .chain(files(&[
                    ("-in", path("server.csr")),
                    ("-CA", path("ca.pem")),
                    ("-CAkey", path("ca.key")),
                    ("-extfile", path("server.ext")),
                    ("-out", path("cert.pem")),
                ]))
                .collect(),
            args(&["x509", "-outform", "der"], &[])
                .chain(files(&[("-in", path("ca.pem")), ("-out", path("ca.der"))]))
                .collect(),
        ];
        for step in steps {
            let status = std::process::Command::new("openssl")
                .args(&step)
                .stderr(std::process::Stdio::null())
                .status()
                .expect("openssl is installed");
            assert!(status.success(), "openssl {step:?}");
        }
        let (key, cert, der) = (path("key.pem"), path("cert.pem"), path("ca.der"));
        let script = r#"
import http.server, ssl, sys
body = open(sys.argv[3], 'rb').read()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != '/api/v1/namespaces/events/pods/indico-0':
            self.send_response(404); self.end_headers(); return
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;
        let fixture_path = format!(
            "{}/tests/fixtures/kubernetes/{fixture_name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut child = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(&cert)
            .arg(&key)
            .arg(fixture_path)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is installed");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Self {
            child,
            port: line.trim().parse().expect("the server prints its port"),
            ca_der: std::fs::read(der).unwrap(),
            _dir: dir,
        }
    }
}

impl Drop for TlsApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_production_client_reads_the_pod_over_real_tls() {
    let server = TlsApiServer::start("pod-celery-crashloop.json");
    let mut config = kube::Config::new(
        format!("https://127.0.0.1:{}", server.port)
            .parse()
            .unwrap(),
    );
    config.default_namespace = NAMESPACE.to_owned();
    // As in-cluster: the cluster CA (the service account's ca.crt) is the only root.
    config.root_cert = Some(vec![server.ca_der.clone()]);
    let client = Client::try_from(config).unwrap();
    assert_eq!(
        kubernetes::pod_cause_with(&client, "indico/0")
            .await
            .as_deref(),
        Some("indico-celery: CrashLoopBackOff (restarts 7)")
    );
    // Another unit's Pod is not there: an error, so no cause.
    assert_eq!(kubernetes::pod_cause_with(&client, "indico/1").await, None);
}
