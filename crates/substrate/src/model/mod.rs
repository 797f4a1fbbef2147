//! The substrate's Juju model: applications (charms from a directory, or remote
//! applications played by the substrate's providers), units with their workload and agent
//! statuses, config, relations with their four kinds of databag, secrets with revisions,
//! owners, grants and consumers, opened ports, charm state, actions, and injected faults.
//!
//! The whole model is one serde value, persisted atomically (write to a temporary file,
//! fsync, rename) as JSON with mode 0600 in the state directory: it holds relation data
//! and secret content, so no one but the substrate's user may read it. The controller
//! owns the live copy; `status`-like readers may load the file directly.

mod charm;
mod error;
mod relation;
mod secret;
mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use charm::{ActionSpec, CharmMeta, ConfigOption, Endpoint, OptionType, Role};
pub use error::ModelError;
pub use relation::{Bag, Relation, RelationEnd};
pub use secret::{Consumer, Grant, Secret, SecretOwner, new_secret_xid};
pub use status::{HISTORY_LIMIT, Status, StatusWithHistory, now_ms};

/// The model, as the controller holds and persists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Model name (`JUJU_MODEL_NAME`).
    pub name: String,
    /// Model UUID (`JUJU_MODEL_UUID`, and secret URIs).
    pub uuid: String,
    /// Applications by name.
    #[serde(default)]
    pub applications: BTreeMap<String, Application>,
    /// Relations by id.
    #[serde(default)]
    pub relations: BTreeMap<u64, Relation>,
    /// The next relation id to hand out.
    #[serde(default)]
    pub next_relation_id: u64,
    /// Secrets by their 20-character id.
    #[serde(default)]
    pub secrets: BTreeMap<String, Secret>,
    /// Actions by id.
    #[serde(default)]
    pub actions: BTreeMap<u64, ActionRecord>,
    /// The next action id.
    #[serde(default)]
    pub next_action_id: u64,
    /// Faults waiting to be injected into hook tool calls.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Model config (`juju-http-proxy`, `juju-https-proxy`, `juju-no-proxy`, ...).
    #[serde(default)]
    pub model_config: BTreeMap<String, String>,
}

/// What plays an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum AppKind {
    /// A charm from a directory, run by the unit agent.
    Charm {
        /// The charm directory on the host (metadata.yaml, config.yaml, actions.yaml, dispatch).
        dir: String,
    },
    /// A remote application whose side of the relation the substrate writes itself.
    Provider {
        /// Which provider: `postgresql` or `redis`.
        provider: String,
    },
}

/// An application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// Its name.
    pub name: String,
    /// What plays it.
    pub kind: AppKind,
    /// The charm's declared surface.
    pub charm: CharmMeta,
    /// Config values set (defaults included).
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
    /// Units by number.
    #[serde(default)]
    pub units: BTreeMap<u32, Unit>,
    /// The next unit number.
    #[serde(default)]
    pub next_unit: u32,
    /// The leader unit's name.
    #[serde(default)]
    pub leader: Option<String>,
    /// The application status (set by the leader with `status-set --application`).
    pub status: StatusWithHistory,
    /// `application-version-set`.
    #[serde(default)]
    pub workload_version: String,
    /// Data the substrate keeps for a provider (e.g. database names and Redis ports).
    #[serde(default)]
    pub provider_data: BTreeMap<String, String>,
}

impl Application {
    /// The unit called `name` (`app/n`).
    pub fn unit(&self, name: &str) -> Option<&Unit> {
        self.units.values().find(|u| u.name == name)
    }

    /// Mutable access to the unit called `name`.
    pub fn unit_mut(&mut self, name: &str) -> Option<&mut Unit> {
        self.units.values_mut().find(|u| u.name == name)
    }

    /// Whether this is a charm the substrate runs (not a provider).
    pub fn is_charm(&self) -> bool {
        matches!(self.kind, AppKind::Charm { .. })
    }
}

/// A unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// `app/n`.
    pub name: String,
    /// The unit number.
    pub number: u32,
    /// Workload status (`status-set`).
    pub workload: StatusWithHistory,
    /// Agent status (`idle`, `executing`, `error`).
    pub agent: StatusWithHistory,
    /// Charm state (`state-set`).
    #[serde(default)]
    pub state: BTreeMap<String, String>,
    /// Opened ports, normalised (`8080/tcp`, `icmp`).
    #[serde(default)]
    pub ports: BTreeSet<String>,
    /// Per relation id: the remote units this unit has seen join (`relation-list`).
    #[serde(default)]
    pub joined: BTreeMap<u64, BTreeSet<String>>,
    /// The pod's address, when it runs.
    #[serde(default)]
    pub address: Option<String>,
    /// Whether `install` has succeeded.
    #[serde(default)]
    pub installed: bool,
    /// Whether `start` has succeeded.
    #[serde(default)]
    pub started: bool,
    /// Whether the unit is being removed.
    #[serde(default)]
    pub dying: bool,
}

