//! `redis-broker` and `redis-cache` (interface `redis`, provider redis-k8s through its `redis`
//! library): the provider's application bag may hold `leader-host` (Redis HA: the current
//! primary); each provider unit's bag holds `hostname` and `port`. This charm writes nothing.

use thiserror::Error;

use super::{Availability, RelationSnapshot, valid_host};

/// The Celery broker endpoint in metadata.yaml.
pub const BROKER_ENDPOINT: &str = "redis-broker";
/// The cache endpoint in metadata.yaml.
pub const CACHE_ENDPOINT: &str = "redis-cache";

/// The provider's answer is unusable. Names the relation and the key.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("relation {relation}: key {key} of {bag} is not valid: {reason}")]
pub struct RedisError {
    /// The relation endpoint (`redis-broker` or `redis-cache`).
    pub relation: &'static str,
    /// The databag key.
    pub key: &'static str,
    /// Whose bag: `application data` or a unit name.
    pub bag: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// A Redis server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisEndpoint {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl RedisEndpoint {
    /// `redis://host:port/<db>`.
    pub fn url(&self, db: u8) -> String {
        format!("redis://{}:{}/{db}", super::uri_host(&self.host), self.port)
    }
}

/// Reads the provider's bags of the relation on `endpoint`: `leader-host` when present, else
/// the first unit (by unit number) that published a `hostname`; the port of that unit, or of
/// the first unit that published one when the host came from `leader-host`.
pub fn parse(
    endpoint: &'static str,
    relation: Option<&RelationSnapshot>,
) -> Result<Availability<RedisEndpoint>, RedisError> {
    let Some(relation) = relation else {
        return Ok(Availability::NotRelated);
    };
    let error = |key, bag: &str, reason| RedisError {
        relation: endpoint,
        key,
        bag: bag.to_owned(),
        reason,
    };
    let present = |v: &String| !v.trim().is_empty();
    let units = relation.units_in_order();
    let leader_host = relation.app_data.get("leader-host").filter(|v| present(v));
    let (host, source_unit) = match leader_host {
        Some(host) => {
            if !valid_host(host.trim()) {
                return Err(error(
                    "leader-host",
                    "application data",
                    "not a host name or address",
                ));
            }
            (host.trim().to_owned(), None)
        }
        None => {
            let Some((unit, host)) = units.iter().find_map(|u| {
                relation.units[*u]
                    .get("hostname")
                    .filter(|v| present(v))
                    .map(|h| (*u, h))
            }) else {
                return Ok(Availability::Pending);
            };
            if !valid_host(host.trim()) {
                return Err(error("hostname", unit, "not a host name or address"));
            }
            (host.trim().to_owned(), Some(unit))
        }
    };
    let port_units: Vec<&str> = match source_unit {
        Some(unit) => vec![unit],
        None => units,
    };
    let Some((unit, port)) = port_units.iter().find_map(|u| {
        relation.units[*u]
            .get("port")
            .filter(|v| present(v))
            .map(|p| (*u, p))
    }) else {
        return Ok(Availability::Pending);
    };
    let port = port
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| error("port", unit, "not a TCP port"))?;
    Ok(Availability::Ready(RedisEndpoint { host, port }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::Databag;

    fn bag(pairs: &[(&str, &str)]) -> Databag {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn relation(app: &[(&str, &str)], units: &[(&str, &[(&str, &str)])]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("redis-k8s".into()),
            app_data: bag(app),
            units: units
                .iter()
                .map(|(u, b)| ((*u).to_owned(), bag(b)))
                .collect(),
            ..RelationSnapshot::new(juju_runtime::RelationId::new(BROKER_ENDPOINT, 5))
        }
    }

    #[test]
    fn leader_host_wins_over_unit_hostnames() {
        // Shaped as redis-k8s writes it: unit data hostname/port, app data leader-host.
        let rel = relation(
            &[(
                "leader-host",
                "redis-k8s-0.redis-k8s-endpoints.model.svc.cluster.local",
            )],
            &[
                ("redis-k8s/1", &[("hostname", "10.1.0.8"), ("port", "6379")]),
                ("redis-k8s/0", &[("hostname", "10.1.0.7"), ("port", "6379")]),
            ],
        );
        let endpoint = parse(BROKER_ENDPOINT, Some(&rel)).unwrap();
        assert_eq!(
            endpoint.ready().map(|e| e.url(0)).as_deref(),
            Some("redis://redis-k8s-0.redis-k8s-endpoints.model.svc.cluster.local:6379/0")
        );
    }

    #[test]
    fn without_leader_host_the_lowest_numbered_unit_is_used() {
        let rel = relation(
            &[],
            &[
                (
                    "redis-k8s/10",
                    &[("hostname", "10.1.0.10"), ("port", "6380")],
                ),
                ("redis-k8s/2", &[("hostname", "10.1.0.2"), ("port", "6379")]),
            ],
        );
        let endpoint = parse(CACHE_ENDPOINT, Some(&rel)).unwrap();
        assert_eq!(
            endpoint,
            Availability::Ready(RedisEndpoint {
                host: "10.1.0.2".into(),
                port: 6379
            })
        );
    }

    #[test]
    fn missing_data_is_pending_and_bad_data_names_relation_key_and_bag() {
        assert_eq!(
            parse(CACHE_ENDPOINT, None).unwrap(),
            Availability::NotRelated
        );
        let empty = relation(&[], &[("redis-k8s/0", &[])]);
        assert_eq!(
            parse(CACHE_ENDPOINT, Some(&empty)).unwrap(),
            Availability::Pending
        );
        let no_port = relation(&[], &[("redis-k8s/0", &[("hostname", "h")])]);
        assert_eq!(
            parse(CACHE_ENDPOINT, Some(&no_port)).unwrap(),
            Availability::Pending
        );
        let bad_port = relation(
            &[],
            &[("redis-k8s/0", &[("hostname", "h"), ("port", "http")])],
        );
        assert_eq!(
            parse(BROKER_ENDPOINT, Some(&bad_port))
                .unwrap_err()
                .to_string(),
            "relation redis-broker: key port of redis-k8s/0 is not valid: not a TCP port"
        );
        let bad_host = relation(&[("leader-host", "a host")], &[]);
        assert_eq!(
            parse(CACHE_ENDPOINT, Some(&bad_host)).unwrap_err().key,
            "leader-host"
        );
    }
}
