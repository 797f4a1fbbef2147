//! The optional relations in the plan: what this charm publishes on them (application bags as
//! leader, unit bags as every unit), the leader's peer record of which optional endpoints are
//! related, the Indico settings they give (SMTP, S3 storage, SAML), and the Loki log targets
//! of every container. Pure: computed from the [`State`] only.

use std::collections::BTreeMap;

use pebble_client::LogTarget;

use super::RelationWrite;
use super::files::WEB_PORT;
use crate::containers::ContainerName;
use crate::interfaces::peers::Peers;
use crate::interfaces::s3::{self, S3Storage};
use crate::interfaces::saml::SamlIdentityProvider;
use crate::interfaces::smtp::SmtpSettings;
use crate::interfaces::{
    Availability, Databag, JujuTopology, OPTIONAL_ENDPOINTS, RELATED_ENDPOINTS_KEY, bag_changes,
    grafana_dashboard, ingress, logging, metrics_endpoint, nginx_route, unit_fqdn,
};
use crate::state::State;

/// The charm's name (metadata.yaml `name`), part of the observability topology.
pub const CHARM_NAME: &str = "indico";

/// The settings the optional relations give Indico. `None` fields: not related or not ready.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RelationSettings {
    /// The SMTP relay.
    pub smtp: Option<SmtpSettings>,
    /// The S3 attachment storage.
    pub s3: Option<S3Storage>,
    /// The SAML identity provider and this site's entity id (its base URL).
    pub saml: Option<(SamlIdentityProvider, String)>,
}

impl std::fmt::Debug for RelationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelationSettings")
            .field("smtp", &self.smtp.as_ref().map(|s| &s.host))
            .field("s3", &self.s3.as_ref().map(|s| &s.bucket))
            .field("saml", &self.saml.as_ref().map(|(idp, _)| &idp.entity_id))
            .finish()
    }
}

impl RelationSettings {
    /// The `INDICO_*` variables, merged over `env` (the SMTP sender replaces
    /// `INDICO_NO_REPLY_EMAIL`; S3 adds its plugin to `INDICO_PLUGINS`).
    pub fn apply_to(&self, env: &mut BTreeMap<String, String>) {
        if let Some(smtp) = &self.smtp {
            for (name, value) in smtp.variables() {
                env.insert(name.to_owned(), value);
            }
            if let Some(sender) = &smtp.sender {
                env.insert("INDICO_NO_REPLY_EMAIL".to_owned(), sender.clone());
            }
        }
        if let Some(storage) = &self.s3 {
            for (name, value) in storage.variables() {
                env.insert(name.to_owned(), value);
            }
            env.insert(PLUGINS_VAR.to_owned(), s3::PLUGIN.to_owned());
        }
        if let Some((idp, sp_entity_id)) = &self.saml {
            for (name, value) in idp.variables(sp_entity_id) {
                env.insert(name.to_owned(), value);
            }
        }
    }
}

/// indico.conf's plugin list.
const PLUGINS_VAR: &str = "INDICO_PLUGINS";