impl Unit {
    /// A new unit waiting for its agent.
    pub fn new(app: &str, number: u32) -> Self {
        Self {
            name: format!("{app}/{number}"),
            number,
            workload: StatusWithHistory::new(Status::now("waiting", "installing agent")),
            agent: StatusWithHistory::new(Status::now("allocating", "")),
            state: BTreeMap::new(),
            ports: BTreeSet::new(),
            joined: BTreeMap::new(),
            address: None,
            installed: false,
            started: false,
            dying: false,
        }
    }
}

/// An action run on a unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// The action id (`JUJU_ACTION_UUID`).
    pub id: u64,
    /// The unit it runs on.
    pub unit: String,
    /// The action name.
    pub name: String,
    /// Validated parameters with defaults.
    pub params: BTreeMap<String, Value>,
    /// `pending`, `running`, `completed`, `failed`.
    pub status: String,
    /// The failure message (`action-fail` or the exit status).
    #[serde(default)]
    pub message: String,
    /// Results (`action-set`, plus `return-code`, `stdout`, `stderr`).
    #[serde(default)]
    pub results: BTreeMap<String, Value>,
    /// `action-log` messages.
    #[serde(default)]
    pub log: Vec<String>,
}

/// A fault to inject: the next `count` calls of hook tool `tool` (by `unit`, or by any
/// unit) fail with exit code 1 and `ERROR injected fault: <tool>`, as a controller
/// outage would make them fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// The tool name, e.g. `relation-get`.
    pub tool: String,
    /// Only calls by this unit, or any unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// How many more calls fail.
    pub count: u32,
}

