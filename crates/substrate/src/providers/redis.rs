//! The `redis` provider: one private `redis-server` per application (the pods engineer's
//! [`HostRedis`]) on the host service address, published as redis-k8s does:
//!
//! - each provider unit's bag holds `hostname` and `port` (redis-k8s' `RedisProvides`);
//! - the application bag holds `leader-host`, the current Redis master, which the
//!   redis-k8s leader writes on `redis-relation-created` (and again whenever Sentinel
//!   elects another master). redis-k8s writes the master pod's FQDN there, or Sentinel's
//!   master IP; the substrate's server has no DNS name, so it writes the same address as
//!   `hostname`. Requirers using the `redis` library's `url` prefer `leader-host`.

use std::path::{Path, PathBuf};

use super::{ProviderError, RemoteApplication};
use crate::host::{HostRedis, ServiceAddress};
use crate::model::{CharmMeta, Model};

/// The application bag key naming the current master (redis-k8s `LEADER_HOST_KEY`).
const LEADER_HOST_KEY: &str = "leader-host";
/// The first port handed to a Redis application.
const FIRST_PORT: u16 = 6390;
const METADATA: &str = "name: redis-k8s\nprovides:\n  redis:\n    interface: redis\n";

/// Plays redis-k8s applications.
#[derive(Debug, Clone)]
pub struct RedisProvider {
    dir: PathBuf,
    address: ServiceAddress,
}

impl RedisProvider {
    /// Server files under `dir/<app>`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            address: ServiceAddress::default(),
        }
    }

    fn server(&self, model: &Model, app: &str) -> Option<HostRedis> {
        let port = model
            .applications
            .get(app)?
            .provider_data
            .get("port")?
            .parse()
            .ok()?;
        Some(HostRedis {
            port,
            address: self.address.address,
            dir: self.dir.join(app),
        })
    }
}

impl RemoteApplication for RedisProvider {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn charm(&self) -> CharmMeta {
        // A constant that parses: an invariant checked by the tests.
        CharmMeta::parse(METADATA, None, None).expect("the redis provider metadata parses")
    }

    fn start(&self, model: &mut Model, app: &str) -> Result<(), ProviderError> {
        let used: Vec<u16> = model
            .applications
            .values()
            .filter_map(|a| a.provider_data.get("port")?.parse().ok())
            .collect();
        let existing = self.server(model, app);
        let server = match existing {
            Some(server) => server,
            None => {
                // Free in this model and on this host (other models share the host).
                let port = (FIRST_PORT..u16::MAX)
                    .find(|p| {
                        !used.contains(p)
                            && std::net::TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, *p))
                                .is_err()
                    })
                    .unwrap_or(FIRST_PORT);
                if let Some(a) = model.applications.get_mut(app) {
                    a.provider_data.insert("port".into(), port.to_string());
                }
                HostRedis {
                    port,
                    address: self.address.address,
                    dir: self.dir.join(app),
                }
            }
        };
        self.address.ensure()?;
        server.ensure_running()?;
        Ok(())
    }

    fn serve(&self, model: &mut Model, relation: u64, app: &str) -> Result<bool, ProviderError> {
        let server = self
            .server(model, app)
            .ok_or_else(|| ProviderError::Request {
                provider: "redis",
                detail: format!("application {app} has no server; was it started?"),
            })?;
        let units: Vec<String> = model
            .applications
            .get(app)
            .map(|a| a.units.values().map(|u| u.name.clone()).collect())
            .unwrap_or_default();
        let Some(rel) = model.relations.get_mut(&relation) else {
            return Ok(false);
        };
        let address = server.address.to_string();
        let app_bag = rel.app_bags.entry(app.to_owned()).or_default();
        let mut changed = app_bag.get(LEADER_HOST_KEY) != Some(&address);
        if changed {
            app_bag.insert(LEADER_HOST_KEY.to_owned(), address);
        }
        for unit in units {
            let bag = rel.unit_bags.entry(unit).or_default();
            for (key, value) in [
                ("hostname", server.address.to_string()),
                ("port", server.port.to_string()),
            ] {
                if bag.get(key) != Some(&value) {
                    bag.insert(key.to_owned(), value);
                    changed = true;
                }
            }
        }
        Ok(changed)
    }

    fn relation_removed(&self, _: &mut Model, _: u64, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    fn stop(&self, model: &mut Model, app: &str) -> Result<(), ProviderError> {
        if let Some(server) = self.server(model, app) {
            server.stop()?;
        }
        Ok(())
    }
}
