//! `State`: everything one hook knows about the world, gathered once (by `gather`) and then
//! only read. Each part keeps its parse result, so that a bad value becomes a status and the
//! rest of the charm can still converge.

use std::collections::BTreeMap;

use crate::config::{CharmConfig, ConfigError};
use crate::containers::ContainerName;
use crate::interfaces::Availability;
use crate::interfaces::database::{DatabaseConnection, DatabaseError};
use crate::interfaces::peers::{PeerError, Peers};
use crate::interfaces::redis::{RedisEndpoint, RedisError};
use crate::proxy::{ProxyError, ProxySettings};
use crate::sensitive::Sensitive;
use juju_runtime::RelationId;

/// Who and where this unit is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitIdentity {
    /// The application name, e.g. `indico`.
    pub app: String,
    /// The unit name, e.g. `indico/0`.
    pub unit: String,
    /// The model name.
    pub model: String,
}

/// The database relation as far as this charm writes to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseRelation {
    /// The relation id.
    pub id: RelationId,
    /// Whether this hook is one where the request must be written: `database-relation-created`
    /// or `-joined`, or `leader-elected` (in case no unit led when the relation was created).
    /// Other hooks do not re-read this application's bag to compare, which saves a tool call.
    pub write_request: bool,
}

/// The application's secret key, as this hook found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretKeyState {
    /// Published and readable.
    Available(Sensitive<String>),
    /// Not published yet: the leader creates it; other units wait.
    Missing,
}

/// One workload container as this hook found it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerState {
    /// Whether its Pebble answered.
    pub reachable: bool,
    /// Its current plan when reachable (read once per hook; apply compares against it, plan
    /// ignores it).
    pub current_plan: Option<pebble_client::Plan>,
}

/// Where the database schema stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationState {
    /// The Indico version the schema was last migrated to (peer app data).
    pub migrated_version: Option<String>,
    /// The Indico version of this unit's image (`/srv/indico/version`), when readable.
    pub image_version: Option<String>,
    /// Why the migration step refused to run, when it did (a Blocked status).
    pub blocked: Option<String>,
}

/// The external plugins and the customization clone, as the containers' layers record them
/// (gather) or as this hook just installed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtensionsState {
    /// Per container (`indico`, `indico-celery`): the plugins installed and enabled.
    pub plugins: BTreeMap<ContainerName, crate::plugins::InstalledPlugins>,
    /// The customization repository cloned in `indico` (a hash of its URL).
    pub customization: Option<String>,
    /// Why installing plugins or cloning failed in this hook (a Blocked status).
    pub blocked: Option<String>,
}

/// This charm's own bags on one optional relation, read in a hook where it may write them
/// (see `gather`): the application bag when this unit leads, the unit bag where the interface
/// has unit data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnBags {
    /// The endpoint (one of [`crate::interfaces::OPTIONAL_ENDPOINTS`]).
    pub endpoint: &'static str,
    /// The relation.
    pub relation: RelationId,
    /// This application's bag (leader only).
    pub app: Option<crate::interfaces::Databag>,
    /// This unit's bag (ingress, metrics-endpoint).
    pub unit: Option<crate::interfaces::Databag>,
    /// This unit's bind address on the relation (ingress only).
    pub bind_address: Option<String>,
}

/// The optional relations (ingress, nginx-route, observability, s3, saml, smtp) as this hook
/// found them. Unrelated means `Ok(NotRelated)`/empty.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionalRelations {
    /// The model UUID (observability topology).
    pub model_uuid: String,
    /// The optional endpoints looked at in this hook, and which of them have a relation.
    pub looked_at: BTreeMap<&'static str, bool>,
    /// Whether `looked_at` covers every optional endpoint (a full scan).
    pub full_scan: bool,
    /// Own bags that this hook may update.
    pub own_bags: Vec<OwnBags>,
    /// The URL the ingress provider published, when read in this hook.
    pub ingress_url: Result<Option<String>, crate::interfaces::ingress::IngressError>,
    /// Loki push endpoints.
    pub logging:
        Result<crate::interfaces::logging::LokiEndpoints, crate::interfaces::logging::LoggingError>,
    /// The S3 bucket for attachments.
    pub s3: Result<Availability<crate::interfaces::s3::S3Storage>, crate::interfaces::s3::S3Error>,
    /// The SAML identity provider.
    pub saml: Result<
        Availability<crate::interfaces::saml::SamlIdentityProvider>,
        crate::interfaces::saml::SamlError,
    >,
    /// The SMTP relay.
    pub smtp: Result<
        Availability<crate::interfaces::smtp::SmtpSettings>,
        crate::interfaces::smtp::SmtpError,
    >,
}

impl Default for OptionalRelations {
    fn default() -> Self {
        Self {
            model_uuid: String::new(),
            looked_at: BTreeMap::new(),
            full_scan: false,
            own_bags: Vec::new(),
            ingress_url: Ok(None),
            logging: Ok(Default::default()),
            s3: Ok(Availability::NotRelated),
            saml: Ok(Availability::NotRelated),
            smtp: Ok(Availability::NotRelated),
        }
    }
}

/// Everything the plan is computed from.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// This unit.
    pub unit: UnitIdentity,
    /// Whether this unit is the leader.
    pub leader: bool,
    /// The validated configuration.
    pub config: Result<CharmConfig, ConfigError>,
    /// The model's proxy settings.
    pub proxy: Result<ProxySettings, ProxyError>,
    /// The database relation, for the request the leader writes (`None` when not related).
    pub database_relation: Option<DatabaseRelation>,
    /// The PostgreSQL connection.
    pub database: Result<Availability<DatabaseConnection>, DatabaseError>,
    /// The Celery broker.
    pub redis_broker: Result<Availability<RedisEndpoint>, RedisError>,
    /// The cache.
    pub redis_cache: Result<Availability<RedisEndpoint>, RedisError>,
    /// The peer relation (`Ok(None)` before Juju created it).
    pub peers: Result<Option<Peers>, PeerError>,
    /// The unit leaving the peer relation in this hook, if any (`indico-peers-relation-departed`).
    pub departing_unit: Option<String>,
    /// The secret key.
    pub secret_key: SecretKeyState,
    /// The database schema.
    pub migration: MigrationState,
    /// Every workload container.
    pub containers: BTreeMap<ContainerName, ContainerState>,
    /// External plugins and the customization clone.
    pub extensions: ExtensionsState,
    /// The optional relations.
    pub optional: OptionalRelations,
}

impl State {
    /// Whether this container's Pebble answered in this hook.
    pub fn reachable(&self, container: ContainerName) -> bool {
        self.containers.get(&container).is_some_and(|c| c.reachable)
    }

    /// The peer relation when it exists and parsed.
    pub fn peers(&self) -> Option<&Peers> {
        self.peers.as_ref().ok().and_then(Option::as_ref)
    }
}
