//! The host-local address host-side servers listen on for the pods.

use std::net::Ipv4Addr;
use std::process::Command;

use super::error::run;
use super::{HostError, HostLock};

/// An address on the loopback device: local to this machine, reachable from the pods
/// (their default route is the bridge gateway, and the host delivers locally). Unlike the
/// bridge's own gateway address it exists before any pod runs, so servers can bind it.
/// (A `dummy` link would do too, but not every kernel here has the module.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAddress {
    /// The address, default 10.210.1.1.
    pub address: Ipv4Addr,
}

impl Default for ServiceAddress {
    fn default() -> Self {
        Self {
            address: Ipv4Addr::new(10, 210, 1, 1),
        }
    }
}

impl ServiceAddress {
    /// Adds the address to `lo` unless present. Returns `true` when added now.
    pub fn ensure(&self) -> Result<bool, HostError> {
        let _lock = HostLock::acquire()?;
        if self.is_present()? {
            return Ok(false);
        }
        let cidr = format!("{}/32", self.address);
        run(
            Command::new("ip").args(["addr", "add", &cidr, "dev", "lo"]),
            &format!("ip addr add {cidr} dev lo"),
            None,
        )?;
        Ok(true)
    }

    /// Removes the address from `lo` if present.
    pub fn remove(&self) -> Result<(), HostError> {
        let _lock = HostLock::acquire()?;
        if self.is_present()? {
            let cidr = format!("{}/32", self.address);
            run(
                Command::new("ip").args(["addr", "del", &cidr, "dev", "lo"]),
                &format!("ip addr del {cidr} dev lo"),
                None,
            )?;
        }
        Ok(())
    }

    fn is_present(&self) -> Result<bool, HostError> {
        let out = run(
            Command::new("ip").args(["-4", "-o", "addr", "show", "dev", "lo"]),
            "ip -4 -o addr show dev lo",
            None,
        )?;
        let needle = format!(" {}/", self.address);
        Ok(String::from_utf8_lossy(&out.stdout).contains(&needle))
    }
}
