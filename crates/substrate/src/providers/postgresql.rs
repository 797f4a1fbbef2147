//! The `postgresql` provider, answering the `database` relation (interface
//! `postgresql_client`) as postgresql-k8s does through data_platform_libs
//! `data_interfaces` v0 `DatabaseProvides`:
//!
//! - it acts once the requirer's application bag names a `database`;
//! - it creates role `relation_id_<id>_<model>` with a random password and the database (owned by
//!   that role) on the host's real PostgreSQL, with `pg_trgm` and `unaccent`;
//! - its application bag gets `database`, `endpoints`, `read-only-endpoints`, `version`,
//!   and the credentials group (`username`, `password`, `uris`): in plain keys, or, when
//!   the requirer listed them in `requested-secrets`, in an application-owned Juju secret
//!   labelled `database.<id>.user.secret`, granted to the requirer, whose URI is the
//!   bag's `secret-user` key.
//!
//! The password travels to PostgreSQL through psql's stdin, never argv or logs.
//!
//! Removing a relation drops its role and keeps the database, as postgresql-k8s does;
//! removing the application drops the databases it created.
//!
//! One departure, because every substrate postgresql application shares the host's one
//! server where each Juju postgresql application is a cluster of its own: the application
//! named `postgresql` creates the database under the requested name, any other gets
//! `<requested>_<application>` (e.g. `indico_pg_cli`) and publishes that name in
//! `database`. So two Indico deployments on one substrate never share a database.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::{ProviderError, RemoteApplication};
use crate::engine::SubstrateNetwork;
use crate::host::{HostPostgres, ServiceAddress, random_hex};
use crate::model::{CharmMeta, Grant, Model, Secret, SecretOwner, new_secret_xid};

const METADATA: &str =
    "name: postgresql-k8s\nprovides:\n  database:\n    interface: postgresql_client\n";
/// Provider data key: the databases this application created (comma-separated), dropped
/// when it is removed. Databases that existed before are left alone.
const CREATED_KEY: &str = "created-databases";
/// The fields data_interfaces puts in the `user` secret group.
const USER_GROUP: [&str; 3] = ["username", "password", "uris"];

/// Plays postgresql-k8s applications on the host's PostgreSQL.
#[derive(Debug, Clone, Default)]
pub struct PostgresqlProvider {
    postgres: HostPostgres,
    address: ServiceAddress,
    network: SubstrateNetwork,
}

impl PostgresqlProvider {
    /// The Debian cluster 15/main on the default service address.
    pub fn new() -> Self {
        Self::default()
    }
}

fn request_error(detail: String) -> ProviderError {
    ProviderError::Request {
        provider: "postgresql",
        detail,
    }
}

/// A database name the requirer may ask for: a lower-case SQL identifier.
/// The real database that provider application `app` creates for a requested `database`
/// (see the module docs).
fn physical_database(app: &str, database: &str) -> String {
    if app == "postgresql" {
        database.to_owned()
    } else {
        format!("{database}_{}", app.replace('-', "_"))
    }
}

