//! Gather: one pass over the hook tools and the containers' Pebbles that builds the [`State`].
//! Few calls by design: one `config-get`, one `is-leader`, per relation one id lookup, one
//! unit list and one `relation-get` per bag; per container one plan read (which doubles as the
//! reachability probe) and one file read for the image's Indico version.

use std::collections::BTreeMap;

use juju_runtime::{
    Bag, Event, HookToolError, HookTools, JujuContext, RelationEventKind, SecretGetOptions,
    SecretRef,
};
use pebble_client::{Error as PebbleError, Pebble};
use thiserror::Error;

use crate::config::CharmConfig;
use crate::containers::ContainerName;
use crate::interfaces::database::{self, Credentials, DatabaseConnection};
use crate::interfaces::peers;
use crate::interfaces::redis;
use crate::interfaces::{self, Availability, RelationSnapshot};
use crate::proxy::ProxySettings;
use crate::secret_key::{self, SecretKeyError};
use crate::state::{
    ContainerState, DatabaseRelation, ExtensionsState, MigrationState, OptionalRelations, OwnBags,
    SecretKeyState, State, UnitIdentity,
};

/// Where the indico image records its Indico version.
pub const VERSION_FILE: &str = "/srv/indico/version";

/// Gathering failed for a reason a status cannot express (Juju retries the hook).
#[derive(Debug, Error)]
pub enum GatherError {
    /// A hook tool failed.
    #[error(transparent)]
    HookTool(#[from] HookToolError),
    /// The secret key could not be read.
    #[error(transparent)]
    SecretKey(#[from] SecretKeyError),
    /// A reachable Pebble refused a read.
    #[error("container {container}: {source}")]
    Pebble {
        /// The container.
        container: ContainerName,
        /// What Pebble said.
        #[source]
        source: PebbleError,
    },
}

/// Reads one relation on `endpoint` (the charm's endpoints all have `limit: 1`, so the first id
/// is the one): the remote app's bag, and with `read_units` every remote unit's bag.
fn snapshot(
    tools: &impl HookTools,
    endpoint: &str,
    read_units: bool,
) -> Result<Option<RelationSnapshot>, HookToolError> {
    let Some(id) = tools.relation_ids(endpoint)?.into_iter().next() else {
        return Ok(None);
    };
    let mut relation = RelationSnapshot::new(id.clone());
    if read_units {
        for unit in tools.relation_list(&id)? {
            let bag = tools.relation_get(&id, &Bag::Unit(unit.clone()))?;
            relation.units.insert(unit, bag);
        }
    }
    // The remote app name: from a unit name when there is one, else one more tool call.
    let remote_app = match relation.units.keys().next() {
        Some(unit) => unit.split('/').next().map(str::to_owned),
        None => tools.relation_remote_app(&id)?,
    };
    if let Some(app) = &remote_app {
        relation.app_data = tools.relation_get(&id, &Bag::App(app.clone()))?;
    }
    relation.remote_app = remote_app;
    Ok(Some(relation))
}

/// The peer relation: the other units (whose bags this charm does not use) and the shared app
/// bag, which every unit may read.
fn peer_snapshot(
    tools: &impl HookTools,
    app: &str,
) -> Result<Option<RelationSnapshot>, HookToolError> {
    let Some(id) = tools.relation_ids(peers::ENDPOINT)?.into_iter().next() else {
        return Ok(None);
    };
    let mut relation = RelationSnapshot::new(id.clone());
    for unit in tools.relation_list(&id)? {
        relation.units.insert(unit, Default::default());
    }
    relation.app_data = tools.relation_get(&id, &Bag::App(app.to_owned()))?;
    relation.remote_app = Some(app.to_owned());
    Ok(Some(relation))
}

/// Resolves the database credentials; an unreadable credentials secret (not granted yet)
/// means the provider has not fully answered.
fn database_connection(
    tools: &impl HookTools,
    relation: Option<&RelationSnapshot>,
) -> Result<Result<Availability<DatabaseConnection>, database::DatabaseError>, HookToolError> {
    let offer = match database::parse(relation) {
        Ok(Availability::Ready(offer)) => offer,
        Ok(Availability::NotRelated) => return Ok(Ok(Availability::NotRelated)),
        Ok(Availability::Pending) => return Ok(Ok(Availability::Pending)),
        Err(e) => return Ok(Err(e)),
    };
    let (username, password) = match &offer.credentials {
        Credentials::Inline { username, password } => (username.clone(), password.clone()),
        Credentials::InSecret(uri) => {
            // Always the latest revision: the provider rotates credentials by adding revisions,
            // and old ones stop working.
            let latest = SecretGetOptions {
                refresh: true,
                ..SecretGetOptions::default()
            };
            let content = match tools.secret_get(&SecretRef::Uri(uri.clone()), latest) {
                Ok(content) => content,
                Err(
                    HookToolError::SecretNotFound { .. } | HookToolError::PermissionDenied { .. },
                ) => return Ok(Ok(Availability::Pending)),
                Err(e) => return Err(e),
            };
            match database::credentials_from_secret(&content.into_map()) {
                Ok(credentials) => credentials,
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    Ok(Ok(Availability::Ready(DatabaseConnection::new(
        &offer, username, password,
    ))))
}

/// Whether this hook must write the database request (see [`DatabaseRelation::write_request`]).
fn requests_database(event: &Event) -> bool {
    match event {
        Event::LeaderElected => true,
        Event::Relation(e) => {
            e.relation.endpoint == database::ENDPOINT
                && matches!(
                    e.kind,
                    RelationEventKind::Created | RelationEventKind::Joined
                )
        }
        _ => false,
    }
}

/// The departing unit of an `indico-peers-relation-departed` hook.
fn departing_peer(event: &Event) -> Option<String> {
    match event {
        Event::Relation(e)
            if e.kind == RelationEventKind::Departed && e.relation.endpoint == peers::ENDPOINT =>
        {
            e.departing_unit.as_ref().map(ToString::to_string)
        }
        _ => None,
    }
}

/// Whether a related backend's address accepts TCP connections: the cheap liveness probe
/// behind [`unreachable_backends`]. A trait so that tests of the charm never send traffic.
pub trait BackendProbe {
    /// Whether `host:port` accepted a TCP connection (within the probe's own time limit).
    fn accepts(&self, host: &str, port: u16) -> bool;
}

/// [`BackendProbe`] by a real TCP connect with a short timeout per resolved address (the
/// name's resolution itself is the system resolver's, without a timeout of ours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpProbe {
    /// How long one connect may take.
    pub timeout: std::time::Duration,
}

impl Default for TcpProbe {
    /// One second: a server on the pod network answers a SYN in well under that.
    fn default() -> Self {
        Self {
            timeout: std::time::Duration::from_secs(1),
        }
    }
}

impl BackendProbe for TcpProbe {
    fn accepts(&self, host: &str, port: u16) -> bool {
        use std::net::{TcpStream, ToSocketAddrs};
        let Ok(addresses) = (host, port).to_socket_addrs() else {
            return false;
        };
        addresses
            .into_iter()
            .any(|address| TcpStream::connect_timeout(&address, self.timeout).is_ok())
    }
}

/// [`BackendProbe`] that takes every backend as reachable and sends nothing (tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AssumeReachable;

impl BackendProbe for AssumeReachable {
    fn accepts(&self, _host: &str, _port: u16) -> bool {
        true
    }
}

/// A related backend whose address did not accept a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreachableBackend {
    /// The relation endpoint (`database`, `redis-broker`, `redis-cache`).
    pub endpoint: &'static str,
    /// `host:port` as the relation publishes it.
    pub address: String,
}

/// Probes the database primary and both Redis servers that `state` has usable data for
/// (nothing for a relation that is missing, pending or invalid: its status says so already),
/// in the order the status names them: broker, cache, database.
pub fn unreachable_backends(state: &State, probe: &impl BackendProbe) -> Vec<UnreachableBackend> {
    probe_ready(
        state
            .redis_broker
            .as_ref()
            .ok()
            .and_then(Availability::ready),
        state
            .redis_cache
            .as_ref()
            .ok()
            .and_then(Availability::ready),
        state.database.as_ref().ok().and_then(Availability::ready),
        probe,
    )
}

fn probe_ready(
    broker: Option<&redis::RedisEndpoint>,
    cache: Option<&redis::RedisEndpoint>,
    database: Option<&DatabaseConnection>,
    probe: &impl BackendProbe,
) -> Vec<UnreachableBackend> {
    [
        broker.map(|r| (redis::BROKER_ENDPOINT, r.host.as_str(), r.port)),
        cache.map(|r| (redis::CACHE_ENDPOINT, r.host.as_str(), r.port)),
        database.map(|d| (database::ENDPOINT, d.host.as_str(), d.port)),
    ]
    .into_iter()
    .flatten()
    .filter(|(_, host, port)| !probe.accepts(host, *port))
    .map(|(endpoint, host, port)| UnreachableBackend {
        endpoint,
        address: if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        },
    })
    .collect()
}

/// Builds the [`State`] for this hook.
pub async fn gather<H: HookTools, P: Pebble>(
    context: &JujuContext,
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
) -> Result<State, GatherError> {
    let unit = UnitIdentity {
        app: context.app.clone(),
        unit: context.unit.to_string(),
        model: context.model_name.clone(),
    };
    let config_values: serde_json::Map<String, serde_json::Value> =
        tools.config_get()?.into_iter().collect();
    let config = CharmConfig::parse(&config_values, &unit.app);
    let raw_proxy = &context.proxy;
    let proxy = ProxySettings::from_env(|name| match name {
        crate::proxy::HTTP_PROXY_VAR => raw_proxy.http.clone(),
        crate::proxy::HTTPS_PROXY_VAR => raw_proxy.https.clone(),
        crate::proxy::NO_PROXY_VAR => raw_proxy.no_proxy.clone(),
        _ => None,
    });
    let leader = tools.is_leader()?;

    let database_snapshot = snapshot(tools, database::ENDPOINT, false)?;
    let database_relation = database_snapshot.as_ref().map(|r| DatabaseRelation {
        id: r.id.clone(),
        write_request: requests_database(&context.event),
    });
    let database = database_connection(tools, database_snapshot.as_ref())?;
    let broker = snapshot(tools, redis::BROKER_ENDPOINT, true)?;
    let cache = snapshot(tools, redis::CACHE_ENDPOINT, true)?;
    let peer_relation = peer_snapshot(tools, &unit.app)?;
    let peers = peers::parse(peer_relation.as_ref());
    let secret_key = match peers.as_ref().ok().and_then(Option::as_ref) {
        Some(p) => secret_key::read(tools, &p.app)?,
        None => SecretKeyState::Missing,
    };
    let migrated_version = peers
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .and_then(|p| p.app.migrated_version.clone());

    let mut containers = BTreeMap::new();
    let mut image_version = None;
    for name in ContainerName::ALL {
        let state = match pebbles.get(&name) {
            Some(pebble) => match pebble.plan().await {
                Ok(plan) => ContainerState {
                    reachable: true,
                    current_plan: Some(plan),
                },
                Err(PebbleError::CannotConnect { .. }) => ContainerState::default(),
                Err(source) => {
                    return Err(GatherError::Pebble {
                        container: name,
                        source,
                    });
                }
            },
            None => ContainerState::default(),
        };
        if name == ContainerName::Indico && state.reachable {
            if let Some(pebble) = pebbles.get(&name) {
                image_version = read_version(pebble).await;
            }
        }
        containers.insert(name, state);
    }

    let unit_for_optional = unit.clone();
    let peers_for_optional = peers.as_ref().ok().and_then(Option::as_ref).cloned();
    let peers_unreadable = peers.is_err();
    Ok(State {
        unit,
        leader,
        config,
        proxy,
        database_relation,
        database,
        redis_broker: redis::parse(redis::BROKER_ENDPOINT, broker.as_ref()),
        redis_cache: redis::parse(redis::CACHE_ENDPOINT, cache.as_ref()),
        peers,
        departing_unit: departing_peer(&context.event),
        secret_key,
        migration: MigrationState {
            migrated_version,
            image_version,
            blocked: None,
        },
        extensions: observed_extensions(&containers),
        optional: gather_optional(
            context,
            tools,
            &unit_for_optional,
            leader,
            peers_for_optional.as_ref(),
            peers_unreadable,
        )?,
        containers,
    })
}

/// What the `indico` and `indico-celery` layers record as installed (no extra Pebble call).
fn observed_extensions(containers: &BTreeMap<ContainerName, ContainerState>) -> ExtensionsState {
    let plan_of = |c: ContainerName| containers.get(&c).and_then(|s| s.current_plan.as_ref());
    ExtensionsState {
        plugins: crate::plugins::CONTAINERS
            .into_iter()
            .filter_map(|c| Some((c, crate::plugins::observed(plan_of(c)?, c)?)))
            .collect(),
        customization: plan_of(ContainerName::Indico).and_then(crate::customization::observed),
        blocked: None,
    }
}

/// The image's Indico version; `None` when the file is missing, unreadable or not one line of
/// version characters (then migrations wait and the version is not reported).
async fn read_version(pebble: &impl Pebble) -> Option<String> {
    let bytes = match pebble.pull(VERSION_FILE).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!("cannot read {VERSION_FILE} in the indico container: {e}");
            return None;
        }
    };
    let text = String::from_utf8(bytes).ok()?;
    let version = text.trim();
    let plausible = !version.is_empty()
        && version.len() <= 64
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    plausible.then(|| version.to_owned())
}

