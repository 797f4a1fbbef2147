//! Relation interfaces: one module per interface. Each parses the databags it reads into typed
//! values, with an error naming the relation and the key, and builds the databag this charm
//! writes on its side.

pub mod database;
pub mod grafana_dashboard;
pub mod ingress;
pub mod logging;
pub mod metrics_endpoint;
pub mod nginx_route;
pub mod peers;
pub mod redis;
pub mod s3;
pub mod saml;
pub mod smtp;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use juju_runtime::RelationId;

/// One relation databag: string keys to string values, as Juju stores them.
pub type Databag = BTreeMap<String, String>;

/// What one hook saw of one relation: the remote application's bag, each remote unit's bag
/// (peers: the other units of this application), and this application's own bag when readable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelationSnapshot {
    /// The relation id, e.g. `database:3`.
    pub id: RelationId,
    /// The remote application name (this application for peers), when known.
    pub remote_app: Option<String>,
    /// The remote application's databag (for peers: this application's shared bag).
    pub app_data: Databag,
    /// Remote units by unit name, with their databags.
    pub units: BTreeMap<String, Databag>,
    /// This application's bag on this relation (readable by the leader; for peers by all).
    pub local_app_data: Databag,
}

impl RelationSnapshot {
    /// A relation with empty bags (tests and gather fill them in).
    pub fn new(id: RelationId) -> Self {
        Self {
            id,
            remote_app: None,
            app_data: Databag::new(),
            units: BTreeMap::new(),
            local_app_data: Databag::new(),
        }
    }

    /// Remote unit names ordered by unit number (`app/2` before `app/10`).
    pub fn units_in_order(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.units.keys().map(String::as_str).collect();
        names.sort_by(|a, b| compare_unit_names(a, b));
        names
    }
}

/// Orders unit names by application, then by unit number.
pub fn compare_unit_names(a: &str, b: &str) -> Ordering {
    fn split(name: &str) -> (&str, Option<u64>) {
        match name.rsplit_once('/') {
            Some((app, n)) => (app, n.parse().ok()),
            None => (name, None),
        }
    }
    split(a).cmp(&split(b)).then_with(|| a.cmp(b))
}

/// The result of reading a relation this charm depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability<T> {
    /// The relation does not exist.
    NotRelated,
    /// The relation exists but the provider has not (fully) answered yet.
    Pending,
    /// Usable data.
    Ready(T),
}

impl<T> Availability<T> {
    /// The data when ready.
    pub fn ready(&self) -> Option<&T> {
        match self {
            Self::Ready(value) => Some(value),
            _ => None,
        }
    }
}

/// The optional endpoints (metadata.yaml), in the order gather reads them. Which of them are
/// related is recorded by the leader in the peer application bag under
/// [`RELATED_ENDPOINTS_KEY`], so that a hook reads only those (see `gather`).
pub const OPTIONAL_ENDPOINTS: [&str; 8] = [
    ingress::ENDPOINT,
    nginx_route::ENDPOINT,
    metrics_endpoint::ENDPOINT,
    grafana_dashboard::ENDPOINT,
    logging::ENDPOINT,
    s3::ENDPOINT,
    saml::ENDPOINT,
    smtp::ENDPOINT,
];

/// Peer application key: the comma-separated optional endpoints that have a relation.
pub const RELATED_ENDPOINTS_KEY: &str = "related-endpoints";

/// The Juju topology that observability data is labelled with (cos-lib's `JujuTopology`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JujuTopology {
    /// The model name.
    pub model: String,
    /// The model UUID.
    pub model_uuid: String,
    /// The application name.
    pub application: String,
    /// The unit name.
    pub unit: String,
    /// The charm name (metadata.yaml `name`).
    pub charm_name: String,
}

impl JujuTopology {
    /// `<model>_<model_uuid>_<application>`, the prefix of rule groups and job names.
    pub fn identifier(&self) -> String {
        format!("{}_{}_{}", self.model, self.model_uuid, self.application)
    }

    /// The topology as cos-lib's `as_dict()` writes it (`scrape_metadata`, `metadata`).
    pub fn as_json(&self) -> serde_json::Value {
        serde_json::json!({
            "model": self.model,
            "model_uuid": self.model_uuid,
            "application": self.application,
            "unit": self.unit,
            "charm_name": self.charm_name,
        })
    }

    /// The labels alert rules and expressions are scoped by (no unit, no charm: the rules
    /// are the application's).
    pub fn alert_labels(&self) -> [(&'static str, &str); 3] {
        [
            ("juju_model", &self.model),
            ("juju_model_uuid", &self.model_uuid),
            ("juju_application", &self.application),
        ]
    }
}

/// The unit's stable DNS name in Kubernetes (what `socket.getfqdn()` returns in a Juju
/// sidecar pod): `<app>-<n>.<app>-endpoints.<model>.svc.cluster.local`.
pub fn unit_fqdn(unit: &str, app: &str, model: &str) -> String {
    format!(
        "{}.{app}-endpoints.{model}.svc.cluster.local",
        unit.replace('/', "-")
    )
}

/// The keys of `wanted` whose value differs from `current`, plus every key of `current` that
/// `wanted` lacks set to `""` (relation-set deletes a key given an empty value; an empty value
/// in `wanted` equals an absent key, as Juju stores neither).
pub fn bag_changes(current: &Databag, wanted: &Databag) -> Databag {
    let mut changes: Databag = wanted
        .iter()
        .filter(|(k, v)| current.get(*k).map(String::as_str).unwrap_or_default() != v.as_str())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for key in current.keys().filter(|k| !wanted.contains_key(*k)) {
        changes.insert(key.clone(), String::new());
    }
    changes
}

/// Splits `host:port` (IPv6 in brackets) into host and port.
pub(crate) fn split_host_port(value: &str) -> Option<(String, u16)> {
    let (host, port) = value.trim().rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    valid_host(host).then(|| (host.to_owned(), port))
}

/// A host name (DNS rules: at most 253 characters, labels of 1 to 63 letters, digits, `-` or
/// `_`), an IPv4 address, or an IPv6 address (without brackets).
pub(crate) fn valid_host(host: &str) -> bool {
    if host.contains(':') {
        return host.parse::<std::net::Ipv6Addr>().is_ok();
    }
    (1..=253).contains(&host.len())
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        })
}

/// `host` as it goes into a URI: IPv6 literals in brackets.
pub(crate) fn uri_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_sort_numerically() {
        let mut names = vec!["redis/10", "redis/2", "redis/0"];
        names.sort_by(|a, b| compare_unit_names(a, b));
        assert_eq!(names, ["redis/0", "redis/2", "redis/10"]);
    }

    #[test]
    fn host_port_accepts_names_ipv4_and_bracketed_ipv6() {
        assert_eq!(
            split_host_port("pg-0.pg-endpoints:5432"),
            Some(("pg-0.pg-endpoints".into(), 5432))
        );
        assert_eq!(
            split_host_port("[fd00::1]:5432"),
            Some(("fd00::1".into(), 5432))
        );
        assert_eq!(uri_host("fd00::1"), "[fd00::1]");
        let long_label = format!("{}.example.com:5432", "h".repeat(64));
        let long_name = format!("{}:5432", "h.".repeat(127));
        for bad in [
            "a..b:1",
            "[fd00::zz]:1",
            long_label.as_str(),
            long_name.as_str(),
            "",
            "host",
            "host:",
            "host:0",
            "host:99999",
            ":5432",
            "a b:5432",
            "h/x:1",
        ] {
            assert_eq!(split_host_port(bad), None, "{bad}");
        }
    }
}