/// Keeps the plugins `base` requires (S3's `storage_s3`) in `variables`' plugin list when the
/// external plugins replaced it.
pub fn keep_required_plugins(
    variables: &mut BTreeMap<String, String>,
    base: &BTreeMap<String, String>,
) {
    let Some(required) = base.get(PLUGINS_VAR) else {
        return;
    };
    let current = variables.get(PLUGINS_VAR).cloned().unwrap_or_default();
    let mut names: Vec<&str> = current.split(',').filter(|n| !n.is_empty()).collect();
    for name in required.split(',').filter(|n| !n.is_empty()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    variables.insert(PLUGINS_VAR.to_owned(), names.join(","));
}

/// The Indico settings from the optional relations; `None` while one of them is malformed
/// (the status names it, and the Indico containers stay as they are).
pub fn indico_settings(state: &State) -> Option<RelationSettings> {
    let optional = &state.optional;
    let smtp = optional.smtp.as_ref().ok()?.ready().cloned();
    let s3 = optional.s3.as_ref().ok()?.ready().cloned();
    let saml = match optional.saml.as_ref().ok()? {
        Availability::Ready(idp) => {
            let site = state.config.as_ref().ok()?.site.base_url();
            Some((idp.clone(), site))
        }
        _ => None,
    };
    Some(RelationSettings { smtp, s3, saml })
}

/// This application's topology, as this unit sees it.
pub fn topology(state: &State) -> JujuTopology {
    JujuTopology {
        model: state.unit.model.clone(),
        model_uuid: state.optional.model_uuid.clone(),
        application: state.unit.app.clone(),
        unit: state.unit.unit.clone(),
        charm_name: CHARM_NAME.to_owned(),
    }
}

/// The keys of `wanted` whose value differs from `current` (other keys are left alone). An
/// empty value equals an absent key: Juju stores neither.
fn changed_only(current: &Databag, wanted: &Databag) -> Databag {
    wanted
        .iter()
        .filter(|(k, v)| current.get(*k).map(String::as_str).unwrap_or_default() != v.as_str())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The application bag this charm wants on `endpoint`, and whether it owns the whole bag
/// (keys it does not set are removed, as the library's `dump` clears the bag).
fn wanted_app_bag(state: &State, endpoint: &str) -> Option<(Databag, bool)> {
    let topology = topology(state);
    let app = &state.unit.app;
    let model = &state.unit.model;
    match endpoint {
        ingress::ENDPOINT => {
            let config = state.config.as_ref().ok()?;
            let bag = ingress::app_request(model, app, WEB_PORT, config.site.is_https());
            Some((bag, true))
        }
        nginx_route::ENDPOINT => {
            let config = state.config.as_ref().ok()?;
            let bag = nginx_route::request(config.site.host(), app, WEB_PORT, model);
            Some((bag, true))
        }
        metrics_endpoint::ENDPOINT => match metrics_endpoint::app_data(&topology) {
            Ok(bag) => Some((bag, false)),
            Err(e) => {
                tracing::error!("{e}");
                None
            }
        },
        grafana_dashboard::ENDPOINT => match grafana_dashboard::app_data(&topology) {
            Ok(bag) => Some((bag, false)),
            Err(e) => {
                tracing::error!("grafana dashboards: {e}");
                None
            }
        },
        logging::ENDPOINT => match logging::app_data(&topology) {
            Ok(bag) => Some((bag, false)),
            Err(e) => {
                tracing::error!("{e}");
                None
            }
        },
        s3::ENDPOINT => Some((s3::request(app), false)),
        _ => None,
    }
}

/// The leader's writes to the optional relations' application bags read in this hook.
pub fn app_writes(state: &State) -> Vec<RelationWrite> {
    if !state.leader {
        return Vec::new();
    }
    state
        .optional
        .own_bags
        .iter()
        .filter_map(|own| {
            let current = own.app.as_ref()?;
            let (wanted, owns_bag) = wanted_app_bag(state, own.endpoint)?;
            let data = if owns_bag {
                bag_changes(current, &wanted)
            } else {
                changed_only(current, &wanted)
            };
            (!data.is_empty()).then(|| RelationWrite {
                relation: own.relation.clone(),
                data,
            })
        })
        .collect()
}

/// This unit's writes to its own bags (ingress host and address, Prometheus scrape address).
pub fn unit_writes(state: &State) -> Vec<RelationWrite> {
    let fqdn = unit_fqdn(&state.unit.unit, &state.unit.app, &state.unit.model);
    state
        .optional
        .own_bags
        .iter()
        .filter_map(|own| {
            let current = own.unit.as_ref()?;
            let data = match own.endpoint {
                // Unit bags also hold Juju's own keys (ingress-address ...): never delete.
                ingress::ENDPOINT => changed_only(
                    current,
                    &ingress::unit_data(&fqdn, own.bind_address.as_deref()),
                ),
                metrics_endpoint::ENDPOINT => changed_only(
                    current,
                    &metrics_endpoint::unit_data(&state.unit.unit, &fqdn),
                ),
                _ => return None,
            };
            (!data.is_empty()).then(|| RelationWrite {
                relation: own.relation.clone(),
                data,
            })
        })
        .collect()
}

/// The peer application keys the leader maintains for the optional relations: which optional
/// endpoints are related (updated for every endpoint looked at in this hook), and the bucket
/// S3 attachments went to. Only keys whose value changes.
pub fn peer_keys(state: &State, peers: &Peers) -> Databag {
    let optional = &state.optional;
    let mut changes = Databag::new();
    let current = peers.raw_app.get(RELATED_ENDPOINTS_KEY);
    let recorded: Vec<&str> = current
        .map(|list| list.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let related: Vec<&str> = OPTIONAL_ENDPOINTS
        .into_iter()
        .filter(|endpoint| match optional.looked_at.get(endpoint) {
            Some(found) => *found,
            None => recorded.contains(endpoint),
        })
        .collect();
    let wanted = related.join(",");
    if current.map(String::as_str).unwrap_or_default() != wanted {
        changes.insert(RELATED_ENDPOINTS_KEY.to_owned(), wanted);
    }
    if let Ok(Availability::Ready(storage)) = &optional.s3 {
        if peers.raw_app.get(s3::BUCKET_IN_USE_KEY) != Some(&storage.bucket) {
            changes.insert(s3::BUCKET_IN_USE_KEY.to_owned(), storage.bucket.clone());
        }
    }
    changes
}

/// The status warning while S3 attachments are out of reach: S3 was used (the leader's
/// record) and is not related now.
pub fn s3_detached_warning(state: &State) -> Option<String> {
    if !matches!(state.optional.s3, Ok(Availability::NotRelated)) {
        return None;
    }
    let bucket = state.peers()?.raw_app.get(s3::BUCKET_IN_USE_KEY)?;
    Some(s3::detached_warning(bucket))
}

/// The Loki log targets of `container` (enabled per Loki unit, disabled for targets whose Loki
/// is gone). Empty while the logging data is malformed: the containers' targets stay as they are.
pub fn log_targets(state: &State, container: ContainerName) -> BTreeMap<String, LogTarget> {
    let Ok(endpoints) = &state.optional.logging else {
        return BTreeMap::new();
    };
    let current = state
        .containers
        .get(&container)
        .and_then(|c| c.current_plan.as_ref())
        .map(|plan| &plan.log_targets);
    logging::log_targets(endpoints, &topology(state), current)
}
