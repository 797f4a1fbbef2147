//! Apply: make each reachable container match its desired layer and files with as few Pebble
//! changes as possible, write the leader's relation data, and read the services' health.
//!
//! Per container: if the current plan already satisfies the desired layer, nothing is done
//! (zero pushes, layer adds, replans). Otherwise the container's files are pushed, the layer is
//! added (label `indico`, combined) and Pebble replans, which restarts exactly the services
//! whose definition changed; a service's definition carries the hash of the files it reads.
//! After a Pebble restart the layer is gone, so the same rule re-pushes and re-adds.

use std::collections::BTreeMap;

use juju_runtime::{HookToolError, HookTools, Scope};
use pebble_client::{CheckStatus, Error as PebbleError, Pebble, PushOptions};
use thiserror::Error;

use crate::containers::ContainerName;
use crate::plan::{DesiredContainer, DesiredPod, layers};
use crate::state::{ContainerState, State};
use crate::status::Health;

/// What apply changed, for logs and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Containers whose layer was (re)applied.
    pub changed_containers: Vec<ContainerName>,
    /// Files pushed.
    pub pushes: usize,
    /// Layers added.
    pub layer_adds: usize,
    /// Replans.
    pub replans: usize,
    /// Relation bags written.
    pub relation_writes: usize,
}

/// Applying failed.
#[derive(Debug, Error)]
pub enum ApplyError {
    /// A Pebble call failed.
    #[error("container {container}: {source}")]
    Pebble {
        /// The container.
        container: ContainerName,
        /// What went wrong.
        #[source]
        source: PebbleError,
    },
    /// A hook tool failed.
    #[error(transparent)]
    HookTool(#[from] HookToolError),
}

impl ApplyError {
    /// Whether the container's Pebble went away during the hook (a Waiting status, not a
    /// failure: the next pebble-ready converges).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Pebble {
                source: PebbleError::CannotConnect { .. },
                ..
            }
        )
    }
}

async fn apply_container(
    name: ContainerName,
    desired: &DesiredContainer,
    pebble: &impl Pebble,
    report: &mut ApplyReport,
) -> Result<(), PebbleError> {
    for file in &desired.files {
        let options = PushOptions {
            make_dirs: true,
            permissions: Some(file.permissions),
            user: Some(file.user.clone()),
            group: Some(file.group.clone()),
            ..PushOptions::default()
        };
        pebble.push(&file.path, &file.content, &options).await?;
        report.pushes += 1;
    }
    pebble
        .add_layer(layers::LABEL, &desired.layer, true)
        .await?;
    report.layer_adds += 1;
    match pebble.replan().await {
        Ok(()) => {}
        // A service that exits at once fails the replan change; Pebble keeps restarting it
        // (on-failure: restart) and the health check turns it into a Waiting status. Failing
        // the hook would only put the unit in error for what Pebble is already handling.
        Err(PebbleError::ChangeFailed { err, .. }) => {
            tracing::warn!("container {name}: replan did not start every service: {err}");
        }
        Err(e) => return Err(e),
    }
    report.replans += 1;
    report.changed_containers.push(name);
    tracing::info!("container {name}: configuration applied and replanned");
    Ok(())
}

/// Writes the leader's relation data (only keys whose value differs are in the plan).
pub fn write_relations<H: HookTools>(
    desired: &DesiredPod,
    tools: &H,
    report: &mut ApplyReport,
) -> Result<(), ApplyError> {
    for write in &desired.relation_writes {
        tools.relation_set(&write.relation, Scope::App, &write.data)?;
        report.relation_writes += 1;
    }
    Ok(())
}

/// Applies every desired container whose current plan does not satisfy its layer.
/// `observed` holds each container's plan as gather read it.
pub async fn apply_containers<P: Pebble>(
    desired: &DesiredPod,
    observed: &BTreeMap<ContainerName, ContainerState>,
    pebbles: &BTreeMap<ContainerName, P>,
    report: &mut ApplyReport,
) -> Result<(), ApplyError> {
    for (name, container) in &desired.containers {
        let current = observed.get(name).and_then(|c| c.current_plan.as_ref());
        if current.is_some_and(|plan| plan.satisfies(&container.layer)) {
            continue;
        }
        let Some(pebble) = pebbles.get(name) else {
            continue;
        };
        apply_container(*name, container, pebble, report)
            .await
            .map_err(|source| ApplyError::Pebble {
                container: *name,
                source,
            })?;
    }
    Ok(())
}

/// Applies the relation writes, then the containers.
pub async fn apply<H: HookTools, P: Pebble>(
    desired: &DesiredPod,
    state: &State,
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    write_relations(desired, tools, &mut report)?;
    apply_containers(desired, &state.containers, pebbles, &mut report).await?;
    Ok(report)
}

/// The health of the desired services and their checks (read-only Pebble calls).
pub async fn health<P: Pebble>(
    desired: &DesiredPod,
    pebbles: &BTreeMap<ContainerName, P>,
) -> Result<Health, ApplyError> {
    let mut health = Health::default();
    for (name, container) in &desired.containers {
        let Some(pebble) = pebbles.get(name) else {
            continue;
        };
        let wrap = |source| ApplyError::Pebble {
            container: *name,
            source,
        };
        let services: Vec<&str> = container
            .layer
            .services
            .keys()
            .map(String::as_str)
            .collect();
        let infos = pebble.services(&services).await.map_err(wrap)?;
        for service in &services {
            // Pebble skips names it does not know: a missing service is not running either.
            let running = infos.iter().any(|i| i.name == *service && i.is_running());
            if !running {
                health.not_running.push((*service).to_owned());
            }
        }
        let checks: Vec<&str> = container.layer.checks.keys().map(String::as_str).collect();
        for info in pebble.checks(None, &checks).await.map_err(wrap)? {
            if info.status == CheckStatus::Down {
                health.failing_checks.push(info.name);
            }
        }
    }
    Ok(health)
}

#[cfg(test)]
mod tests;
