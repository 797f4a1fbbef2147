//! The Kubernetes API, used for one thing: when this unit is not Active, read its own Pod and
//! say what Kubernetes knows about why (`indico-celery: CrashLoopBackOff (restarts 7)`).
//!
//! Only a trusted application (`juju trust indico`) may read Pods; without trust the API says
//! 403, and outside a cluster there is no service-account token. Both are normal and skipped
//! quietly (a debug log): the status is then what the charm computed on its own.

use std::path::Path;
use std::time::Duration;

use juju_runtime::{Event, Status};
use kube::core::Request;
use kube::core::params::GetParams;
use kube::{Client, Config};
use serde::Deserialize;
use thiserror::Error;

use crate::containers::ContainerName;

/// The service-account token Kubernetes mounts into the charm container.
pub const TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/// The most one hook waits for the API server (a status is not worth a slow hook).
pub const API_TIMEOUT: Duration = Duration::from_secs(5);

/// The part of a Pod (`GET /api/v1/namespaces/{ns}/pods/{name}`, the `core/v1` Pod schema)
/// that says why containers are not running. Decoding only this, instead of k8s-openapi's
/// whole `Pod`, keeps about 2 MiB of deserializer out of every hook's binary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PodView {
    /// `status`.
    #[serde(default)]
    pub status: Option<PodStatusView>,
}

/// `status` of a Pod.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatusView {
    /// `status.containerStatuses`.
    #[serde(default)]
    pub container_statuses: Vec<ContainerStatusView>,
    /// `status.conditions`.
    #[serde(default)]
    pub conditions: Vec<PodConditionView>,
}

/// One of `status.containerStatuses`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatusView {
    /// The container name.
    pub name: String,
    /// Whether its readiness probe passes.
    #[serde(default)]
    pub ready: bool,
    /// How often Kubernetes restarted it.
    #[serde(default)]
    pub restart_count: i32,
    /// Its current state.
    #[serde(default)]
    pub state: Option<ContainerStateView>,
    /// Its previous state (how it last ended).
    #[serde(default)]
    pub last_state: Option<ContainerStateView>,
}

/// A container state: one of `waiting`, `running`, `terminated` is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ContainerStateView {
    /// `waiting`.
    #[serde(default)]
    pub waiting: Option<ReasonView>,
    /// `terminated`.
    #[serde(default)]
    pub terminated: Option<TerminatedView>,
}

/// A state's `reason` (CamelCase, e.g. `CrashLoopBackOff`); its `message` is never read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ReasonView {
    /// `reason`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `terminated`: reason and exit code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminatedView {
    /// `reason` (`Error`, `OOMKilled`, `Completed` ...).
    #[serde(default)]
    pub reason: Option<String>,
    /// `exitCode`.
    #[serde(default)]
    pub exit_code: i32,
}

