//! What `network-get` and `goal-state` report, as typed values.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `network-get --format=json <binding>`: where this unit listens and how others reach
/// it. Keys Juju omits when empty are empty here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct NetworkInfo {
    /// The interfaces and addresses to bind to.
    #[serde(default)]
    pub bind_addresses: Vec<BindAddress>,
    /// The subnets this unit's traffic comes from, as CIDRs.
    #[serde(default)]
    pub egress_subnets: Vec<String>,
    /// The addresses other units should use to reach this one.
    #[serde(default)]
    pub ingress_addresses: Vec<String>,
}

/// One interface of [`NetworkInfo::bind_addresses`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BindAddress {
    /// The MAC address, may be empty.
    #[serde(default)]
    pub mac_address: String,
    /// The interface name, e.g. `eth0`.
    #[serde(default)]
    pub interface_name: String,
    /// The addresses on it.
    #[serde(default)]
    pub addresses: Vec<InterfaceAddress>,
}

/// One address of a [`BindAddress`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct InterfaceAddress {
    /// The host name, may be empty.
    #[serde(default)]
    pub hostname: String,
    /// The address, e.g. `10.1.2.3`.
    #[serde(default)]
    pub value: String,
    /// Its subnet, e.g. `10.1.2.0/24`.
    #[serde(default)]
    pub cidr: String,
}

/// `goal-state --format=json`: the units and relations Juju is converging to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GoalState {
    /// This application's units by name.
    #[serde(default)]
    pub units: BTreeMap<String, GoalStatus>,
    /// Per endpoint: remote applications and units by name.
    #[serde(default)]
    pub relations: BTreeMap<String, BTreeMap<String, GoalStatus>>,
}

impl GoalState {
    /// The number of units that are not `dying` (ops' `planned_units`).
    pub fn planned_units(&self) -> usize {
        self.units.values().filter(|u| u.status != "dying").count()
    }
}

/// A status in [`GoalState`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GoalStatus {
    /// Units: `allocating`, `active`, `waiting`, `blocked`, `error`, `dying`.
    /// Relations: `joining`, `joined`, `broken`, `suspended`, `error`.
    pub status: String,
    /// When it was reached, `2006-01-02 15:04:05Z` (UTC, a space for the `T`).
    #[serde(default)]
    pub since: String,
}
