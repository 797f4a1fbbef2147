//! Juju secrets: content revisions, owner (application or unit), owner label and
//! metadata, grants to related applications or units, and per-consumer tracking (which
//! revision each reader sees, and its consumer label).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who owns a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "name")]
pub enum SecretOwner {
    /// The application (only its leader manages it).
    Application(String),
    /// One unit.
    Unit(String),
}

impl SecretOwner {
    /// `application` or `unit`, as `secret-info-get` prints it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Application(_) => "application",
            Self::Unit(_) => "unit",
        }
    }
}

/// A grant of `view` on a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The application or unit name granted to.
    pub target: String,
    /// The relation the grant is scoped to.
    pub relation_id: u64,
}

/// What one reader (a unit) of a secret tracks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumer {
    /// The revision it reads by default.
    pub tracked: u32,
    /// Its consumer label.
    #[serde(default)]
    pub label: Option<String>,
}

/// A secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secret {
    /// The 20-character id.
    pub xid: String,
    /// The owner.
    pub owner: SecretOwner,
    /// The owner's label.
    #[serde(default)]
    pub label: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Rotation policy name.
    #[serde(default)]
    pub rotate: Option<String>,
    /// Expiry as given.
    #[serde(default)]
    pub expire: Option<String>,
    /// Content by revision; values are base64, as Juju stores them.
    pub revisions: BTreeMap<u32, BTreeMap<String, String>>,
    /// Grants.
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// Readers by unit name.
    #[serde(default)]
    pub consumers: BTreeMap<String, Consumer>,
}

impl Secret {
    /// The latest revision number.
    pub fn latest(&self) -> u32 {
        self.revisions.keys().next_back().copied().unwrap_or(0)
    }

    /// Whether `unit` (of application `app`) may manage the secret: the owner unit, or
    /// any unit of the owner application (leadership is checked by the caller).
    pub fn is_owned_by(&self, unit: &str, app: &str) -> bool {
        match &self.owner {
            SecretOwner::Application(owner) => owner == app,
            SecretOwner::Unit(owner) => owner == unit,
        }
    }

    /// Whether `unit` (of application `app`) may read the secret.
    pub fn can_read(&self, unit: &str, app: &str) -> bool {
        self.is_owned_by(unit, app)
            || self
                .grants
                .iter()
                .any(|g| g.target == app || g.target == unit)
    }
}

/// A new secret id: 20 characters from `[0-9a-v]` (an xid's alphabet).
pub fn new_secret_xid() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
    let mut bytes = [0u8; 20];
    super::fill_random(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}
