//! `indico-peers` (interface `indico-instance`): the application bag the leader shares with
//! every unit. Keys: `secret-id` (the Juju secret holding the secret key), `secret-key` (the
//! key itself, only on Juju versions without secrets), `celery-unit` (the unit running Celery
//! beat), `migrated-version` (the Indico version the database schema was last migrated to).

use std::collections::BTreeSet;

use juju_runtime::{RelationId, SecretUri};
use thiserror::Error;

use super::{Databag, RelationSnapshot};
use crate::sensitive::Sensitive;

/// The peer relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "indico-peers";
/// Key of the secret key's Juju secret URI.
pub const SECRET_ID_KEY: &str = "secret-id";
/// Key of the secret key itself (fallback without Juju secrets).
pub const SECRET_KEY_KEY: &str = "secret-key";
/// Key of the unit that runs Celery beat.
pub const CELERY_UNIT_KEY: &str = "celery-unit";
/// Key of the migration marker.
pub const MIGRATED_VERSION_KEY: &str = "migrated-version";

/// The peer application bag is unusable. Names the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("relation indico-peers: key {key} is not valid: {reason}")]
pub struct PeerError {
    /// The databag key.
    pub key: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

/// What the leader has published for all units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerAppData {
    /// URI of the Juju secret holding the secret key.
    pub secret_id: Option<SecretUri>,
    /// The secret key itself (Juju without secrets).
    pub inline_secret_key: Option<Sensitive<String>>,
    /// The unit that runs Celery beat.
    pub celery_unit: Option<String>,
    /// The Indico version the schema was migrated to.
    pub migrated_version: Option<String>,
}

/// The peer relation as one hook saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peers {
    /// The relation id (`indico-peers:N`), the target of the leader's writes.
    pub relation_id: RelationId,
    /// The shared application bag, parsed.
    pub app: PeerAppData,
    /// The raw application bag, to write only what differs.
    pub raw_app: Databag,
    /// The other units of this application.
    pub other_units: BTreeSet<String>,
}

/// Parses the peer relation (`None` before Juju has created it).
pub fn parse(relation: Option<&RelationSnapshot>) -> Result<Option<Peers>, PeerError> {
    let Some(relation) = relation else {
        return Ok(None);
    };
    // For peers, `app_data` and `local_app_data` are the same bag; gather fills `app_data`.
    let bag = &relation.app_data;
    let get = |key: &str| bag.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let secret_id = get(SECRET_ID_KEY)
        .map(str::parse::<SecretUri>)
        .transpose()
        .map_err(|_| PeerError {
            key: SECRET_ID_KEY,
            reason: "not a secret URI",
        })?;
    let celery_unit = match get(CELERY_UNIT_KEY) {
        // A unit name of Juju's form, or the leader could not tell it from garbage.
        Some(unit) if unit.parse::<juju_runtime::UnitName>().is_err() => {
            return Err(PeerError {
                key: CELERY_UNIT_KEY,
                reason: "not a unit name",
            });
        }
        unit => unit.map(str::to_owned),
    };
    Ok(Some(Peers {
        relation_id: relation.id.clone(),
        app: PeerAppData {
            secret_id,
            inline_secret_key: bag
                .get(SECRET_KEY_KEY)
                .filter(|v| !v.is_empty())
                .map(|v| Sensitive::new(v.clone())),
            celery_unit,
            migrated_version: get(MIGRATED_VERSION_KEY).map(str::to_owned),
        },
        raw_app: bag.clone(),
        other_units: relation.units.keys().cloned().collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(pairs: &[(&str, &str)], units: &[&str]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("indico".into()),
            app_data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            units: units
                .iter()
                .map(|u| ((*u).to_owned(), Databag::new()))
                .collect(),
            ..RelationSnapshot::new(RelationId::new(ENDPOINT, 1))
        }
    }

    #[test]
    fn published_keys_are_read() {
        let rel = relation(
            &[
                (SECRET_ID_KEY, "secret:cs1k2v3b4n5m6l7k8j9h"),
                (CELERY_UNIT_KEY, "indico/1"),
                (MIGRATED_VERSION_KEY, "3.2.9"),
            ],
            &["indico/1", "indico/2"],
        );
        let peers = parse(Some(&rel)).unwrap().unwrap();
        assert_eq!(
            peers.app.secret_id.as_ref().map(SecretUri::as_str),
            Some("secret:cs1k2v3b4n5m6l7k8j9h")
        );
        assert_eq!(peers.app.celery_unit.as_deref(), Some("indico/1"));
        assert_eq!(peers.app.migrated_version.as_deref(), Some("3.2.9"));
        assert_eq!(peers.other_units.len(), 2);
        assert_eq!(peers.relation_id.to_string(), "indico-peers:1");
    }

    #[test]
    fn an_empty_bag_is_valid_and_no_relation_is_none() {
        assert_eq!(parse(None).unwrap(), None);
        let peers = parse(Some(&relation(&[], &[]))).unwrap().unwrap();
        assert_eq!(peers.app, PeerAppData::default());
    }

    #[test]
    fn malformed_values_name_the_key() {
        let err = parse(Some(&relation(&[(SECRET_ID_KEY, "abc")], &[]))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "relation indico-peers: key secret-id is not valid: not a secret URI"
        );
        let err = parse(Some(&relation(&[(CELERY_UNIT_KEY, "indico")], &[]))).unwrap_err();
        assert_eq!(err.key, CELERY_UNIT_KEY);
    }
}
