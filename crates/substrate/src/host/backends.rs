//! Everything Indico needs outside its pod, for one test or development deployment:
//! the service address, a PostgreSQL database with Indico's extensions, and a private
//! Redis (broker on db 0, cache on db 1).

use std::io::Read;
use std::path::Path;

use super::{HostError, HostPostgres, HostRedis, PostgresDatabase, ServiceAddress};

/// Indico's host-side backends, ready for pods on `pod_cidr`.
#[derive(Debug, Clone)]
pub struct IndicoBackends {
    /// The address pods reach the servers at.
    pub address: ServiceAddress,
    /// The PostgreSQL cluster.
    pub postgres: HostPostgres,
    /// The database and its owner's credentials (the password is random per call).
    pub database: PostgresDatabase,
    /// The Redis server.
    pub redis: HostRedis,
}

impl IndicoBackends {
    /// Adds the service address, opens PostgreSQL to `pod_cidr`, (re)creates role and
    /// database `db_name` with a fresh random password, and starts a private Redis on a
    /// free port with its files under `state_root/host/redis-<port>`.
    pub fn ensure(state_root: &Path, pod_cidr: &str, db_name: &str) -> Result<Self, HostError> {
        let address = ServiceAddress::default();
        address.ensure()?;
        let postgres = HostPostgres::default();
        postgres.ensure_serving(address.address, pod_cidr)?;
        let database = PostgresDatabase {
            name: db_name.to_owned(),
            password: random_hex(16)?,
        };
        postgres.create_database(&database)?;
        let redis_port = HostRedis::free_port()?;
        let redis = HostRedis {
            port: redis_port,
            address: address.address,
            dir: state_root.join("host").join(format!("redis-{redis_port}")),
        };
        redis.ensure_running()?;
        Ok(Self {
            address,
            postgres,
            database,
            redis,
        })
    }

    /// `postgresql://<user>:<password>@<address>:<port>/<db>`. Holds the password: never log it.
    pub fn database_uri(&self) -> String {
        format!(
            "postgresql://{name}:{password}@{address}:{port}/{name}",
            name = self.database.name,
            password = self.database.password,
            address = self.address.address,
            port = self.postgres.port,
        )
    }

    /// The Celery broker URL.
    pub fn broker_url(&self) -> String {
        self.redis.url(0)
    }

    /// The cache URL.
    pub fn cache_url(&self) -> String {
        self.redis.url(1)
    }

    /// Drops the database and role and stops Redis. The service address and the
    /// PostgreSQL configuration stay (they are host setup, shared by every deployment).
    pub fn teardown(&self) -> Result<(), HostError> {
        self.postgres.drop_database(&self.database.name)?;
        self.redis.stop()
    }
}

/// `bytes` random bytes from the kernel, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String, HostError> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|source| HostError::io("read", "/dev/urandom", source))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
