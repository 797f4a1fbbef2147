//! `database` (interface `postgresql_client`, provider e.g. postgresql-k8s through
//! data_platform_libs `data_interfaces`): the request this charm writes and the connection the
//! provider answers with.
//!
//! Provider application bag: `endpoints` (comma list of `host:port`, the first is the primary),
//! `database`, and either `username`/`password` or, from providers that support secrets,
//! `secret-user` naming a Juju secret with the keys `username` and `password`.
//!
//! Roles: this charm asks for no `extra-user-roles`. Indico only needs to own its tables, which
//! the provider's plain database user may. The `pg_trgm` and `unaccent` extensions that Indico
//! requires are enabled on the provider (postgresql-k8s: `juju config postgresql-k8s
//! plugin_pg_trgm_enable=true plugin_unaccent_enable=true`); both are *trusted* extensions from
//! PostgreSQL 13 on, so a user with CREATE on the database can also create them, which the
//! migration step tries before it reports them missing. Asking for SUPERUSER, as the Python
//! charm did, would hand the workload the whole PostgreSQL cluster.

use juju_runtime::SecretUri;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use thiserror::Error;

use super::{Availability, Databag, RelationSnapshot, split_host_port, uri_host};
use crate::sensitive::Sensitive;

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "database";
/// The database this charm asks for.
pub const DATABASE_NAME: &str = "indico";
/// The credentials this charm asks the provider to share through a Juju secret.
pub const REQUESTED_SECRETS: &[&str] = &["username", "password"];

/// The provider's answer is unusable. Names the relation and the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DatabaseError {
    /// A key of the provider's application bag is malformed.
    #[error("relation database: key {key} is not valid: {reason}")]
    InvalidKey {
        /// The databag key.
        key: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The credentials secret named by `secret-user` lacks a key.
    #[error("relation database: the secret named by secret-user has no {field}")]
    SecretFieldMissing {
        /// The missing secret content key.
        field: &'static str,
    },
}

/// The application bag this charm writes on the relation (leader only).
pub fn request() -> Databag {
    let requested: Vec<&str> = REQUESTED_SECRETS.to_vec();
    Databag::from([
        ("database".to_owned(), DATABASE_NAME.to_owned()),
        (
            "requested-secrets".to_owned(),
            // A Vec<&str> always serialises.
            serde_json::to_string(&requested).unwrap_or_else(|_| "[]".to_owned()),
        ),
    ])
}

/// Where the credentials are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// In the databag (providers without secret support).
    Inline {
        /// Database user.
        username: String,
        /// Its password.
        password: Sensitive<String>,
    },
    /// In the Juju secret with this URI (`secret-user`); gather reads it with secret-get.
    InSecret(SecretUri),
}

/// What the provider's application bag offers, before the credentials secret is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseOffer {
    /// Primary host.
    pub host: String,
    /// Primary port.
    pub port: u16,
    /// Database name.
    pub database: String,
    /// The credentials or where to find them.
    pub credentials: Credentials,
}

/// A usable PostgreSQL connection for Indico.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseConnection {
    /// Primary host.
    pub host: String,
    /// Primary port.
    pub port: u16,
    /// Database name.
    pub database: String,
    /// Database user.
    pub username: String,
    /// Its password.
    pub password: Sensitive<String>,
}

/// Characters left as they are in a URI userinfo; everything else is percent-encoded.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl DatabaseConnection {
    /// Joins an offer with credentials read from the `secret-user` secret (or the inline ones).
    pub fn new(offer: &DatabaseOffer, username: String, password: Sensitive<String>) -> Self {
        Self {
            host: offer.host.clone(),
            port: offer.port,
            database: offer.database.clone(),
            username,
            password,
        }
    }

    /// The SQLAlchemy URI (`postgresql://user:password@host:port/database`), user and password
    /// percent-encoded.
    pub fn uri(&self) -> Sensitive<String> {
        Sensitive::new(format!(
            "postgresql://{}:{}@{}:{}/{}",
            utf8_percent_encode(&self.username, USERINFO),
            utf8_percent_encode(self.password.expose(), USERINFO),
            uri_host(&self.host),
            self.port,
            utf8_percent_encode(&self.database, USERINFO),
        ))
    }
}

/// Reads the provider's application bag. Missing keys mean the provider has not answered yet.
pub fn parse(
    relation: Option<&RelationSnapshot>,
) -> Result<Availability<DatabaseOffer>, DatabaseError> {
    let Some(relation) = relation else {
        return Ok(Availability::NotRelated);
    };
    let bag = &relation.app_data;
    let get = |key: &str| bag.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let (Some(endpoints), Some(database)) = (get("endpoints"), get("database")) else {
        return Ok(Availability::Pending);
    };
    let primary = endpoints.split(',').next().unwrap_or_default();
    let (host, port) = split_host_port(primary).ok_or(DatabaseError::InvalidKey {
        key: "endpoints",
        reason: "the first entry is not host:port",
    })?;
    let credentials = if let Some(uri) = get("secret-user") {
        let uri = uri.parse().map_err(|_| DatabaseError::InvalidKey {
            key: "secret-user",
            reason: "not a secret URI",
        })?;
        Credentials::InSecret(uri)
    } else {
        match (
            get("username"),
            bag.get("password").filter(|p| !p.is_empty()),
        ) {
            (Some(username), Some(password)) => Credentials::Inline {
                username: username.to_owned(),
                password: Sensitive::new(password.clone()),
            },
            _ => return Ok(Availability::Pending),
        }
    };
    Ok(Availability::Ready(DatabaseOffer {
        host,
        port,
        database: database.to_owned(),
        credentials,
    }))
}