impl Model {
    /// An empty model with a fresh UUID.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            uuid: new_uuid(),
            applications: BTreeMap::new(),
            relations: BTreeMap::new(),
            next_relation_id: 0,
            secrets: BTreeMap::new(),
            actions: BTreeMap::new(),
            next_action_id: 1,
            faults: Vec::new(),
            model_config: BTreeMap::new(),
        }
    }

    /// Reads the model from `path`.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read(path).map_err(|source| ModelError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&text).map_err(|source| ModelError::Corrupt {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the model to `path` atomically with mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |action, source| ModelError::Io {
            action,
            path: path.to_path_buf(),
            source,
        };
        // A model of strings and maps always serialises.
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| io("create", e))?;
        file.write_all(&json).map_err(|e| io("write", e))?;
        file.sync_all().map_err(|e| io("sync", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("rename", e))
    }

    /// The application called `name`.
    pub fn app(&self, name: &str) -> Result<&Application, ModelError> {
        self.applications
            .get(name)
            .ok_or_else(|| ModelError::UnknownApplication(name.to_owned()))
    }

    /// Mutable access to the application called `name`.
    pub fn app_mut(&mut self, name: &str) -> Result<&mut Application, ModelError> {
        self.applications
            .get_mut(name)
            .ok_or_else(|| ModelError::UnknownApplication(name.to_owned()))
    }

    /// The unit called `name` (`app/n`).
    pub fn unit(&self, name: &str) -> Result<&Unit, ModelError> {
        let app = app_of(name);
        self.applications
            .get(app)
            .and_then(|a| a.unit(name))
            .ok_or_else(|| ModelError::UnknownUnit(name.to_owned()))
    }

    /// Mutable access to the unit called `name`.
    pub fn unit_mut(&mut self, name: &str) -> Result<&mut Unit, ModelError> {
        let app = app_of(name);
        self.applications
            .get_mut(app)
            .and_then(|a| a.unit_mut(name))
            .ok_or_else(|| ModelError::UnknownUnit(name.to_owned()))
    }

    /// Whether `unit` is its application's leader.
    pub fn is_leader(&self, unit: &str) -> bool {
        self.applications
            .get(app_of(unit))
            .is_some_and(|a| a.leader.as_deref() == Some(unit))
    }

    /// Adds an application with `units` units (the first becomes leader).
    pub fn add_application(
        &mut self,
        name: &str,
        kind: AppKind,
        charm: CharmMeta,
        units: u32,
    ) -> Result<&mut Application, ModelError> {
        if self.applications.contains_key(name) {
            return Err(ModelError::AlreadyExists(format!("application {name:?}")));
        }
        let mut app = Application {
            name: name.to_owned(),
            kind,
            config: charm.default_config(),
            charm,
            units: BTreeMap::new(),
            next_unit: 0,
            leader: None,
            status: StatusWithHistory::new(Status::now("unknown", "")),
            workload_version: String::new(),
            provider_data: BTreeMap::new(),
        };
        for _ in 0..units {
            app.add_unit();
        }
        app.leader = app.units.values().next().map(|u| u.name.clone());
        self.applications.insert(name.to_owned(), app);
        self.app_mut(name)
    }

    /// The relation with `id`.
    pub fn relation(&self, id: u64) -> Result<&Relation, ModelError> {
        self.relations
            .get(&id)
            .ok_or_else(|| ModelError::Relation(format!("relation {id} not found")))
    }

    /// Relates `a` and `b`, each `app` or `app:endpoint`; the endpoints are inferred from
    /// matching interfaces when not given. Returns the new relation's id.
    pub fn integrate(&mut self, a: &str, b: &str) -> Result<u64, ModelError> {
        let (a_app, a_ep) = split_endpoint(a);
        let (b_app, b_ep) = split_endpoint(b);
        let app_a = self.app(a_app)?;
        let app_b = self.app(b_app)?;
        for (app, ep) in [(app_a, a_ep), (app_b, b_ep)] {
            if let Some(ep) = ep
                && !app.charm.endpoints.contains_key(ep)
            {
                return Err(ModelError::UnknownEndpoint {
                    application: app.name.clone(),
                    endpoint: ep.to_owned(),
                });
            }
        }
        let mut candidates = Vec::new();
        for (name_a, ep_a) in &app_a.charm.endpoints {
            if a_ep.is_some_and(|e| e != name_a) {
                continue;
            }
            for (name_b, ep_b) in &app_b.charm.endpoints {
                if b_ep.is_some_and(|e| e != name_b) {
                    continue;
                }
                let roles_fit = matches!(
                    (ep_a.role, ep_b.role),
                    (Role::Provider, Role::Requirer) | (Role::Requirer, Role::Provider)
                );
                if roles_fit && ep_a.interface == ep_b.interface {
                    candidates.push((name_a.clone(), name_b.clone(), ep_a.clone()));
                }
            }
        }
        let (ep_a, ep_b, endpoint) = match candidates.len() {
            0 => {
                return Err(ModelError::Relation(format!(
                    "no matching endpoints between {a} and {b}"
                )));
            }
            1 => candidates.remove(0),
            _ => {
                let list: Vec<String> = candidates
                    .iter()
                    .map(|(x, y, _)| format!("{a_app}:{x} {b_app}:{y}"))
                    .collect();
                return Err(ModelError::Relation(format!(
                    "ambiguous relation between {a} and {b}; specify one of: {}",
                    list.join(", ")
                )));
            }
        };
        let exists = self
            .relations
            .values()
            .any(|r| r.has_end(a_app, &ep_a) && r.has_end(b_app, &ep_b));
        if exists {
            return Err(ModelError::AlreadyExists(format!(
                "relation {a_app}:{ep_a} {b_app}:{ep_b}"
            )));
        }
        for (app, ep) in [(a_app, &ep_a), (b_app, &ep_b)] {
            let limit = self.app(app)?.charm.endpoints[ep].limit;
            let used = self
                .relations
                .values()
                .filter(|r| r.has_end(app, ep))
                .count();
            if limit.is_some_and(|l| used as u32 >= l) {
                return Err(ModelError::Relation(format!(
                    "endpoint {app}:{ep} already has its limit of relations"
                )));
            }
        }
        let id = self.next_relation_id;
        self.next_relation_id += 1;
        let interface = endpoint.interface;
        let ends = vec![
            RelationEnd {
                application: a_app.to_owned(),
                endpoint: ep_a,
                interface: interface.clone(),
            },
            RelationEnd {
                application: b_app.to_owned(),
                endpoint: ep_b,
                interface,
            },
        ];
        self.relations.insert(id, Relation::new(id, ends));
        Ok(id)
    }

    /// Creates the peer relations of application `app` (one per peer endpoint).
    pub fn add_peer_relations(&mut self, app: &str) -> Result<Vec<u64>, ModelError> {
        let peers: Vec<(String, String)> = self
            .app(app)?
            .charm
            .endpoints
            .iter()
            .filter(|(_, e)| e.role == Role::Peer)
            .map(|(n, e)| (n.clone(), e.interface.clone()))
            .collect();
        let mut ids = Vec::new();
        for (endpoint, interface) in peers {
            let id = self.next_relation_id;
            self.next_relation_id += 1;
            let end = RelationEnd {
                application: app.to_owned(),
                endpoint,
                interface,
            };
            self.relations.insert(id, Relation::new(id, vec![end]));
            ids.push(id);
        }
        Ok(ids)
    }

    /// Takes one injected fault matching `tool` called by `unit`, if any.
    pub fn take_fault(&mut self, tool: &str, unit: &str) -> bool {
        let found = self.faults.iter_mut().position(|f| {
            f.tool == tool && f.count > 0 && f.unit.as_deref().is_none_or(|u| u == unit)
        });
        let Some(index) = found else { return false };
        self.faults[index].count -= 1;
        if self.faults[index].count == 0 {
            self.faults.remove(index);
        }
        true
    }

    /// The URI of secret `xid` in this model.
    pub fn secret_uri(&self, xid: &str) -> String {
        format!("secret://{}/{xid}", self.uuid)
    }
}

