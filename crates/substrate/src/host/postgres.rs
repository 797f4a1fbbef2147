//! The host's PostgreSQL (Debian cluster, default 15/main) opened to the pods: listening
//! on the service address, password logins from the pod subnet, databases with the
//! extensions Indico needs.
//!
//! Changes to the cluster are small and marked: a `conf.d/indico-substrate.conf` drop-in
//! (`listen_addresses`) and one marked `host` line appended to `pg_hba.conf`.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use super::error::run;
use super::{HostError, HostLock};

const HBA_MARKER: &str = "# indico-substrate: pods may log in with a password";

/// A Debian PostgreSQL cluster on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPostgres {
    /// Major version, e.g. `15`.
    pub version: String,
    /// Cluster name, e.g. `main`.
    pub cluster: String,
    /// Port the cluster listens on.
    pub port: u16,
}

/// A database for Indico, with its owner's credentials. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresDatabase {
    /// Database name (also the owner role's name).
    pub name: String,
    /// The owner role's password.
    pub password: String,
}

impl std::fmt::Debug for PostgresDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDatabase")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Default for HostPostgres {
    fn default() -> Self {
        Self {
            version: "15".into(),
            cluster: "main".into(),
            port: 5432,
        }
    }
}

impl HostPostgres {
    fn config_dir(&self) -> PathBuf {
        PathBuf::from("/etc/postgresql")
            .join(&self.version)
            .join(&self.cluster)
    }

    /// Makes the cluster listen on localhost and `address`, admit password logins from
    /// `pod_cidr`, and run. Restarts it only when the configuration changed.
    /// Holds the host lock throughout, so concurrent callers never start it twice.
    pub fn ensure_serving(&self, address: Ipv4Addr, pod_cidr: &str) -> Result<(), HostError> {
        let _lock = HostLock::acquire()?;
        let dir = self.config_dir();
        if !dir.is_dir() {
            return Err(HostError::Invalid {
                what: "PostgreSQL cluster",
                detail: format!("{} does not exist (install postgresql)", dir.display()),
            });
        }
        let drop_in = dir.join("conf.d").join("indico-substrate.conf");
        let wanted =
            format!("# Written by indico-substrate.\nlisten_addresses = 'localhost,{address}'\n");
        let mut changed = write_if_changed(&drop_in, &wanted)?;

        let hba = dir.join("pg_hba.conf");
        let text =
            std::fs::read_to_string(&hba).map_err(|source| HostError::io("read", &hba, source))?;
        let rule = format!("host all all {pod_cidr} scram-sha-256");
        if !text.lines().any(|line| line == rule) {
            let mut new_text = text;
            if !new_text.ends_with('\n') {
                new_text.push('\n');
            }
            new_text.push_str(&format!("{HBA_MARKER}\n{rule}\n"));
            std::fs::write(&hba, new_text)
                .map_err(|source| HostError::io("write", &hba, source))?;
            changed = true;
        }

        let action = match (self.is_running()?, changed) {
            (true, false) => return Ok(()),
            (true, true) => "restart",
            (false, _) => {
                self.remove_empty_pid_file()?;
                "start"
            }
        };
        run(
            crate::daemon_fds::close_inherited_fds(Command::new("pg_ctlcluster").args([
                self.version.as_str(),
                self.cluster.as_str(),
                action,
            ])),
            &format!("pg_ctlcluster {} {} {action}", self.version, self.cluster),
            None,
        )?;
        Ok(())
    }

    /// A server killed while starting can leave an empty `postmaster.pid`, which makes every
    /// later start fail ("lock file is empty"). Called under the host lock with the cluster
    /// stopped, so no server of ours is starting: the empty file is a remnant.
    fn remove_empty_pid_file(&self) -> Result<(), HostError> {
        let pid_file = PathBuf::from("/var/lib/postgresql")
            .join(&self.version)
            .join(&self.cluster)
            .join("postmaster.pid");
        match std::fs::metadata(&pid_file) {
            Ok(meta) if meta.len() == 0 => {
                tracing::warn!(path = %pid_file.display(), "removing an empty postmaster.pid left by a crash");
                std::fs::remove_file(&pid_file)
                    .map_err(|source| HostError::io("remove", &pid_file, source))
            }
            _ => Ok(()),
        }
    }

    fn is_running(&self) -> Result<bool, HostError> {
        let status = Command::new("pg_ctlcluster")
            .args([self.version.as_str(), self.cluster.as_str(), "status"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|source| HostError::Spawn {
                program: "pg_ctlcluster".into(),
                source,
            })?;
        Ok(status.success())
    }

    /// Runs SQL as the `postgres` superuser; the SQL goes through stdin (it may hold a
    /// password). Returns psql's unaligned, tuples-only output.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, HostError> {
        validate_identifier(database)?;
        let port = self.port.to_string();
        let out = run(
            Command::new("runuser").args([
                "-u",
                "postgres",
                "--",
                "psql",
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-p",
                &port,
                "-d",
                database,
            ]),
            &format!("psql -d {database} (as postgres)"),
            Some(sql.as_bytes()),
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Creates (or resets the password of) role `db.name` and database `db.name` owned by
    /// it, with the `pg_trgm` and `unaccent` extensions Indico requires.
    pub fn create_database(&self, db: &PostgresDatabase) -> Result<(), HostError> {
        validate_identifier(&db.name)?;
        let name = &db.name;
        let password = sql_literal(&db.password);
        self.psql(
            "postgres",
            &format!(
                "DO $$ BEGIN\n  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN\n    CREATE ROLE {name} LOGIN;\n  END IF;\nEND $$;\nALTER ROLE {name} WITH LOGIN PASSWORD {password};\n"
            ),
        )?;
        let exists = self.psql(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}';"),
        )?;
        if exists != "1" {
            self.psql("postgres", &format!("CREATE DATABASE {name} OWNER {name};"))?;
        }
        self.psql(
            name,
            "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE EXTENSION IF NOT EXISTS unaccent;\n",
        )?;
        Ok(())
    }

    /// Drops the database and its role (sessions are terminated).
    pub fn drop_database(&self, name: &str) -> Result<(), HostError> {
        validate_identifier(name)?;
        self.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE);\nDROP ROLE IF EXISTS {name};\n"),
        )?;
        Ok(())
    }
}

/// Lower-case SQL identifiers only, so they never need quoting.
fn validate_identifier(name: &str) -> Result<(), HostError> {
    let ok = name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(HostError::Invalid {
            what: "PostgreSQL identifier",
            detail: format!(
                "{name:?}: use at most 63 lower-case letters, digits and underscores, not starting with a digit"
            ),
        })
    }
}

/// A standard SQL string literal.
fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn write_if_changed(path: &std::path::Path, content: &str) -> Result<bool, HostError> {
    match std::fs::read_to_string(path) {
        Ok(existing) if existing == content => return Ok(false),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(HostError::io("read", path, source)),
    }
    std::fs::write(path, content).map_err(|source| HostError::io("write", path, source))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        validate_identifier("indico_test1").unwrap();
        for bad in ["Indico", "1abc", "a-b", "a;drop", ""] {
            assert!(validate_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let db = PostgresDatabase {
            name: "n".into(),
            password: "s3cret".into(),
        };
        assert!(!format!("{db:?}").contains("s3cret"));
    }

    #[test]
    fn literals_escape_quotes() {
        assert_eq!(sql_literal("it's"), "'it''s'");
    }
}
