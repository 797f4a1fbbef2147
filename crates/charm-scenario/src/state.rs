//! The input and output of one dispatch: a declarative snapshot of everything Juju shows
//! a unit (config, relations with their four databags, leadership, secrets, statuses,
//! workload version, opened ports, charm state, model proxy settings) and every workload
//! container's Pebble ([`Container`]).
//!
//! Build a `State` with its `with_*` methods; read the output `State` field by field.

use std::collections::{BTreeMap, BTreeSet};

use juju_runtime::{Databag, Port, RelationId, SecretContent, SecretOwner, Status};

use crate::container::Container;

/// The keys Juju puts into every unit databag, with Scenario's example values.
pub fn default_unit_databag() -> Databag {
    [
        ("egress-subnets", "192.0.2.0/32"),
        ("ingress-address", "192.0.2.0"),
        ("private-address", "192.0.2.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Whether a relation is a peer relation (its remote units are this app's other units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// A `requires` or `provides` endpoint, related to another application.
    Regular,
    /// A `peers` endpoint.
    Peer,
}

/// One relation as this unit sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The endpoint (relation name in metadata.yaml).
    pub endpoint: String,
    /// Juju's relation id.
    pub id: u64,
    /// The interface, checked against metadata when set.
    pub interface: Option<String>,
    /// Regular or peer.
    pub kind: RelationKind,
    /// The remote application (for a peer relation: ignored, it is this application).
    pub remote_app: String,
    /// This application's databag (the leader writes it; peers: all units read it).
    pub local_app_data: Databag,
    /// This unit's databag.
    pub local_unit_data: Databag,
    /// The remote application's databag (read-only).
    pub remote_app_data: Databag,
    /// Remote units' databags by unit number (peers: this app's other units).
    pub remote_units_data: BTreeMap<u32, Databag>,
}

impl Relation {
    /// A relation on `endpoint` with id `id` to application `remote_app`, no remote unit
    /// yet, and empty app bags.
    pub fn new(endpoint: impl Into<String>, id: u64, remote_app: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            id,
            interface: None,
            kind: RelationKind::Regular,
            remote_app: remote_app.into(),
            local_app_data: Databag::new(),
            local_unit_data: default_unit_databag(),
            remote_app_data: Databag::new(),
            remote_units_data: BTreeMap::new(),
        }
    }

    /// A peer relation on `endpoint` with id `id` and no other unit yet.
    pub fn peer(endpoint: impl Into<String>, id: u64) -> Self {
        Self {
            kind: RelationKind::Peer,
            ..Self::new(endpoint, id, "")
        }
    }

    /// The relation id in Juju's `endpoint:id` form.
    pub fn relation_id(&self) -> RelationId {
        RelationId::new(self.endpoint.clone(), self.id)
    }

    /// With the remote application's bag replaced by `data`.
    pub fn with_remote_app_data<K: Into<String>, V: Into<String>>(
        mut self,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.remote_app_data = bag(data);
        self
    }

    /// With remote unit number `unit` holding the default Juju keys plus `data`.
    pub fn with_remote_unit<K: Into<String>, V: Into<String>>(
        mut self,
        unit: u32,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut databag = default_unit_databag();
        databag.extend(bag(data));
        self.remote_units_data.insert(unit, databag);
        self
    }

    /// With this application's bag replaced by `data`.
    pub fn with_local_app_data<K: Into<String>, V: Into<String>>(
        mut self,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.local_app_data = bag(data);
        self
    }

    /// With this unit's bag holding the default Juju keys plus `data`.
    pub fn with_local_unit_data<K: Into<String>, V: Into<String>>(
        mut self,
        data: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut databag = default_unit_databag();
        databag.extend(bag(data));
        self.local_unit_data = databag;
        self
    }

    /// With the interface declared (checked against metadata.yaml).
    pub fn with_interface(mut self, interface: impl Into<String>) -> Self {
        self.interface = Some(interface.into());
        self
    }
}

fn bag<K: Into<String>, V: Into<String>>(data: impl IntoIterator<Item = (K, V)>) -> Databag {
    data.into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// A grant of a secret to a relation's remote application, or one of its units.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretGrant {
    /// The relation the grant was made over.
    pub relation: RelationId,
    /// `None`: the whole remote application.
    pub unit: Option<String>,
}

/// One Juju secret this unit owns, manages or was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// Its URI (`secret:<xid>` or `secret://<model>/<xid>`).
    pub uri: juju_runtime::SecretUri,
    /// Who owns it: `Some(Application | Unit)` if this app or unit does, `None` if it was
    /// granted to us by another application.
    pub owner: Option<SecretOwner>,
    /// Every revision's content, by revision number (1-based).
    pub revisions: BTreeMap<u64, SecretContent>,
    /// The revision this unit tracks (what `secret-get` returns without flags).
    pub tracked_revision: u64,
    /// The owner's label (or, for a consumer, the consumer label).
    pub label: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// `--expire` as given.
    pub expire: Option<String>,
    /// The rotation policy name.
    pub rotate: Option<String>,
    /// Grants made by the owner.
    pub grants: BTreeSet<SecretGrant>,
}