/// Takes `username` and `password` out of the content of the `secret-user` secret.
pub fn credentials_from_secret(
    content: &Databag,
) -> Result<(String, Sensitive<String>), DatabaseError> {
    let username = content
        .get("username")
        .filter(|u| !u.trim().is_empty())
        .ok_or(DatabaseError::SecretFieldMissing { field: "username" })?;
    let password = content
        .get("password")
        .filter(|p| !p.is_empty())
        .ok_or(DatabaseError::SecretFieldMissing { field: "password" })?;
    Ok((username.trim().to_owned(), Sensitive::new(password.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use juju_runtime::RelationId;

    fn relation(pairs: &[(&str, &str)]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("postgresql-k8s".into()),
            app_data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..RelationSnapshot::new(RelationId::new(ENDPOINT, 3))
        }
    }

    #[test]
    fn request_asks_for_indico_and_secret_credentials_only() {
        let bag = request();
        assert_eq!(bag["database"], "indico");
        assert_eq!(bag["requested-secrets"], r#"["username","password"]"#);
        assert!(!bag.contains_key("extra-user-roles"));
    }

    #[test]
    fn postgresql_k8s_inline_answer_gives_the_primary_and_an_encoded_uri() {
        // Shaped as postgresql-k8s 14 writes it without secrets.
        let rel = relation(&[
            ("database", "indico"),
            (
                "endpoints",
                "postgresql-k8s-primary.model.svc.cluster.local:5432,replica:5432",
            ),
            (
                "read-only-endpoints",
                "postgresql-k8s-replicas.model.svc.cluster.local:5432",
            ),
            ("username", "relation_id_3"),
            ("password", "p@ss:w/rd%?#"),
            ("version", "14.11"),
        ]);
        let Availability::Ready(offer) = parse(Some(&rel)).unwrap() else {
            panic!("expected a ready offer")
        };
        assert_eq!(offer.host, "postgresql-k8s-primary.model.svc.cluster.local");
        assert_eq!(offer.port, 5432);
        let Credentials::Inline { username, password } = offer.credentials.clone() else {
            panic!("expected inline credentials")
        };
        let conn = DatabaseConnection::new(&offer, username, password);
        assert_eq!(
            conn.uri().expose(),
            "postgresql://relation_id_3:p%40ss%3Aw%2Frd%25%3F%23@postgresql-k8s-primary.model.svc.cluster.local:5432/indico"
        );
        assert!(!format!("{conn:?}").contains("p@ss"));
    }

    #[test]
    fn secret_user_is_preferred_and_read_from_the_secret() {
        let rel = relation(&[
            ("database", "indico"),
            ("endpoints", "10.1.2.3:5432"),
            ("secret-user", "secret://f00/cs1k2v3b4n5m6l7k8j9h"),
        ]);
        let Availability::Ready(offer) = parse(Some(&rel)).unwrap() else {
            panic!("expected a ready offer")
        };
        assert_eq!(
            offer.credentials,
            Credentials::InSecret("secret://f00/cs1k2v3b4n5m6l7k8j9h".parse().unwrap())
        );
        let content = Databag::from([
            ("username".into(), "relation-3".into()),
            ("password".into(), "s3cr3t".into()),
        ]);
        let (user, password) = credentials_from_secret(&content).unwrap();
        assert_eq!(user, "relation-3");
        assert_eq!(password.expose(), "s3cr3t");
        let err = credentials_from_secret(&Databag::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "relation database: the secret named by secret-user has no username"
        );
    }

    #[test]
    fn no_relation_and_partial_answers_are_not_errors() {
        assert_eq!(parse(None).unwrap(), Availability::NotRelated);
        assert_eq!(parse(Some(&relation(&[]))).unwrap(), Availability::Pending);
        let only_endpoints = relation(&[
            ("database", "indico"),
            ("endpoints", "h:5432"),
            ("username", "u"),
        ]);
        assert_eq!(parse(Some(&only_endpoints)).unwrap(), Availability::Pending);
    }

    #[test]
    fn malformed_keys_name_the_relation_and_key() {
        let rel = relation(&[
            ("database", "indico"),
            ("endpoints", "nohostport"),
            ("username", "u"),
            ("password", "secretvalue"),
        ]);
        let err = parse(Some(&rel)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "relation database: key endpoints is not valid: the first entry is not host:port"
        );
        let rel = relation(&[
            ("database", "indico"),
            ("endpoints", "h:1"),
            ("secret-user", "xyz"),
        ]);
        assert_eq!(
            parse(Some(&rel)).unwrap_err(),
            DatabaseError::InvalidKey {
                key: "secret-user",
                reason: "not a secret URI"
            }
        );
    }
}