/// Whether this hook may write this charm's side of `endpoint`: that relation's
/// created/joined/changed, or a hook where what the charm publishes may have changed
/// (leadership, configuration, a new charm version).
fn writes_own_side(event: &Event, endpoint: &str) -> bool {
    match event {
        Event::LeaderElected | Event::ConfigChanged | Event::UpgradeCharm => true,
        Event::Relation(e) => {
            e.relation.endpoint == endpoint
                && matches!(
                    e.kind,
                    RelationEventKind::Created
                        | RelationEventKind::Joined
                        | RelationEventKind::Changed
                )
        }
        _ => false,
    }
}

/// The remote application's bag of relation `id`.
fn remote_app_snapshot(
    tools: &impl HookTools,
    id: &juju_runtime::RelationId,
) -> Result<RelationSnapshot, HookToolError> {
    let mut relation = RelationSnapshot::new(id.clone());
    relation.remote_app = tools.relation_remote_app(id)?;
    if let Some(app) = &relation.remote_app {
        relation.app_data = tools.relation_get(id, &Bag::App(app.clone()))?;
    }
    Ok(relation)
}

/// The remote units' bags of relation `id`.
fn remote_units_snapshot(
    tools: &impl HookTools,
    id: &juju_runtime::RelationId,
) -> Result<RelationSnapshot, HookToolError> {
    let mut relation = RelationSnapshot::new(id.clone());
    for unit in tools.relation_list(id)? {
        let bag = tools.relation_get(id, &Bag::Unit(unit.clone()))?;
        relation.units.insert(unit, bag);
    }
    Ok(relation)
}

