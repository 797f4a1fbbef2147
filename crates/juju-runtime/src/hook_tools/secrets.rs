//! Juju secret values and options: content (redacted in `Debug`), ownership, rotation,
//! and what `secret-info-get` reports.
//!
//! Rule: secret content never appears in logs, argv, error messages or `Debug` output.
//! [`SecretContent`]'s `Debug` prints only its keys.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::names::SecretUri;

/// Why a secret content key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "secret key {key:?} is not valid: keys are at least 3 characters of lower-case letters, digits and single hyphens, starting with a letter"
)]
pub struct InvalidSecretKey {
    /// The refused key (keys are not secret; values are).
    pub key: String,
}

/// Whether `key` matches Juju's `^([a-z](?:-?[a-z0-9]){2,})$`.
pub fn is_valid_secret_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    if !first.is_ascii_lowercase() || rest.last() == Some(&b'-') {
        return false;
    }
    let mut groups = 0;
    let mut previous_hyphen = false;
    for &b in rest {
        match b {
            b'-' if !previous_hyphen => previous_hyphen = true,
            b'a'..=b'z' | b'0'..=b'9' => {
                groups += 1;
                previous_hyphen = false;
            }
            _ => return false,
        }
    }
    groups >= 2
}

/// The key/value content of a secret. Values are secret: `Debug` shows keys only, and
/// nothing in this crate logs or formats them.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretContent(BTreeMap<String, String>);

impl SecretContent {
    /// Content from key/value pairs; every key must be a valid Juju secret key.
    pub fn new<I, K, V>(pairs: I) -> Result<Self, InvalidSecretKey>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let map: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        if let Some(key) = map.keys().find(|k| !is_valid_secret_key(k)) {
            return Err(InvalidSecretKey { key: key.clone() });
        }
        Ok(Self(map))
    }

    /// Content as Juju returned it (keys are not re-validated).
    pub(crate) fn from_juju(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }

    /// One value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Key/value pairs, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there is no key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The map itself.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

impl fmt::Debug for SecretContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "<redacted>")))
            .finish()
    }
}

/// Who owns a new secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretOwner {
    /// The application (Juju's default); only the leader may manage it.
    #[default]
    Application,
    /// This unit.
    Unit,
}

impl SecretOwner {
    /// The `--owner` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::Unit => "unit",
        }
    }
}

/// How often Juju sends `secret-rotate` to the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotatePolicy {
    /// Never.
    Never,
    /// Hourly.
    Hourly,
    /// Daily.
    Daily,
    /// Weekly.
    Weekly,
    /// Monthly.
    Monthly,
    /// Quarterly.
    Quarterly,
    /// Yearly.
    Yearly,
}

impl RotatePolicy {
    /// The `--rotate` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Hourly => "hourly",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Yearly => "yearly",
        }
    }
}

/// Metadata to set with `secret-set` (each `None` leaves it unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretSetOptions {
    /// `--label`: the owner's label for the secret.
    pub label: Option<String>,
    /// `--description`.
    pub description: Option<String>,
    /// `--expire`: an RFC 3339 time, `2006-01-02T15:04:05`, or a Go duration (`24h`).
    pub expire: Option<String>,
    /// `--rotate`.
    pub rotate: Option<RotatePolicy>,
}

/// Options of `secret-add`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretAddOptions {
    /// `--owner`.
    pub owner: SecretOwner,
    /// `--label`.
    pub label: Option<String>,
    /// `--description`.
    pub description: Option<String>,
    /// `--expire`: an RFC 3339 time, `2006-01-02T15:04:05`, or a Go duration (`24h`).
    pub expire: Option<String>,
    /// `--rotate`.
    pub rotate: Option<RotatePolicy>,
}

/// How to name a secret to `secret-get` / `secret-info-get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// By URI.
    Uri(SecretUri),
    /// By the owner's or consumer's label.
    Label(String),
}

/// Which revision `secret-get` returns. At most one of the two may be set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretGetOptions {
    /// `--peek`: read the latest revision once, without tracking it.
    pub peek: bool,
    /// `--refresh`: move to the latest revision and keep tracking it.
    pub refresh: bool,
}

/// What `secret-info-get` reports about a secret this unit owns or manages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SecretInfo {
    /// The secret's bare id (the key of Juju's output map).
    #[serde(skip)]
    pub id: String,
    /// The latest revision.
    pub revision: u64,
    /// The owner's label.
    #[serde(default)]
    pub label: Option<String>,
    /// `application` or `unit`.
    #[serde(default)]
    pub owner: Option<String>,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The rotation policy name.
    #[serde(default)]
    pub rotation: Option<String>,
    /// When the latest revision expires (RFC 3339).
    #[serde(default)]
    pub expiry: Option<String>,
    /// When the next rotation is due (RFC 3339).
    #[serde(default)]
    pub rotates: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_follow_jujus_pattern() {
        for good in ["abc", "secret-key", "a1b", "pass-w0rd", "a-b-c"] {
            assert!(is_valid_secret_key(good), "{good} refused");
        }
        for bad in [
            "", "ab", "Abc", "1ab", "a--b", "abc-", "a_bc", "-abc", "a-b",
        ] {
            assert!(!is_valid_secret_key(bad), "{bad} accepted");
        }
    }

    #[test]
    fn content_debug_never_shows_values() {
        let content = SecretContent::new([("password", "hunter2-very-secret")]).unwrap();
        let debug = format!("{content:?}");
        assert!(debug.contains("password"));
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn content_refuses_invalid_keys() {
        let err = SecretContent::new([("Password", "x")]).unwrap_err();
        assert_eq!(err.key, "Password");
    }
}
