//! What `kubectl get pods` would show for a unit's pod: podman's container states plus
//! readiness computed by the substrate (podman 4.3 has no READY column): the charm
//! container is ready when running, a workload container when running and its Pebble
//! answers `health --level=ready` as healthy (no checks at all counts as healthy).

use std::path::Path;

use serde::Deserialize;

use super::{CHARM_CONTAINER, Engine, EngineError, PebbleCli, UnitName};

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    /// The container's name in the pod (`charm`, `indico`, ...).
    pub name: String,
    /// Podman's state (`running`, `exited`, `created`, ...).
    pub state: String,
    /// Whether the substrate considers it ready.
    pub ready: bool,
}

/// A unit's pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodStatus {
    /// The pod name.
    pub pod_name: String,
    /// Podman's pod state (`Running`, `Degraded`, `Exited`, ...).
    pub state: String,
    /// Its containers (the infra container left out), sorted by name.
    pub containers: Vec<ContainerStatus>,
}

impl PodStatus {
    /// `(ready, total)` containers.
    pub fn ready(&self) -> (usize, usize) {
        (
            self.containers.iter().filter(|c| c.ready).count(),
            self.containers.len(),
        )
    }

    /// One listing line: `indico-0   5/5   Running`.
    pub fn line(&self) -> String {
        let (ready, total) = self.ready();
        format!(
            "{:<20} {:>5}   {}",
            self.pod_name,
            format!("{ready}/{total}"),
            self.state
        )
    }
}

#[derive(Debug, Deserialize)]
struct PodInspect {
    #[serde(rename = "State")]
    state: String,
    #[serde(rename = "Containers", default)]
    containers: Vec<PodContainer>,
}

#[derive(Debug, Deserialize)]
struct PodContainer {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "State")]
    state: String,
}

/// The status of `unit`'s pod, or `None` when it has no pod. `pebble_binary` is the host
/// `pebble` used as health client.
pub fn pod_status(
    engine: &Engine,
    unit: &UnitName,
    pebble_binary: &Path,
) -> Result<Option<PodStatus>, EngineError> {
    let pod_name = unit.pod_name();
    if !engine
        .podman()
        .check(["pod", "exists", pod_name.as_str()])?
    {
        return Ok(None);
    }
    let json = engine
        .podman()
        .run(["pod", "inspect", pod_name.as_str()])?
        .stdout;
    let inspect: PodInspect = match serde_json::from_str::<Vec<PodInspect>>(&json) {
        Ok(mut list) if !list.is_empty() => list.swap_remove(0),
        _ => serde_json::from_str(&json).map_err(|e| EngineError::UnexpectedOutput {
            command: format!("podman pod inspect {pod_name}"),
            detail: e.to_string(),
        })?,
    };
    let prefix = format!("{pod_name}-");
    let mut containers: Vec<ContainerStatus> = inspect
        .containers
        .into_iter()
        .filter_map(|c| {
            let name = c.name.strip_prefix(&prefix)?.to_owned();
            let running = c.state == "running";
            let ready = running
                && (name == CHARM_CONTAINER || {
                    let socket = engine.state().pebble_socket(&pod_name, &name);
                    PebbleCli::new(pebble_binary, &socket).is_healthy("ready")
                });
            Some(ContainerStatus {
                name,
                state: c.state,
                ready,
            })
        })
        .collect();
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(PodStatus {
        pod_name,
        state: inspect.state,
        containers,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_line_counts_ready_containers() {
        let status = PodStatus {
            pod_name: "indico-0".into(),
            state: "Running".into(),
            containers: vec![
                ContainerStatus {
                    name: "charm".into(),
                    state: "running".into(),
                    ready: true,
                },
                ContainerStatus {
                    name: "indico".into(),
                    state: "running".into(),
                    ready: false,
                },
            ],
        };
        assert_eq!(status.ready(), (1, 2));
        assert!(status.line().starts_with("indico-0 "), "{}", status.line());
        assert!(
            status.line().ends_with("1/2   Running"),
            "{}",
            status.line()
        );
    }
}
