//! The validated names and identifiers Juju hands a charm: unit names, relation ids,
//! secret URIs. Each parses from Juju's text form and displays back to it exactly.

use std::fmt;
use std::str::FromStr;

/// Why a name or id does not have Juju's form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {value:?} is not valid: {reason}")]
pub struct InvalidName {
    /// What was being parsed, e.g. `unit name`.
    pub kind: &'static str,
    /// The text that was refused.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn invalid(kind: &'static str, value: &str, reason: &'static str) -> InvalidName {
    InvalidName {
        kind,
        value: value.to_owned(),
        reason,
    }
}

/// Whether `name` is a valid Juju application name: lower-case letters, digits and
/// single hyphens, starting with a letter, no hyphen at the end, and no hyphen
/// followed by only digits (juju/names `ApplicationSnippet`).
pub fn is_valid_application_name(name: &str) -> bool {
    let mut parts = name.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let starts_with_letter = first.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    starts_with_letter
        && first
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && parts.all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && !part.chars().all(|c| c.is_ascii_digit())
        })
}

/// A unit name, `<application>/<number>`, e.g. `indico/0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitName {
    app: String,
    number: u32,
}

impl UnitName {
    /// The unit's application, e.g. `indico` for `indico/0`.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The unit's number, e.g. `0` for `indico/0`.
    pub fn number(&self) -> u32 {
        self.number
    }
}

impl FromStr for UnitName {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const KIND: &str = "unit name";
        let (app, number) = s
            .split_once('/')
            .ok_or_else(|| invalid(KIND, s, "expected <application>/<number>"))?;
        if !is_valid_application_name(app) {
            return Err(invalid(KIND, s, "invalid application name"));
        }
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(KIND, s, "the unit number is not a number"));
        }
        let number = number
            .parse()
            .map_err(|_| invalid(KIND, s, "the unit number is too large"))?;
        Ok(Self {
            app: app.to_owned(),
            number,
        })
    }
}

impl fmt::Display for UnitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.app, self.number)
    }
}

/// A relation id as Juju writes it: `<endpoint>:<id>`, e.g. `database:3`.
///
/// This is the form of `JUJU_RELATION_ID` and of `relation-ids` output, and the form
/// this crate passes to `-r`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelationId {
    /// The endpoint (relation name in metadata.yaml), e.g. `database`.
    pub endpoint: String,
    /// Juju's integer id of the relation.
    pub id: u64,
}

impl RelationId {
    /// A relation id from its parts.
    pub fn new(endpoint: impl Into<String>, id: u64) -> Self {
        Self {
            endpoint: endpoint.into(),
            id,
        }
    }
}

impl FromStr for RelationId {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const KIND: &str = "relation id";
        let (endpoint, id) = s
            .rsplit_once(':')
            .ok_or_else(|| invalid(KIND, s, "expected <endpoint>:<id>"))?;
        if endpoint.is_empty() {
            return Err(invalid(KIND, s, "the endpoint is empty"));
        }
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(KIND, s, "the id after ':' is not a number"));
        }
        let id = id
            .parse()
            .map_err(|_| invalid(KIND, s, "the id is too large"))?;
        Ok(Self::new(endpoint, id))
    }
}

impl fmt::Display for RelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.endpoint, self.id)
    }
}

/// A secret URI: `secret:<xid>` or `secret://<model-uuid>/<xid>` (Juju accepts both).
///
/// The URI names a secret; it is not secret itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretUri(String);

impl SecretUri {
    /// The URI as Juju wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The secret's bare id (xid): the part after the last `/` or after `secret:`.
    /// `secret-ids` and `secret-info-get` key their output by it.
    pub fn xid(&self) -> &str {
        let rest = self.0.strip_prefix("secret:").unwrap_or(&self.0);
        rest.rsplit('/').next().unwrap_or(rest)
    }
}

impl FromStr for SecretUri {
    type Err = InvalidName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const KIND: &str = "secret URI";
        let rest = s
            .strip_prefix("secret:")
            .ok_or_else(|| invalid(KIND, s, "expected secret:<id> or secret://<model>/<id>"))?;
        let xid = match rest.strip_prefix("//") {
            Some(path) => {
                let (model, xid) = path
                    .split_once('/')
                    .ok_or_else(|| invalid(KIND, s, "expected secret://<model>/<id>"))?;
                if model.is_empty() {
                    return Err(invalid(KIND, s, "the model uuid is empty"));
                }
                xid
            }
            None => rest,
        };
        if xid.is_empty()
            || !xid
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(invalid(
                KIND,
                s,
                "the secret id must be lower-case letters and digits",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for SecretUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_name_round_trips_and_splits() {
        let unit: UnitName = "indico-k8s/12".parse().unwrap();
        assert_eq!(unit.app(), "indico-k8s");
        assert_eq!(unit.number(), 12);
        assert_eq!(unit.to_string(), "indico-k8s/12");
    }

    #[test]
    fn unit_name_refuses_bad_forms() {
        for bad in [
            "indico",
            "indico/",
            "/0",
            "Indico/0",
            "indico/x",
            "a-1/0",
            "a-/0",
            "indico/0/1",
        ] {
            assert!(bad.parse::<UnitName>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn relation_id_round_trips() {
        let id: RelationId = "redis-broker:10".parse().unwrap();
        assert_eq!(id, RelationId::new("redis-broker", 10));
        assert_eq!(id.to_string(), "redis-broker:10");
    }

    #[test]
    fn relation_id_refuses_bad_forms() {
        for bad in [
            "database",
            "database:",
            ":3",
            "database:x",
            "database:-1",
            "3",
        ] {
            assert!(bad.parse::<RelationId>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn secret_uri_accepts_both_forms_and_finds_the_xid() {
        let old: SecretUri = "secret:cs3v8rnmp25c7b2ji5e0".parse().unwrap();
        assert_eq!(old.xid(), "cs3v8rnmp25c7b2ji5e0");
        let new: SecretUri = "secret://6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42/cs3v8rnmp25c7b2ji5e0"
            .parse()
            .unwrap();
        assert_eq!(new.xid(), "cs3v8rnmp25c7b2ji5e0");
        assert_eq!(new.to_string(), new.as_str());
    }

    #[test]
    fn secret_uri_refuses_bad_forms() {
        for bad in [
            "",
            "cs3v8rnmp25c7b2ji5e0",
            "secret:",
            "secret://model",
            "secret:///x",
            "secret:ABC",
        ] {
            assert!(bad.parse::<SecretUri>().is_err(), "{bad} accepted");
        }
    }
}