fn valid_database(name: &str) -> bool {
    name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The relation's role: postgresql-k8s's `relation_id_<id>`, plus the model's short id,
/// because every model of this machine shares the host's cluster.
fn role_name(model: &Model, relation: u64) -> String {
    let short: String = model
        .uuid
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(8)
        .collect();
    format!("relation_id_{relation}_{short}")
}

/// What the provider answers: plain keys, plus the credential group (in the bag or in
/// a secret).
pub(crate) fn answer(
    database: &str,
    user: &str,
    password: &str,
    host: &str,
    port: u16,
    version: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let endpoint = format!("{host}:{port}");
    let plain = BTreeMap::from([
        ("database".to_owned(), database.to_owned()),
        ("endpoints".to_owned(), endpoint.clone()),
        ("read-only-endpoints".to_owned(), endpoint.clone()),
        ("version".to_owned(), version.to_owned()),
    ]);
    let credentials = BTreeMap::from([
        ("username".to_owned(), user.to_owned()),
        ("password".to_owned(), password.to_owned()),
        (
            "uris".to_owned(),
            format!("postgresql://{user}:{password}@{endpoint}/{database}"),
        ),
    ]);
    (plain, credentials)
}

impl RemoteApplication for PostgresqlProvider {
    fn kind(&self) -> &'static str {
        "postgresql"
    }

    fn charm(&self) -> CharmMeta {
        // A constant that parses: an invariant checked by the tests.
        CharmMeta::parse(METADATA, None, None).expect("the postgresql provider metadata parses")
    }

    fn start(&self, _: &mut Model, _: &str) -> Result<(), ProviderError> {
        self.address.ensure()?;
        self.postgres
            .ensure_serving(self.address.address, &self.network.cidr())?;
        Ok(())
    }

    fn serve(&self, model: &mut Model, relation: u64, app: &str) -> Result<bool, ProviderError> {
        let Some(rel) = model.relations.get(&relation) else {
            return Ok(false);
        };
        let Some(requirer) = rel.remote_app(app).map(str::to_owned) else {
            return Ok(false);
        };
        let request = rel.app_bags.get(&requirer).cloned().unwrap_or_default();
        let Some(requested) = request.get("database").cloned() else {
            return Ok(false); // nothing asked yet
        };
        if !valid_database(&requested) {
            return Err(request_error(format!(
                "database name {requested:?} is not a lower-case SQL identifier"
            )));
        }
        let database = physical_database(app, &requested);
        let mine = rel.app_bags.get(app).cloned().unwrap_or_default();
        if mine.get("database") == Some(&database) {
            return Ok(false); // already served
        }
        if !valid_database(&database) {
            return Err(request_error(format!(
                "database name {database:?} (for {app}) is not a lower-case SQL identifier of at most 63 bytes"
            )));
        }
        let requested: Vec<String> = match request.get("requested-secrets") {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| request_error(format!("requested-secrets is not a JSON list: {e}")))?,
            None => Vec::new(),
        };
        let user = role_name(model, relation);
        let password = random_hex(16)?;
        let sql_password = password.replace('\'', "''");
        self.postgres.psql(
            "postgres",
            &format!(
                "DO $$ BEGIN\n  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN\n    CREATE ROLE {user} LOGIN;\n  END IF;\nEND $$;\nALTER ROLE {user} WITH LOGIN PASSWORD '{sql_password}';\n"
            ),
        )?;
        let exists = self.postgres.psql(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{database}';"),
        )?;
        if exists == "1" {
            self.postgres.psql(
                "postgres",
                &format!("ALTER DATABASE {database} OWNER TO {user};"),
            )?;
        } else {
            self.postgres.psql(
                "postgres",
                &format!("CREATE DATABASE {database} OWNER {user};"),
            )?;
            if let Some(a) = model.applications.get_mut(app) {
                let created = a.provider_data.entry(CREATED_KEY.to_owned()).or_default();
                if !created.is_empty() {
                    created.push(',');
                }
                created.push_str(&database);
            }
        }
        self.postgres.psql(
            &database,
            &format!(
                "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE EXTENSION IF NOT EXISTS unaccent;\nALTER SCHEMA public OWNER TO {user};\n"
            ),
        )?;
        let version = self.postgres.psql("postgres", "SHOW server_version;")?;
        let version = version.split_whitespace().next().unwrap_or("").to_owned();
        let (mut bag, credentials) = answer(
            &database,
            &user,
            &password,
            &self.address.address.to_string(),
            self.postgres.port,
            &version,
        );
        let in_secret: BTreeMap<String, String> = credentials
            .iter()
            .filter(|(k, _)| requested.iter().any(|r| r == *k) && USER_GROUP.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, value) in &credentials {
            if !in_secret.contains_key(key) {
                bag.insert(key.clone(), value.clone());
            }
        }
        if !in_secret.is_empty() {
            let endpoint = model
                .relations
                .get(&relation)
                .and_then(|r| r.end_of(app))
                .map(|e| e.endpoint.clone())
                .unwrap_or_else(|| "database".to_owned());
            let xid = new_secret_xid();
            let secret = Secret {
                xid: xid.clone(),
                owner: SecretOwner::Application(app.to_owned()),
                label: Some(format!("{endpoint}.{relation}.user.secret")),
                description: None,
                rotate: None,
                expire: None,
                revisions: BTreeMap::from([(
                    1,
                    in_secret
                        .iter()
                        .map(|(k, v)| (k.clone(), STANDARD.encode(v)))
                        .collect(),
                )]),
                grants: vec![Grant {
                    target: requirer.clone(),
                    relation_id: relation,
                }],
                consumers: BTreeMap::new(),
            };
            bag.insert("secret-user".into(), model.secret_uri(&xid));
            model.secrets.insert(xid, secret);
        }
        if let Some(rel) = model.relations.get_mut(&relation) {
            rel.app_bags.insert(app.to_owned(), bag);
        }
        Ok(true)
    }

    fn relation_removed(
        &self,
        model: &mut Model,
        relation: u64,
        app: &str,
    ) -> Result<(), ProviderError> {
        let user = role_name(model, relation);
        let database = model
            .relations
            .get(&relation)
            .and_then(|r| r.app_bags.get(app))
            .and_then(|b| b.get("database"))
            .cloned();
        if let Some(database) = database.filter(|d| valid_database(d)) {
            self.postgres.psql(
                &database,
                &format!("DO $$ BEGIN\n  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN\n    REASSIGN OWNED BY {user} TO postgres;\n    DROP OWNED BY {user};\n  END IF;\nEND $$;\n"),
            )?;
        }
        self.postgres
            .psql("postgres", &format!("DROP ROLE IF EXISTS {user};"))?;
        let label_suffix = format!(".{relation}.user.secret");
        model.secrets.retain(|_, s| {
            !(matches!(&s.owner, SecretOwner::Application(a) if a == app)
                && s.label
                    .as_deref()
                    .is_some_and(|l| l.ends_with(&label_suffix)))
        });
        Ok(())
    }

    fn stop(&self, model: &mut Model, app: &str) -> Result<(), ProviderError> {
        // The databases this application created go with it; the host's cluster is shared
        // host setup (see `crate::host`) and keeps running.
        let created = model
            .applications
            .get(app)
            .and_then(|a| a.provider_data.get(CREATED_KEY))
            .cloned()
            .unwrap_or_default();
        for database in created.split(',').filter(|d| valid_database(d)) {
            self.postgres.psql(
                "postgres",
                &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE);"),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_application_named_postgresql_keeps_the_requested_name() {
        assert_eq!(physical_database("postgresql", "indico"), "indico");
        assert_eq!(physical_database("pg-cli", "indico"), "indico_pg_cli");
        assert!(valid_database(&physical_database("pg-cli", "indico")));
    }

    #[test]
    fn the_answer_has_data_interfaces_keys() {
        let (plain, creds) = answer("indico", "relation_3", "pw", "10.210.1.1", 5432, "15.14");
        assert_eq!(plain["endpoints"], "10.210.1.1:5432");
        assert_eq!(plain["read-only-endpoints"], "10.210.1.1:5432");
        assert_eq!(
            creds["uris"],
            "postgresql://relation_3:pw@10.210.1.1:5432/indico"
        );
        assert!(valid_database("indico") && !valid_database("Indico; drop"));
        PostgresqlProvider::new().charm();
    }
}
