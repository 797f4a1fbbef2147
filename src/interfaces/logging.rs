//! `logging` (interface `loki_push_api`, provider loki-k8s through its `loki_push_api` library
//! v1): where each Loki unit accepts pushes, turned into Pebble `log-targets` of type `loki` in
//! every workload container (what the library's `LogForwarder` does), plus the Loki alert rules
//! this charm forwards.
//!
//! Provider unit bag: `endpoint`, JSON `{"url": "http://.../loki/api/v1/push"}`. Requirer
//! application bag (leader): `metadata` (the topology, JSON) and `alert_rules` (JSON
//! `{"groups": [...]}`, sorted keys).
//!
//! One target per Loki unit, named after it (`loki/0`), forwarding `all` services with the
//! library's labels. Pebble cannot delete a target from its plan, so a target whose Loki unit
//! went away (or the whole relation) is replaced by a disabled one (`services: [-all]`), as the
//! library does.

use std::collections::BTreeMap;

use pebble_client::{LogTarget, LogTargetType, Override};
use thiserror::Error;

use super::metrics_endpoint::{RuleFileError, rules_with_topology};
use super::{Databag, JujuTopology, RelationSnapshot};

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "logging";
/// The Loki alert rules (YAML rule file with `%%juju_topology%%` placeholders).
pub const ALERT_RULES: &str =
    include_str!("../../files/observability/loki_alert_rules/indico.rules.yaml");

/// A provider unit's answer is unusable. Names the relation, the unit and the key.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("relation logging: key endpoint of {unit} is not valid: {reason}")]
pub struct LoggingError {
    /// The Loki unit.
    pub unit: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Loki push URLs by Loki unit name (empty when not related or nobody answered yet).
pub type LokiEndpoints = BTreeMap<String, String>;

/// Reads every Loki unit's `endpoint`.
pub fn parse(relations: &[RelationSnapshot]) -> Result<LokiEndpoints, LoggingError> {
    let mut endpoints = LokiEndpoints::new();
    for relation in relations {
        for (unit, bag) in &relation.units {
            let Some(raw) = bag.get("endpoint").filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let error = |reason| LoggingError {
                unit: unit.clone(),
                reason,
            };
            let value: serde_json::Value =
                serde_json::from_str(raw).map_err(|_| error("not JSON"))?;
            let url = value
                .get("url")
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| error("has no url string"))?;
            match url::Url::parse(url) {
                Ok(parsed)
                    if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() =>
                {
                    endpoints.insert(unit.clone(), url.to_owned());
                }
                _ => return Err(error("url is not an http(s) URL")),
            }
        }
    }
    Ok(endpoints)
}

