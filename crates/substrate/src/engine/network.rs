//! The podman network the substrate's pods live on: a bridge with a fixed subnet, so
//! host-side servers can allow exactly that subnet.

use std::net::Ipv4Addr;

use super::{Engine, EngineError};

/// The substrate's pod network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubstrateNetwork {
    /// Podman network name.
    pub name: String,
    /// Network address of the subnet.
    pub subnet: Ipv4Addr,
    /// Prefix length of the subnet.
    pub prefix: u8,
    /// The bridge's (host side) address.
    pub gateway: Ipv4Addr,
}

impl Default for SubstrateNetwork {
    /// `indico-substrate`, 10.210.0.0/24, gateway 10.210.0.1: outside podman's default
    /// 10.88.0.0/16 and the 10.89.x.0/24 range it allocates new networks from.
    fn default() -> Self {
        Self {
            name: "indico-substrate".into(),
            subnet: Ipv4Addr::new(10, 210, 0, 0),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 210, 0, 1),
        }
    }
}

impl SubstrateNetwork {
    /// The subnet in CIDR notation, e.g. `10.210.0.0/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.subnet, self.prefix)
    }

    /// Creates the network unless it exists. Returns `true` when created now.
    pub fn ensure(&self, engine: &Engine) -> Result<bool, EngineError> {
        if engine
            .podman()
            .check(["network", "exists", self.name.as_str()])?
        {
            return Ok(false);
        }
        let cidr = self.cidr();
        let gateway = self.gateway.to_string();
        engine.podman().run([
            "network",
            "create",
            "--driver",
            "bridge",
            "--subnet",
            cidr.as_str(),
            "--gateway",
            gateway.as_str(),
            "--label",
            "org.indico-substrate=true",
            self.name.as_str(),
        ])?;
        Ok(true)
    }

    /// Removes the network (it must have no containers left).
    pub fn remove(&self, engine: &Engine) -> Result<(), EngineError> {
        if engine
            .podman()
            .check(["network", "exists", self.name.as_str()])?
        {
            engine.podman().run(["network", "rm", self.name.as_str()])?;
        }
        Ok(())
    }
}
