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