impl Secret {
    /// A secret with one revision holding `content`.
    pub fn new(
        uri: juju_runtime::SecretUri,
        owner: Option<SecretOwner>,
        content: SecretContent,
    ) -> Self {
        Self {
            uri,
            owner,
            revisions: BTreeMap::from([(1, content)]),
            tracked_revision: 1,
            label: None,
            description: None,
            expire: None,
            rotate: None,
            grants: BTreeSet::new(),
        }
    }

    /// With a label.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// With a new latest revision holding `content` (the tracked one is unchanged).
    pub fn with_new_revision(mut self, content: SecretContent) -> Self {
        let next = self.latest_revision() + 1;
        self.revisions.insert(next, content);
        self
    }

    /// The latest revision number.
    pub fn latest_revision(&self) -> u64 {
        self.revisions.keys().next_back().copied().unwrap_or(0)
    }

    /// The latest content (empty if every revision was removed).
    pub fn latest_content(&self) -> SecretContent {
        self.revisions
            .values()
            .next_back()
            .cloned()
            .unwrap_or_default()
    }
}

/// The model's proxy settings Juju exports as `JUJU_CHARM_*_PROXY`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelProxy {
    /// `JUJU_CHARM_HTTP_PROXY`.
    pub http: Option<String>,
    /// `JUJU_CHARM_HTTPS_PROXY`.
    pub https: Option<String>,
    /// `JUJU_CHARM_FTP_PROXY`.
    pub ftp: Option<String>,
    /// `JUJU_CHARM_NO_PROXY`.
    pub no_proxy: Option<String>,
}

/// Everything Juju and Pebble show this unit, before or after one dispatch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// Config values set by the user (defaults come from config.yaml).
    pub config: BTreeMap<String, serde_json::Value>,
    /// Relations (ids unique).
    pub relations: Vec<Relation>,
    /// Whether this unit is the leader.
    pub leader: bool,
    /// Secrets this unit can see.
    pub secrets: Vec<Secret>,
    /// The unit's workload status (`None`: unknown, nothing set yet).
    pub unit_status: Option<Status>,
    /// The application's status (`None`: unknown).
    pub app_status: Option<Status>,
    /// The workload version (`application-version-set`).
    pub workload_version: Option<String>,
    /// Opened ports.
    pub opened_ports: BTreeSet<Port>,
    /// Controller-side charm state (`state-get`/`state-set`).
    pub charm_state: BTreeMap<String, String>,
    /// Workload containers by name.
    pub containers: BTreeMap<String, Container>,
    /// The model's proxy settings.
    pub model_proxy: ModelProxy,
    /// The number of units Juju plans for this application (`goal-state`); at least
    /// this unit plus its peers when `None`.
    pub planned_units: Option<u32>,
}

impl State {
    /// An empty state: not leader, no relation, no container, default config.
    pub fn new() -> Self {
        Self::default()
    }

    /// With config option `key` set to `value`.
    pub fn with_config(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    /// With the leader flag set.
    pub fn with_leader(mut self, leader: bool) -> Self {
        self.leader = leader;
        self
    }

    /// With a relation added (or replaced, if one with its id exists).
    pub fn with_relation(mut self, relation: Relation) -> Self {
        self.relations.retain(|r| r.id != relation.id);
        self.relations.push(relation);
        self
    }

    /// Without the relation of id `id`.
    pub fn without_relation(mut self, id: u64) -> Self {
        self.relations.retain(|r| r.id != id);
        self
    }

    /// With a secret added (or replaced, if one with its URI's id exists).
    pub fn with_secret(mut self, secret: Secret) -> Self {
        self.secrets.retain(|s| s.uri.xid() != secret.uri.xid());
        self.secrets.push(secret);
        self
    }

    /// With a container added (or replaced).
    pub fn with_container(mut self, name: impl Into<String>, container: Container) -> Self {
        self.containers.insert(name.into(), container);
        self
    }

    /// With the model's proxy settings.
    pub fn with_model_proxy(mut self, proxy: ModelProxy) -> Self {
        self.model_proxy = proxy;
        self
    }

    /// The relation of id `id`.
    pub fn relation(&self, id: u64) -> Option<&Relation> {
        self.relations.iter().find(|r| r.id == id)
    }

    /// A mutable reference to the relation of id `id`.
    pub fn relation_mut(&mut self, id: u64) -> Option<&mut Relation> {
        self.relations.iter_mut().find(|r| r.id == id)
    }

    /// The relations on `endpoint`.
    pub fn relations_on<'a>(
        &'a self,
        endpoint: &'a str,
    ) -> impl Iterator<Item = &'a Relation> + 'a {
        self.relations
            .iter()
            .filter(move |r| r.endpoint == endpoint)
    }

    /// The secret with this label (owner or consumer label).
    pub fn secret_by_label(&self, label: &str) -> Option<&Secret> {
        self.secrets
            .iter()
            .find(|s| s.label.as_deref() == Some(label))
    }

    /// The secret with this URI (compared by bare id, so both URI forms match).
    pub fn secret_by_uri(&self, uri: &juju_runtime::SecretUri) -> Option<&Secret> {
        self.secrets.iter().find(|s| s.uri.xid() == uri.xid())
    }

    /// The container named `name`.
    pub fn container(&self, name: &str) -> Option<&Container> {
        self.containers.get(name)
    }
}
