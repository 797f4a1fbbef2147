//! The pure plan: from a [`State`] to the [`DesiredPod`] (each reachable container's layer and
//! files, the relation data this unit writes, the status). No I/O, no clock, no randomness.

pub mod environment;
pub mod files;
pub mod layers;
pub mod relation_data;

use std::collections::BTreeMap;
use std::fmt;

use juju_runtime::{RelationId, Status};
use pebble_client::Layer;

use crate::celery;
use crate::containers::ContainerName;
use crate::interfaces::peers::CELERY_UNIT_KEY;
use crate::interfaces::{Databag, database};
use crate::migrations::{self, MigrationDecision};
use crate::render::RenderError;
use crate::state::{SecretKeyState, State};
use crate::status;

pub use environment::IndicoEnvironment;
pub use files::DesiredFile;

/// What one container should look like.
#[derive(Clone, PartialEq)]
pub struct DesiredContainer {
    /// The layer to add (label [`layers::LABEL`], combined). Its environment may hold secrets.
    pub layer: Layer,
    /// The files to push before the layer is added.
    pub files: Vec<DesiredFile>,
}

impl fmt::Debug for DesiredContainer {
    // The layer's environment holds the database URI and the secret key: show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DesiredContainer")
            .field("services", &self.layer.services.keys().collect::<Vec<_>>())
            .field("checks", &self.layer.checks.keys().collect::<Vec<_>>())
            .field("files", &self.files)
            .finish()
    }
}

/// Keys this unit (as leader) writes into an application bag; only keys whose value differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelationWrite {
    /// The relation.
    pub relation: RelationId,
    /// The keys and their new values.
    pub data: Databag,
}

/// Everything the unit should look like after this hook.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPod {
    /// Containers to configure now (reachable ones whose prerequisites are met).
    pub containers: BTreeMap<ContainerName, DesiredContainer>,
    /// Application data to write (leader only).
    pub relation_writes: Vec<RelationWrite>,
    /// The status before the services' health is known (see [`status::after_apply`]).
    pub status: Status,
    /// Indico's version, for application-version-set.
    pub workload_version: Option<String>,
}

/// Planning failed: a template did not render. A bug, never bad input.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PlanError(#[from] RenderError);

/// Indico's environment, when every part of it is available and valid.
pub fn indico_environment(state: &State) -> Option<IndicoEnvironment> {
    let config = state.config.as_ref().ok()?;
    let proxy = state.proxy.as_ref().ok()?;
    let database = state.database.as_ref().ok()?.ready()?;
    let broker = state.redis_broker.as_ref().ok()?.ready()?;
    let cache = state.redis_cache.as_ref().ok()?.ready()?;
    let SecretKeyState::Available(key) = &state.secret_key else {
        return None;
    };
    let mut environment = IndicoEnvironment::new(config, proxy, database, broker, cache, key);
    environment.relations = relation_data::indico_settings(state)?;
    Some(environment)
}

/// The unit that should run Celery beat, as this unit sees it: the leader's choice (which it
/// writes in this hook), or what the leader published.
pub fn beat_unit(state: &State) -> Option<String> {
    let peers = state.peers()?;
    if state.leader {
        Some(celery::choose_beat_unit(
            peers.app.celery_unit.as_deref(),
            &state.unit.unit,
            &peers.other_units,
            state.departing_unit.as_deref(),
        ))
    } else {
        peers.app.celery_unit.clone()
    }
}

fn changed_keys(current: &Databag, wanted: &Databag) -> Databag {
    wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn relation_writes(state: &State) -> Vec<RelationWrite> {
    if !state.leader {
        return Vec::new();
    }
    let mut writes = Vec::new();
    if let Some(relation) = state.database_relation.as_ref().filter(|r| r.write_request) {
        writes.push(RelationWrite {
            relation: relation.id.clone(),
            data: database::request(),
        });
    }
    if let (Some(peers), Some(beat)) = (state.peers(), beat_unit(state)) {
        let mut wanted = Databag::from([(CELERY_UNIT_KEY.to_owned(), beat)]);
        wanted.extend(relation_data::peer_keys(state, peers));
        let data = changed_keys(&peers.raw_app, &wanted);
        if !data.is_empty() {
            writes.push(RelationWrite {
                relation: peers.relation_id.clone(),
                data,
            });
        }
    }
    writes.extend(relation_data::app_writes(state));
    writes
}

/// Whether this hook configures the Indico containers: Indico's environment is complete and
/// the schema is migrated (plugins are installed and the customization cloned only then).
pub fn configures_indico(state: &State) -> bool {
    indico_environment(state).is_some()
        && migrations::decide(state, true) == MigrationDecision::UpToDate
}

/// `base` plus the external plugins' (and in `indico`, the customization's) variables, when
/// `container` is reachable and its plugins and clone match the config; else `None`, and the
/// container is left as it is in this hook.
fn with_extensions(
    state: &State,
    container: ContainerName,
    base: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    if !state.reachable(container) {
        return None;
    }
    let mut variables = base.clone();
    variables.extend(crate::plugins::environment(state, container)?);
    relation_data::keep_required_plugins(&mut variables, base);
    if container == ContainerName::Indico {
        variables.extend(crate::customization::environment(state)?);
    }
    Some(variables)
}

/// Computes the desired pod.
pub fn plan(state: &State) -> Result<DesiredPod, PlanError> {
    let environment = indico_environment(state);
    let migration = migrations::decide(state, environment.is_some());
    let status = status::assess(state, &migration);
    let mut containers = BTreeMap::new();
    let valid_setup = state.config.is_ok() && state.proxy.is_ok();
    if let (true, Ok(config)) = (valid_setup, &state.config) {
        if state.reachable(ContainerName::IndicoNginx) {
            let conf = files::nginx_conf(config)?;
            let hash = files::content_hash(std::slice::from_ref(&conf));
            containers.insert(
                ContainerName::IndicoNginx,
                DesiredContainer {
                    layer: layers::nginx(&hash),
                    files: vec![conf],
                },
            );
        }
        if state.reachable(ContainerName::NginxPrometheusExporter) {
            containers.insert(
                ContainerName::NginxPrometheusExporter,
                DesiredContainer {
                    layer: layers::exporter(),
                    files: Vec::new(),
                },
            );
        }
    }
    if let (Some(environment), Ok(config), MigrationDecision::UpToDate) =
        (&environment, &state.config, &migration)
    {
        let variables = environment.variables();
        if let Some(variables) = with_extensions(state, ContainerName::Indico, &variables) {
            let ini = files::uwsgi_ini(config)?;
            let hash = files::content_hash(std::slice::from_ref(&ini));
            containers.insert(
                ContainerName::Indico,
                DesiredContainer {
                    layer: layers::indico(variables.clone(), &hash),
                    files: vec![ini],
                },
            );
        }
        if let Some(variables) = with_extensions(state, ContainerName::IndicoCelery, &variables) {
            let beat = celery::runs_beat(beat_unit(state).as_deref(), &state.unit.unit);
            containers.insert(
                ContainerName::IndicoCelery,
                DesiredContainer {
                    layer: layers::celery(variables, &state.unit.unit, beat),
                    files: Vec::new(),
                },
            );
        }
    }
    for (name, container) in &mut containers {
        container.layer.log_targets = relation_data::log_targets(state, *name);
    }
    Ok(DesiredPod {
        containers,
        relation_writes: relation_writes(state),
        status,
        workload_version: state.migration.image_version.clone(),
    })
}

#[cfg(test)]
mod tests;