/// One of `status.conditions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PodConditionView {
    /// `type` (`PodScheduled`, `Ready` ...).
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False`, `Unknown`.
    pub status: String,
    /// `reason`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Reading the Pod did not work.
#[derive(Debug, Error)]
pub enum KubernetesError {
    /// No in-cluster configuration (no token, no `KUBERNETES_SERVICE_HOST`).
    #[error("no in-cluster Kubernetes configuration: {0}")]
    NotInCluster(#[from] kube::config::InClusterError),
    /// The client could not be built (TLS setup).
    #[error("cannot build the Kubernetes client: {0}")]
    Client(#[source] Box<kube::Error>),
    /// The API refused: the application is not trusted (401/403).
    #[error("not allowed to read pod {pod} (is the application trusted?)")]
    NotTrusted {
        /// The Pod name.
        pod: String,
    },
    /// Any other API or transport failure.
    #[error("cannot read pod {pod}: {source}")]
    Api {
        /// The Pod name.
        pod: String,
        /// What kube said (boxed: kube's error is large).
        #[source]
        source: Box<kube::Error>,
    },
    /// The API server did not answer within [`API_TIMEOUT`].
    #[error("the Kubernetes API did not answer within {API_TIMEOUT:?}")]
    Timeout,
}

/// The Pod of a unit: `indico/0` runs in Pod `indico-0`.
pub fn pod_name(unit: &str) -> String {
    unit.replace('/', "-")
}

/// The in-cluster client of the charm container's service account; `Ok(None)` outside a
/// cluster (no token mounted).
pub fn in_cluster_client() -> Result<Option<Client>, KubernetesError> {
    if !Path::new(TOKEN_PATH).exists() {
        return Ok(None);
    }
    let mut config = Config::incluster()?;
    config.connect_timeout = Some(API_TIMEOUT);
    config.read_timeout = Some(API_TIMEOUT);
    Client::try_from(config)
        .map(Some)
        .map_err(|e| KubernetesError::Client(Box::new(e)))
}

/// Reads Pod `pod` in the client's namespace (the model's, from the service account).
pub async fn read_pod(client: &Client, pod: &str) -> Result<PodView, KubernetesError> {
    let path = format!("/api/v1/namespaces/{}/pods", client.default_namespace());
    let request = Request::new(path)
        .get(pod, &GetParams::default())
        .map_err(|e| KubernetesError::Api {
            pod: pod.to_owned(),
            source: Box::new(kube::Error::BuildRequest(e)),
        })?;
    match tokio::time::timeout(API_TIMEOUT, client.request::<PodView>(request)).await {
        Err(_) => Err(KubernetesError::Timeout),
        Ok(Ok(found)) => Ok(found),
        Ok(Err(kube::Error::Api(response))) if matches!(response.code, 401 | 403) => {
            Err(KubernetesError::NotTrusted {
                pod: pod.to_owned(),
            })
        }
        Ok(Err(source)) => Err(KubernetesError::Api {
            pod: pod.to_owned(),
            source: Box::new(source),
        }),
    }
}

/// Why one workload container is not ready, as its status says: the waiting or terminated
/// reason, or the last termination's for a container that restarted and is not ready again.
fn container_cause(status: &ContainerStatusView) -> Option<String> {
    let state = status.state.as_ref();
    let last_terminated = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref());
    let reason = if let Some(waiting) = state.and_then(|s| s.waiting.as_ref()) {
        waiting.reason.clone()
    } else if let Some(terminated) = state.and_then(|s| s.terminated.as_ref()) {
        Some(
            terminated
                .reason
                .clone()
                .unwrap_or_else(|| format!("exited with code {}", terminated.exit_code)),
        )
    } else if !status.ready && status.restart_count > 0 {
        Some(match last_terminated.and_then(|t| t.reason.as_deref()) {
            Some(reason) => format!("not ready, last exit {reason}"),
            None => "not ready".to_owned(),
        })
    } else {
        None
    }?;
    Some(if status.restart_count > 0 {
        format!(
            "{}: {reason} (restarts {})",
            status.name, status.restart_count
        )
    } else {
        format!("{}: {reason}", status.name)
    })
}

/// What the Pod says about why its workload containers are not all running, in container
/// order (`indico-celery: CrashLoopBackOff (restarts 7), indico-nginx: ImagePullBackOff`),
/// or that it is not scheduled; `None` when it says nothing that explains a problem. Only
/// reasons are used, never messages (which may quote the environment).
pub fn explain(pod: &PodView) -> Option<String> {
    let status = pod.status.as_ref()?;
    let mut causes: Vec<(ContainerName, String)> = status
        .container_statuses
        .iter()
        .filter_map(|s| Some((ContainerName::from_name(&s.name)?, container_cause(s)?)))
        .collect();
    causes.sort_by_key(|(name, _)| *name);
    if !causes.is_empty() {
        let causes: Vec<String> = causes.into_iter().map(|(_, cause)| cause).collect();
        return Some(causes.join(", "));
    }
    status
        .conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| format!("pod: {}", c.reason.as_deref().unwrap_or("not scheduled")))
}

/// [`explain`] for `unit`'s Pod read through `client`; `None` (with a debug log) when the Pod
/// cannot be read for any reason.
pub async fn pod_cause_with(client: &Client, unit: &str) -> Option<String> {
    match read_pod(client, &pod_name(unit)).await {
        Ok(pod) => explain(&pod),
        Err(e) => {
            tracing::debug!("no pod diagnosis: {e}");
            None
        }
    }
}

/// [`pod_cause_with`] through the in-cluster client; `None` outside a cluster or untrusted.
pub async fn pod_cause(unit: &str) -> Option<String> {
    match in_cluster_client() {
        Ok(Some(client)) => pod_cause_with(&client, unit).await,
        Ok(None) => {
            tracing::debug!("no pod diagnosis: no service-account token at {TOKEN_PATH}");
            None
        }
        Err(e) => {
            tracing::debug!("no pod diagnosis: {e}");
            None
        }
    }
}

/// Whether this hook asks Kubernetes: on update-status or when a container's Pebble is
/// unreachable, and only for a Waiting or Maintenance status (Blocked is the operator's to
/// fix, Active needs no explanation).
pub fn wants_pod_cause(event: &Event, status: &Status, pebble_unreachable: bool) -> bool {
    matches!(status, Status::Waiting(_) | Status::Maintenance(_))
        && (pebble_unreachable || matches!(event, Event::UpdateStatus))
}

/// `status` with `cause` appended to its message.
pub fn annotate(status: Status, cause: &str) -> Status {
    match status {
        Status::Waiting(message) => Status::Waiting(format!("{message}: {cause}")),
        Status::Maintenance(message) => Status::Maintenance(format!("{message}: {cause}")),
        other => other,
    }
}

/// `status`, explained by the Pod when [`wants_pod_cause`] and the Pod says something.
pub async fn explain_status(
    event: &Event,
    unit: &str,
    status: Status,
    pebble_unreachable: bool,
) -> Status {
    if !wants_pod_cause(event, &status, pebble_unreachable) {
        return status;
    }
    match pod_cause(unit).await {
        Some(cause) => annotate(status, &cause),
        None => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unhealthy_statuses_in_update_status_or_without_pebble_are_explained() {
        let waiting = Status::Waiting("Waiting for pebble".into());
        assert!(wants_pod_cause(&Event::UpdateStatus, &waiting, false));
        assert!(wants_pod_cause(&Event::ConfigChanged, &waiting, true));
        assert!(!wants_pod_cause(&Event::ConfigChanged, &waiting, false));
        assert!(!wants_pod_cause(
            &Event::UpdateStatus,
            &Status::Active,
            true
        ));
        let blocked = Status::Blocked("Configuration option site_url is not valid".into());
        assert!(!wants_pod_cause(&Event::UpdateStatus, &blocked, true));
    }

    #[test]
    fn the_cause_is_appended_to_the_message() {
        assert_eq!(
            annotate(
                Status::Waiting("Waiting for pebble".into()),
                "indico-celery: CrashLoopBackOff (restarts 7)"
            ),
            Status::Waiting(
                "Waiting for pebble: indico-celery: CrashLoopBackOff (restarts 7)".into()
            )
        );
        assert_eq!(annotate(Status::Active, "x"), Status::Active);
    }

    #[test]
    fn pods_are_named_after_units() {
        assert_eq!(pod_name("indico/12"), "indico-12");
    }
}