impl Application {
    /// Adds a unit and returns its name.
    pub fn add_unit(&mut self) -> String {
        let number = self.next_unit;
        self.next_unit += 1;
        let unit = Unit::new(&self.name, number);
        let name = unit.name.clone();
        self.units.insert(number, unit);
        name
    }
}

/// The application part of a unit name.
pub fn app_of(unit: &str) -> &str {
    unit.rsplit_once('/').map_or(unit, |(app, _)| app)
}

fn split_endpoint(text: &str) -> (&str, Option<&str>) {
    match text.split_once(':') {
        Some((app, ep)) => (app, Some(ep)),
        None => (text, None),
    }
}

/// A random RFC 4122 version-4 UUID.
pub fn new_uuid() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source failing is not recoverable for a controller.
    fill_random(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Fills `buf` from the OS CSPRNG.
pub fn fill_random(buf: &mut [u8]) {
    // getrandom only fails when the OS has no entropy source at all, which this
    // substrate (Linux with getrandom(2)) always has: an invariant.
    getrandom::fill(buf).expect("the OS random source is available");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charm(meta: &str) -> CharmMeta {
        CharmMeta::parse(meta, None, None).unwrap()
    }

    fn model() -> Model {
        let mut m = Model::new("test");
        let app = charm(
            "name: indico\npeers:\n  peers: {interface: x}\nrequires:\n  database: {interface: postgresql_client, limit: 1}\n  cache: {interface: redis}\n  broker: {interface: redis}\n",
        );
        m.add_application("indico", AppKind::Charm { dir: ".".into() }, app, 2)
            .unwrap();
        let pg = charm("name: postgresql\nprovides:\n  database: {interface: postgresql_client}\n");
        m.add_application(
            "postgresql",
            AppKind::Provider {
                provider: "postgresql".into(),
            },
            pg,
            1,
        )
        .unwrap();
        let redis = charm("name: redis\nprovides:\n  redis: {interface: redis}\n");
        m.add_application(
            "redis",
            AppKind::Provider {
                provider: "redis".into(),
            },
            redis,
            1,
        )
        .unwrap();
        m
    }

    #[test]
    fn integrate_infers_endpoints_and_enforces_limits() {
        let mut m = model();
        let id = m.integrate("indico", "postgresql").unwrap();
        assert!(m.relation(id).unwrap().has_end("indico", "database"));
        assert!(matches!(
            m.integrate("indico", "postgresql"),
            Err(ModelError::AlreadyExists(_))
        ));
        let err = m.integrate("indico", "redis").unwrap_err();
        assert!(err.to_string().contains("ambiguous"), "{err}");
        m.integrate("indico:cache", "redis").unwrap();
        let err = m.integrate("indico:nope", "redis").unwrap_err();
        assert!(matches!(err, ModelError::UnknownEndpoint { .. }), "{err}");
        assert!(matches!(
            m.integrate("nope", "redis"),
            Err(ModelError::UnknownApplication(_))
        ));
    }

    #[test]
    fn first_unit_leads_and_faults_are_consumed() {
        let mut m = model();
        assert!(m.is_leader("indico/0"));
        assert!(!m.is_leader("indico/1"));
        m.faults.push(Fault {
            tool: "relation-get".into(),
            unit: None,
            count: 1,
        });
        assert!(!m.take_fault("relation-set", "indico/0"));
        assert!(m.take_fault("relation-get", "indico/1"));
        assert!(!m.take_fault("relation-get", "indico/1"));
    }

    #[test]
    fn saves_atomically_with_private_mode_and_loads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        let m = model();
        m.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(Model::load(&path).unwrap(), m);
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(
            Model::load(&path),
            Err(ModelError::Corrupt { .. })
        ));
    }

    #[test]
    fn uuids_look_like_uuids() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uuid());
    }
}