/// Resolves the SMTP password; an unreadable `password_id` secret (not granted yet) means the
/// provider has not fully answered.
fn smtp_settings(
    tools: &impl HookTools,
    relation: Option<&RelationSnapshot>,
) -> Result<
    Result<Availability<interfaces::smtp::SmtpSettings>, interfaces::smtp::SmtpError>,
    HookToolError,
> {
    use interfaces::smtp::{SmtpPassword, SmtpSettings, password_from_secret};
    let offer = match interfaces::smtp::parse(relation) {
        Ok(Availability::Ready(offer)) => offer,
        Ok(Availability::NotRelated) => return Ok(Ok(Availability::NotRelated)),
        Ok(Availability::Pending) => return Ok(Ok(Availability::Pending)),
        Err(e) => return Ok(Err(e)),
    };
    let password = match &offer.password {
        SmtpPassword::None => None,
        SmtpPassword::Inline(password) => Some(password.clone()),
        SmtpPassword::InSecret(uri) => {
            let latest = SecretGetOptions {
                refresh: true,
                ..SecretGetOptions::default()
            };
            match tools.secret_get(&SecretRef::Uri(uri.clone()), latest) {
                Ok(content) => match password_from_secret(&content.into_map()) {
                    Ok(password) => Some(password),
                    Err(e) => return Ok(Err(e)),
                },
                Err(
                    HookToolError::SecretNotFound { .. } | HookToolError::PermissionDenied { .. },
                ) => return Ok(Ok(Availability::Pending)),
                Err(e) => return Err(e),
            }
        }
    };
    Ok(Ok(Availability::Ready(SmtpSettings::new(offer, password))))
}