/// The labels the library puts on every forwarded line.
fn labels(topology: &JujuTopology) -> BTreeMap<String, String> {
    [
        ("product", "Juju".to_owned()),
        ("charm", topology.charm_name.clone()),
        ("juju_model", topology.model.clone()),
        ("juju_model_uuid", topology.model_uuid.clone()),
        ("juju_application", topology.application.clone()),
        ("juju_unit", topology.unit.clone()),
        ("job", format!("juju_{}", topology.identifier())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The log targets of one container: one enabled target per Loki endpoint, and a disabled one
/// for each target of `current` (the container's plan) that no longer has an endpoint.
pub fn log_targets(
    endpoints: &LokiEndpoints,
    topology: &JujuTopology,
    current: Option<&BTreeMap<String, LogTarget>>,
) -> BTreeMap<String, LogTarget> {
    let mut targets: BTreeMap<String, LogTarget> = endpoints
        .iter()
        .map(|(unit, url)| {
            let target = LogTarget {
                r#override: Some(Override::Replace),
                r#type: Some(LogTargetType::Loki),
                location: Some(url.clone()),
                services: vec!["all".to_owned()],
                labels: labels(topology),
            };
            (unit.clone(), target)
        })
        .collect();
    for (name, target) in current.into_iter().flatten() {
        if endpoints.contains_key(name) || target.r#type != Some(LogTargetType::Loki) {
            continue;
        }
        let disabled = LogTarget {
            r#override: Some(Override::Replace),
            r#type: Some(LogTargetType::Loki),
            location: target.location.clone(),
            services: vec!["-all".to_owned()],
            labels: BTreeMap::new(),
        };
        targets.insert(name.clone(), disabled);
    }
    targets
}

/// The application bag (leader): the topology and the Loki alert rules.
pub fn app_data(topology: &JujuTopology) -> Result<Databag, RuleFileError> {
    let rules = rules_with_topology(ALERT_RULES, topology)?;
    Ok(Databag::from([
        ("metadata".to_owned(), topology.as_json().to_string()),
        ("alert_rules".to_owned(), rules.to_string()),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::metrics_endpoint::tests::topology;
    use juju_runtime::RelationId;

    fn loki(units: &[(&str, &str)]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("loki".into()),
            units: units
                .iter()
                .map(|(u, e)| {
                    (
                        (*u).to_owned(),
                        Databag::from([("endpoint".into(), (*e).to_owned())]),
                    )
                })
                .collect(),
            ..RelationSnapshot::new(RelationId::new(ENDPOINT, 30))
        }
    }

    const LOKI_0: &str =
        r#"{"url": "http://loki-0.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push"}"#;

    #[test]
    fn each_loki_unit_becomes_an_enabled_target_with_the_library_labels() {
        let endpoints = parse(&[loki(&[("loki/0", LOKI_0), ("loki/1", "")])]).unwrap();
        assert_eq!(
            endpoints.len(),
            1,
            "a unit that has not answered is skipped"
        );
        let targets = log_targets(&endpoints, &topology(), None);
        let target = &targets["loki/0"];
        assert_eq!(target.r#type, Some(LogTargetType::Loki));
        assert_eq!(
            target.location.as_deref(),
            Some("http://loki-0.loki-endpoints.cos.svc.cluster.local:3100/loki/api/v1/push")
        );
        assert_eq!(target.services, ["all"]);
        assert_eq!(target.labels["juju_unit"], "indico/0");
        assert_eq!(target.labels["product"], "Juju");
        assert!(target.labels.keys().all(|k| !k.starts_with("pebble_")));
    }

    #[test]
    fn a_target_without_an_endpoint_is_disabled_not_forgotten() {
        let current = log_targets(
            &parse(&[loki(&[("loki/0", LOKI_0)])]).unwrap(),
            &topology(),
            None,
        );
        let after = log_targets(&LokiEndpoints::new(), &topology(), Some(&current));
        assert_eq!(after["loki/0"].services, ["-all"]);
        assert_eq!(after["loki/0"].location, current["loki/0"].location);
        assert!(log_targets(&LokiEndpoints::new(), &topology(), None).is_empty());
    }

    #[test]
    fn garbage_names_the_unit_and_key_and_the_rules_carry_the_topology() {
        for bad in ["http://x", r#"{"url": 3}"#, r#"{"url": "loki:3100"}"#] {
            let err = parse(&[loki(&[("loki/2", bad)])]).unwrap_err();
            assert_eq!(err.unit, "loki/2");
            assert!(
                err.to_string()
                    .starts_with("relation logging: key endpoint of loki/2")
            );
        }
        let bag = app_data(&topology()).unwrap();
        let rules: serde_json::Value = serde_json::from_str(&bag["alert_rules"]).unwrap();
        let expr = rules["groups"][0]["rules"][0]["expr"].as_str().unwrap();
        assert!(
            expr.contains(r#"{juju_model="events",juju_model_uuid="#),
            "{expr}"
        );
        assert!(!expr.contains("%%"));
        assert_eq!(
            rules["groups"][0]["rules"][0]["alert"],
            "IndicoHighHttp5xxRatio"
        );
    }
}
