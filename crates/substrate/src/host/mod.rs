//! Host-side servers the pods use, the way the substrate wires them: PostgreSQL and Redis
//! run on this machine and listen on a host-local *service address* (an extra address on
//! the loopback device, default 10.210.1.1). Pods reach it through their bridge gateway;
//! nothing listens on an outward-facing address, so all traffic stays on this machine.
//! PostgreSQL admits password logins only from the substrate's pod subnet.

mod backends;
mod error;
mod lock;
mod postgres;
mod redis;
mod service_address;

pub use backends::{IndicoBackends, random_hex};
pub use error::HostError;
pub use lock::HostLock;
pub use postgres::{HostPostgres, PostgresDatabase};
pub use redis::HostRedis;
pub use service_address::ServiceAddress;
