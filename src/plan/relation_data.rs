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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::logging::LokiEndpoints;
    use crate::plan::{layers, plan};
    use crate::state::OwnBags;
    use juju_runtime::RelationId;

    const LOKI: &str = "http://loki-0.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push";

    fn with_logging(endpoints: &[(&str, &str)]) -> State {
        let mut state = crate::plan::tests::ready_state();
        state.optional.model_uuid = "0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c".into();
        state.optional.logging = Ok(endpoints
            .iter()
            .map(|(u, url)| ((*u).to_owned(), (*url).to_owned()))
            .collect::<LokiEndpoints>());
        state
    }

    /// Real Pebble (v1.19.2) takes the log targets, reports a plan that satisfies them, and
    /// takes the disabled target that replaces one whose Loki went away.
    #[tokio::test(flavor = "current_thread")]
    async fn real_pebble_accepts_the_log_targets_and_their_disabling() {
        let daemon = crate::pebble_daemon::PebbleDaemon::start();
        let client = pebble_client::Client::new(daemon.socket()).unwrap();
        let pod = plan(&with_logging(&[("loki/0", LOKI)])).unwrap();
        let nginx = &pod.containers[&ContainerName::IndicoNginx];
        assert_eq!(nginx.layer.log_targets["loki/0"].services, ["all"]);
        client
            .add_layer(layers::LABEL, &nginx.layer, true)
            .await
            .unwrap();
        let current = client.plan().await.unwrap();
        assert!(current.satisfies(&nginx.layer));
        assert_eq!(
            current.log_targets["loki/0"].labels["juju_model_uuid"],
            "0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c"
        );

        // The relation went: the plan Pebble holds is the input, the target is disabled.
        let mut gone = with_logging(&[]);
        for container in gone.containers.values_mut() {
            container.current_plan = Some(current.clone());
        }
        let pod = plan(&gone).unwrap();
        let nginx = &pod.containers[&ContainerName::IndicoNginx];
        assert!(!current.satisfies(&nginx.layer), "disabling is a change");
        client
            .add_layer(layers::LABEL, &nginx.layer, true)
            .await
            .unwrap();
        let after = client.plan().await.unwrap();
        assert_eq!(after.log_targets["loki/0"].services, ["-all"]);
        assert!(after.satisfies(&nginx.layer), "and then stays as it is");
    }

    #[test]
    fn the_leader_records_related_endpoints_and_the_s3_bucket() {
        let mut state = crate::plan::tests::ready_state();
        let peers = state.peers().unwrap().clone();
        assert!(
            peer_keys(&state, &peers).is_empty(),
            "nothing looked at, nothing to record"
        );

        state.optional.looked_at =
            BTreeMap::from([("s3", true), ("logging", true), ("saml", false)]);
        let keys = peer_keys(&state, &peers);
        assert_eq!(keys[RELATED_ENDPOINTS_KEY], "logging,s3");

        // Endpoints not looked at keep what the record says; one found gone is dropped.
        let mut recorded = peers.clone();
        recorded
            .raw_app
            .insert(RELATED_ENDPOINTS_KEY.into(), "ingress,logging,s3".into());
        state.optional.looked_at = BTreeMap::from([("s3", false)]);
        assert_eq!(
            peer_keys(&state, &recorded)[RELATED_ENDPOINTS_KEY],
            "ingress,logging"
        );
        state.optional.looked_at = BTreeMap::from([("s3", true)]);
        assert!(
            peer_keys(&state, &recorded).is_empty(),
            "unchanged: no write"
        );
    }

    #[test]
    fn writes_are_only_the_differences_and_only_where_this_hook_read_the_bag() {
        let mut state = crate::plan::tests::ready_state();
        assert!(app_writes(&state).is_empty() && unit_writes(&state).is_empty());
        state.optional.own_bags = vec![OwnBags {
            endpoint: "ingress",
            relation: RelationId::new("ingress", 20),
            app: Some(Databag::from([
                ("model".into(), "\"events\"".into()),
                ("stale".into(), "x".into()),
            ])),
            unit: Some(Databag::from([(
                "ingress-address".into(),
                "10.0.0.1".into(),
            )])),
            bind_address: None,
        }];
        let writes = app_writes(&state);
        assert_eq!(writes.len(), 1);
        assert_eq!(
            writes[0].data,
            Databag::from([
                ("name".into(), "\"indico\"".into()),
                ("port".into(), "8080".into()),
                ("stale".into(), String::new()),
            ])
        );
        let unit = unit_writes(&state);
        assert_eq!(
            unit[0].data,
            Databag::from([(
                "host".into(),
                "\"indico-0.indico-endpoints.events.svc.cluster.local\"".into()
            )]),
            "Juju's ingress-address stays"
        );
        state.leader = false;
        assert!(
            app_writes(&state).is_empty(),
            "only the leader writes app data"
        );
        assert_eq!(unit_writes(&state).len(), 1);
    }

    #[test]
    fn storage_s3_stays_enabled_beside_external_plugins() {
        let base = BTreeMap::from([(PLUGINS_VAR.to_owned(), "storage_s3".to_owned())]);
        let mut variables = BTreeMap::from([(PLUGINS_VAR.to_owned(), "payment_paypal".to_owned())]);
        keep_required_plugins(&mut variables, &base);
        assert_eq!(variables[PLUGINS_VAR], "payment_paypal,storage_s3");
        keep_required_plugins(&mut variables, &base);
        assert_eq!(variables[PLUGINS_VAR], "payment_paypal,storage_s3");
        let mut none = BTreeMap::new();
        keep_required_plugins(&mut none, &BTreeMap::new());
        assert!(none.is_empty());
    }
}
