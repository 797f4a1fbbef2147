//! Remote applications played by the substrate with real servers: their units have no
//! agent; the substrate writes their side of each relation itself, exactly as the real
//! provider charm's library would, whenever the requirer's side changes.
//!
//! - [`PostgresqlProvider`]: postgresql-k8s through data_platform_libs `data_interfaces`
//!   v0 `DatabaseProvides`: a database and a user (`relation_id_<id>_<model>`, random password) on
//!   the host's real PostgreSQL with `pg_trgm` and `unaccent`, answered in the provider's
//!   application bag in plain form or, when the requirer sent `requested-secrets`, with
//!   the credentials in an application-owned Juju secret named by `secret-user`.
//! - [`RedisProvider`]: redis-k8s through its `redis` library: a private `redis-server`
//!   per application, published in the provider unit's bag as `hostname` and `port`, and
//!   in its application bag as `leader-host` (the master's address, as redis-k8s's leader
//!   writes it).

mod postgresql;
mod redis;

use crate::host::HostError;
use crate::model::{CharmMeta, Model};

pub use postgresql::PostgresqlProvider;
pub use redis::RedisProvider;

/// What went wrong in a provider.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The host server failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The requirer's request cannot be served.
    #[error("{provider}: {detail}")]
    Request {
        /// Which provider.
        provider: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// A remote application kind the substrate can play.
pub trait RemoteApplication: Send + Sync + 'static {
    /// The provider's name (`postgresql`, `redis`), used in `deploy`.
    fn kind(&self) -> &'static str;
    /// Its charm metadata (endpoints).
    fn charm(&self) -> CharmMeta;
    /// Starts what the application needs (its server); called when it is added.
    fn start(&self, model: &mut Model, app: &str) -> Result<(), ProviderError>;
    /// Writes the provider's side of `relation` from the requirer's current side.
    /// Returns whether any provider bag changed.
    fn serve(&self, model: &mut Model, relation: u64, app: &str) -> Result<bool, ProviderError>;
    /// Cleans up after `relation` is gone (drops users, revokes grants).
    fn relation_removed(
        &self,
        model: &mut Model,
        relation: u64,
        app: &str,
    ) -> Result<(), ProviderError>;
    /// Stops what [`RemoteApplication::start`] started.
    fn stop(&self, model: &mut Model, app: &str) -> Result<(), ProviderError>;
}
