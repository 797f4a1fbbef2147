//! The reconcile for one dispatch: gather -> (leader duties Juju requires: the secret key, the
//! migrations) -> plan -> apply -> one status. Nothing is deferred: a missing dependency is a
//! status, and the next hook converges.

use std::collections::BTreeMap;

use juju_runtime::{Databag, Event, HookToolError, HookTools, JujuContext, Port, Scope, Status};
use pebble_client::Pebble;
use thiserror::Error;

use crate::actions::{self, ActionError};
use crate::apply::{self, ApplyError, ApplyReport};
use crate::containers::ContainerName;
use crate::customization;
use crate::gather::{self, GatherError};
use crate::interfaces::peers::MIGRATED_VERSION_KEY;
use crate::kubernetes::explain_status;
use crate::migrations::{self, MigrationDecision, MigrationError};
use crate::plan::{self, PlanError};
use crate::plugins::{self, InstalledPlugins};
use crate::secret_key::{self, SecretKeyError};
use crate::state::{SecretKeyState, State};
use crate::status;

/// The maintenance message while migrations run.
pub const MIGRATING_MESSAGE: &str = "Running database migrations";

/// A dispatch failed in a way a status cannot express: the hook exits non-zero and Juju
/// retries it.
#[derive(Debug, Error)]
pub enum CharmError {
    /// Gathering the state failed.
    #[error(transparent)]
    Gather(#[from] GatherError),
    /// Creating the secret key failed.
    #[error(transparent)]
    SecretKey(#[from] SecretKeyError),
    /// A database migration failed.
    #[error(transparent)]
    Migration(MigrationError),
    /// A template did not render.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Applying the plan failed.
    #[error(transparent)]
    Apply(ApplyError),
    /// A hook tool failed.
    #[error(transparent)]
    HookTool(#[from] HookToolError),
    /// An action could not report its outcome.
    #[error(transparent)]
    Action(#[from] ActionError),
}

/// What one dispatch did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The status reported (`None` when the event needs no reconcile, e.g. `remove`).
    pub status: Option<Status>,
    /// What apply changed.
    pub applied: ApplyReport,
}

/// Events that end the unit's life or that this charm does not handle: no reconcile.
fn skips_reconcile(event: &Event) -> bool {
    matches!(event, Event::Stop | Event::Remove | Event::Unknown(_))
}

/// Runs the reconcile for the event in `context`, taking every related backend as reachable
/// (what tests use: they must send no traffic). The charm binary runs [`run_probed`].
pub async fn run<H: HookTools, P: Pebble>(
    context: &JujuContext,
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
) -> Result<Outcome, CharmError> {
    run_probed(context, tools, pebbles, &gather::AssumeReachable).await
}

/// Runs the reconcile for the event in `context`; before reporting Active it asks `probe`
/// whether the database and both Redis servers accept connections, and waits naming the
/// relations whose server does not (see [`status::with_backends`]).
pub async fn run_probed<H: HookTools, P: Pebble>(
    context: &JujuContext,
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
    probe: &impl gather::BackendProbe,
) -> Result<Outcome, CharmError> {
    if let Event::Action(action) = &context.event {
        actions::run(context, action, tools, pebbles).await?;
        return Ok(Outcome {
            status: None,
            applied: ApplyReport::default(),
        });
    }
    if skips_reconcile(&context.event) {
        tracing::debug!("{}: nothing to reconcile", context.event.name());
        return Ok(Outcome {
            status: None,
            applied: ApplyReport::default(),
        });
    }

    // Juju puts a unit's opened ports on the application's Kubernetes Service, which
    // nginx-route points at. Opened ports persist, so the charm opens nginx's port when it
    // is installed or upgraded, and no other hook pays for it.
    if matches!(context.event, Event::Install | Event::UpgradeCharm) {
        tools.open_port(Port::Tcp(crate::plan::files::WEB_PORT))?;
    }

    let mut state = gather::gather(context, tools, pebbles).await?;
    ensure_secret_key(context, tools, &mut state)?;
    migrate_if_needed(tools, pebbles, &mut state).await?;
    prepare_extensions(tools, pebbles, &mut state).await?;

    let desired = plan::plan(&state)?;
    // This unit's own bags on the optional relations (ingress address, scrape address).
    for write in plan::relation_data::unit_writes(&state) {
        tools.relation_set(&write.relation, Scope::Unit, &write.data)?;
    }
    let applied = match apply::apply(&desired, &state, tools, pebbles).await {
        Ok(report) => report,
        Err(e) if e.is_unreachable() => {
            tracing::info!("{e}");
            let waiting = Status::Waiting("Waiting for pebble".into());
            let status = explain_status(&context.event, &state.unit.unit, waiting, true).await;
            return report(tools, status, None, ApplyReport::default());
        }
        Err(e) => return Err(CharmError::Apply(e)),
    };
    let final_status = if desired.status.is_active() {
        match apply::health(&desired, pebbles).await {
            Ok(health) => status::after_apply(desired.status.clone(), &health),
            Err(e) if e.is_unreachable() => Status::Waiting("Waiting for pebble".into()),
            Err(e) => return Err(CharmError::Apply(e)),
        }
    } else {
        desired.status.clone()
    };
    let final_status = if desired.status.is_active() {
        status::with_backends(final_status, &gather::unreachable_backends(&state, probe))
    } else {
        final_status
    };
    let unreachable = state.containers.values().any(|c| !c.reachable)
        || final_status == Status::Waiting("Waiting for pebble".into());
    let final_status =
        explain_status(&context.event, &state.unit.unit, final_status, unreachable).await;
    report(
        tools,
        final_status,
        desired.workload_version.as_deref(),
        applied,
    )
}

fn report<H: HookTools>(
    tools: &H,
    status: Status,
    version: Option<&str>,
    applied: ApplyReport,
) -> Result<Outcome, CharmError> {
    tools.status_set(Scope::Unit, &status)?;
    if let Some(version) = version {
        tools.application_version_set(version)?;
    }
    Ok(Outcome {
        status: Some(status),
        applied,
    })
}

/// The leader creates the secret key in any hook where it is still missing (usually
/// leader-elected, the first hook after the peer relation exists).
fn ensure_secret_key<H: HookTools>(
    context: &JujuContext,
    tools: &H,
    state: &mut State,
) -> Result<(), CharmError> {
    if !state.leader || state.secret_key != SecretKeyState::Missing {
        return Ok(());
    }
    let Some(peers) = state.peers() else {
        return Ok(());
    };
    let has_secrets = secret_key::juju_has_secrets(&context.juju_version);
    let key = secret_key::create(tools, peers, has_secrets)?;
    state.secret_key = SecretKeyState::Available(key);
    Ok(())
}

/// The leader migrates the schema when its image's version differs from the marker, then
/// records the marker so that every unit starts Indico.
async fn migrate_if_needed<H: HookTools, P: Pebble>(
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
    state: &mut State,
) -> Result<(), CharmError> {
    let environment = plan::indico_environment(state);
    let MigrationDecision::Run { version } = migrations::decide(state, environment.is_some())
    else {
        return Ok(());
    };
    let (Some(environment), Some(pebble), Some(peers)) = (
        environment,
        pebbles.get(&ContainerName::Indico),
        state.peers(),
    ) else {
        return Ok(());
    };
    if !state.reachable(ContainerName::Indico) {
        return Ok(());
    }
    tools.status_set(Scope::Unit, &Status::Maintenance(MIGRATING_MESSAGE.into()))?;
    tracing::info!("migrating the database schema to Indico {version}");
    match migrations::run(pebble, environment.variables()).await {
        Ok(()) => {
            let marker = Databag::from([(MIGRATED_VERSION_KEY.to_owned(), version.clone())]);
            tools.relation_set(&peers.relation_id, Scope::App, &marker)?;
            state.migration.migrated_version = Some(version);
            Ok(())
        }
        Err(MigrationError::MissingExtensions) => {
            state.migration.blocked = Some(migrations::MISSING_EXTENSIONS_MESSAGE.into());
            Ok(())
        }
        Err(e) => Err(CharmError::Migration(e)),
    }
}

/// The maintenance message while external plugins are installed.
pub const INSTALLING_PLUGINS_MESSAGE: &str = "Installing external plugins";
/// The maintenance message while the customization repository is cloned.
pub const CLONING_CUSTOMIZATION_MESSAGE: &str = "Cloning the customization repository";

/// Installs the external plugins and (re)clones the customization repository where the
/// containers' records differ from the config, before the plan puts the result into the
/// layers. Failures become a Blocked status (the next hook tries again); a container that
/// went away becomes unreachable (Waiting for pebble).
async fn prepare_extensions<H: HookTools, P: Pebble>(
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
    state: &mut State,
) -> Result<(), CharmError> {
    let plugin_containers = plugins::due(state);
    let clone = customization::due(state);
    let (Ok(config), Ok(proxy)) = (&state.config, &state.proxy) else {
        return Ok(());
    };
    let (config, proxy_env) = (config.clone(), plugins::proxy_environment(proxy));
    if let (false, Some(wanted), Some(version)) = (
        plugin_containers.is_empty(),
        plugins::wanted(state),
        state.migration.image_version.clone(),
    ) {
        tools.status_set(
            Scope::Unit,
            &Status::Maintenance(INSTALLING_PLUGINS_MESSAGE.into()),
        )?;
        for container in plugin_containers {
            let Some(pebble) = pebbles.get(&container) else {
                continue;
            };
            let specs = &config.external_plugins;
            match plugins::install(pebble, container, specs, &version, &proxy_env, false).await {
                Ok(report) => {
                    let installed = InstalledPlugins {
                        marker: wanted.clone(),
                        names: report.names,
                    };
                    state.extensions.plugins.insert(container, installed);
                }
                Err(e) if e.unreachable => mark_unreachable(state, container, &e),
                Err(e) => {
                    tracing::warn!("{e}");
                    state.extensions.blocked.get_or_insert(e.to_string());
                }
            }
        }
    }
    if let (true, Some(pebble)) = (clone, pebbles.get(&ContainerName::Indico)) {
        let url = config.customization_sources_url.as_deref();
        if url.is_some() {
            tools.status_set(
                Scope::Unit,
                &Status::Maintenance(CLONING_CUSTOMIZATION_MESSAGE.into()),
            )?;
        }
        match customization::sync(pebble, url, &proxy_env).await {
            Ok(()) => state.extensions.customization = url.map(customization::marker),
            Err(e) if e.unreachable => mark_unreachable(state, ContainerName::Indico, &e),
            Err(e) => {
                tracing::warn!("{e}");
                state.extensions.blocked.get_or_insert(e.to_string());
            }
        }
    }
    Ok(())
}

fn mark_unreachable(state: &mut State, container: ContainerName, why: &dyn std::fmt::Display) {
    tracing::info!("{why}");
    if let Some(c) = state.containers.get_mut(&container) {
        c.reachable = false;
    }
}

#[cfg(test)]
mod tests;