/// The optional relations. Listing the relations of all eight optional endpoints would cost
/// eight `relation-ids` calls in every hook, most of them answering `[]`; instead the leader
/// records which endpoints are related in the peer application bag
/// ([`interfaces::RELATED_ENDPOINTS_KEY`]) and a hook looks only at those, plus the endpoint
/// of its own relation event, plus all of them in `leader-elected` and `upgrade-charm` (full
/// scans that repair the record). The cost: a relation created while no unit led is seen by
/// other units from the next leader-elected on, or at once in its own relation hooks.
/// While the peer bag is malformed (`peers_unreadable`) the record cannot be trusted either,
/// so every endpoint is looked at: a Blocked unit must not drop what it forwards logs to.
fn gather_optional(
    context: &JujuContext,
    tools: &impl HookTools,
    unit: &UnitIdentity,
    leader: bool,
    peers: Option<&peers::Peers>,
    peers_unreadable: bool,
) -> Result<OptionalRelations, GatherError> {
    use interfaces::{
        OPTIONAL_ENDPOINTS, RELATED_ENDPOINTS_KEY, ingress, logging, metrics_endpoint, s3, saml,
        smtp,
    };
    let event_endpoint = match &context.event {
        Event::Relation(e) => OPTIONAL_ENDPOINTS
            .into_iter()
            .find(|endpoint| *endpoint == e.relation.endpoint),
        _ => None,
    };
    let full_scan =
        peers_unreadable || matches!(context.event, Event::LeaderElected | Event::UpgradeCharm);
    let recorded: Vec<&str> = peers
        .and_then(|p| p.raw_app.get(RELATED_ENDPOINTS_KEY))
        .map(|list| list.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut optional = OptionalRelations {
        model_uuid: context.model_uuid.clone(),
        full_scan,
        ..OptionalRelations::default()
    };
    let mut logging_relations = Vec::new();
    let mut s3_relation = None;
    let mut saml_relation = None;
    let mut smtp_relation = None;
    let mut ingress_relation = None;
    for endpoint in OPTIONAL_ENDPOINTS {
        if !(full_scan || event_endpoint == Some(endpoint) || recorded.contains(&endpoint)) {
            continue;
        }
        let ids = tools.relation_ids(endpoint)?;
        optional.looked_at.insert(endpoint, !ids.is_empty());
        let writes = writes_own_side(&context.event, endpoint);
        for id in ids {
            match endpoint {
                logging::ENDPOINT => logging_relations.push(remote_units_snapshot(tools, &id)?),
                s3::ENDPOINT => s3_relation = Some(remote_app_snapshot(tools, &id)?),
                saml::ENDPOINT => saml_relation = Some(remote_app_snapshot(tools, &id)?),
                smtp::ENDPOINT => smtp_relation = Some(remote_app_snapshot(tools, &id)?),
                ingress::ENDPOINT => ingress_relation = Some(remote_app_snapshot(tools, &id)?),
                _ => {}
            }
            if !writes {
                continue;
            }
            let has_unit_data = matches!(endpoint, ingress::ENDPOINT | metrics_endpoint::ENDPOINT);
            let app = if leader {
                Some(tools.relation_get(&id, &Bag::App(unit.app.clone()))?)
            } else {
                None
            };
            let unit_bag = if has_unit_data {
                Some(tools.relation_get(&id, &Bag::Unit(unit.unit.clone()))?)
            } else {
                None
            };
            let bind_address = if endpoint == ingress::ENDPOINT {
                match tools.network_get(endpoint, Some(&id)) {
                    Ok(info) => info
                        .bind_addresses
                        .iter()
                        .flat_map(|b| b.addresses.iter())
                        .map(|a| a.value.clone())
                        .find(|v| !v.is_empty()),
                    Err(e) => {
                        tracing::warn!("network-get {endpoint}: {e}");
                        None
                    }
                }
            } else {
                None
            };
            optional.own_bags.push(OwnBags {
                endpoint,
                relation: id,
                app,
                unit: unit_bag,
                bind_address,
            });
        }
    }
    optional.ingress_url = ingress::parse_url(ingress_relation.as_ref());
    if let (Ok(Some(url)), Some(ingress::ENDPOINT)) = (&optional.ingress_url, event_endpoint) {
        tracing::info!("the ingress provider publishes Indico at {url}");
    }
    optional.logging = logging::parse(&logging_relations);
    optional.s3 = s3::parse(s3_relation.as_ref());
    optional.saml = saml::parse(saml_relation.as_ref());
    optional.smtp = smtp_settings(tools, smtp_relation.as_ref())?;
    Ok(optional)
}

#[cfg(test)]
mod probe_tests {
    use super::*;
    use std::cell::RefCell;
    use std::net::{Ipv4Addr, TcpListener};

    /// Answers from a fixed list of reachable `host:port`s and records what was asked.
    struct ListedProbe {
        up: Vec<String>,
        asked: RefCell<Vec<String>>,
    }

    impl BackendProbe for ListedProbe {
        fn accepts(&self, host: &str, port: u16) -> bool {
            let address = format!("{host}:{port}");
            self.asked.borrow_mut().push(address.clone());
            self.up.contains(&address)
        }
    }

    fn database() -> DatabaseConnection {
        DatabaseConnection {
            host: "db.example".into(),
            port: 5432,
            database: "indico".into(),
            username: "u".into(),
            password: crate::sensitive::Sensitive::new("p".to_owned()),
        }
    }

    fn broker() -> redis::RedisEndpoint {
        redis::RedisEndpoint {
            host: "broker.example".into(),
            port: 6379,
        }
    }

    fn cache() -> redis::RedisEndpoint {
        redis::RedisEndpoint {
            host: "fd00::7".into(),
            port: 6380,
        }
    }

    #[test]
    fn only_backends_that_refuse_are_reported_in_status_order() {
        let probe = ListedProbe {
            up: vec!["broker.example:6379".into()],
            asked: RefCell::default(),
        };
        let down = probe_ready(Some(&broker()), Some(&cache()), Some(&database()), &probe);
        assert_eq!(
            down,
            vec![
                UnreachableBackend {
                    endpoint: "redis-cache",
                    address: "[fd00::7]:6380".into()
                },
                UnreachableBackend {
                    endpoint: "database",
                    address: "db.example:5432".into()
                },
            ]
        );
        assert_eq!(probe.asked.borrow().len(), 3);
    }

    #[test]
    fn relations_without_usable_data_are_not_probed() {
        let probe = ListedProbe {
            up: vec![],
            asked: RefCell::default(),
        };
        let down = probe_ready(None, Some(&cache()), None, &probe);
        assert_eq!(probe.asked.borrow().as_slice(), ["fd00::7:6380"]);
        assert_eq!(down.len(), 1);
        assert_eq!(down[0].endpoint, "redis-cache");
    }

    #[test]
    fn the_tcp_probe_tells_a_listening_port_from_a_closed_one() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = {
            let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            l.local_addr().unwrap().port()
        };
        let probe = TcpProbe::default();
        assert!(probe.accepts("127.0.0.1", open));
        assert!(probe.accepts("localhost", open));
        assert!(!probe.accepts("127.0.0.1", closed));
        assert!(!probe.accepts("not a host name", open));
    }
}
