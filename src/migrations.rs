//! Database migrations, once per schema change and never from two units at once: the leader
//! runs a small script in the `indico` container (advisory lock, `indico db prepare` on an
//! empty database, else `db upgrade` and `db --all-plugins upgrade`) and then records the
//! image's Indico version as the migration marker in peer app data. Every unit starts its
//! `indico` and `indico-celery` services only when the marker equals its own image's version.

use std::collections::BTreeMap;
use std::time::Duration;

use pebble_client::{Error as PebbleError, ExecRequest, Pebble};
use thiserror::Error;

use crate::state::State;

/// The migration script, sent to the container's Python on stdin (nothing is left on disk).
pub const SCRIPT: &str = include_str!("migrations/migrate.py");
/// The script's exit code when `pg_trgm`/`unaccent` are missing and cannot be created.
pub const EXIT_MISSING_EXTENSIONS: i32 = 3;
/// Upper bound of one run (`db prepare` takes ~10 s; big upgrades take minutes).
pub const TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The Blocked message when the extensions are missing.
pub const MISSING_EXTENSIONS_MESSAGE: &str =
    "Database lacks the pg_trgm and unaccent extensions: enable them on the database provider";

/// What this unit should do about migrations in this hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MigrationDecision {
    /// Something Indico needs is missing (database, secret key, image version...): not yet.
    NotReady,
    /// The schema matches this unit's image.
    UpToDate,
    /// The leader must migrate the schema to this version now.
    Run {
        /// The image's Indico version, recorded as the marker on success.
        version: String,
    },
    /// Another unit (the leader) has to migrate first.
    WaitForLeader,
}

/// Decides from the state alone. `indico_environment_ready` says whether the Indico
/// environment (database, both Redis, secret key, valid config) can be built.
pub fn decide(state: &State, indico_environment_ready: bool) -> MigrationDecision {
    let Some(image_version) = state.migration.image_version.as_deref() else {
        return MigrationDecision::NotReady;
    };
    if state.migration.migrated_version.as_deref() == Some(image_version) {
        return MigrationDecision::UpToDate;
    }
    if !state.leader {
        return MigrationDecision::WaitForLeader;
    }
    if !indico_environment_ready || state.peers().is_none() {
        return MigrationDecision::NotReady;
    }
    MigrationDecision::Run {
        version: image_version.to_owned(),
    }
}

/// How a migration run ended, when it did not succeed.
#[derive(Debug, Error)]
pub enum MigrationError {
    /// `pg_trgm`/`unaccent` are missing (a Blocked status, not a hook failure).
    #[error("{MISSING_EXTENSIONS_MESSAGE}")]
    MissingExtensions,
    /// The script failed; Juju retries the hook.
    #[error("database migration failed (exit code {exit_code}): {stderr_tail}")]
    Failed {
        /// The script's exit code.
        exit_code: i32,
        /// The end of its stderr (Indico and psycopg2 messages; no secrets are printed).
        stderr_tail: String,
    },
    /// Pebble could not run it.
    #[error("cannot run the database migration: {0}")]
    Pebble(PebbleError),
}

/// The last `n` lines of `text`, joined with ` | ` (one status-friendly line).
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// Runs the migration script in the `indico` container with Indico's environment.
pub async fn run(
    pebble: &impl Pebble,
    environment: BTreeMap<String, String>,
) -> Result<(), MigrationError> {
    let request = ExecRequest {
        command: vec!["/srv/indico/.venv/bin/python3".into(), "-".into()],
        environment,
        working_dir: Some("/srv/indico".into()),
        user: Some("indico".into()),
        group: Some("indico".into()),
        timeout: Some(TIMEOUT),
        stdin: Some(SCRIPT.as_bytes().to_vec()),
        ..ExecRequest::default()
    };
    match pebble.exec(&request).await {
        Ok(output) => {
            tracing::info!(
                "database migration done: {}",
                String::from_utf8_lossy(&output.stdout).trim()
            );
            Ok(())
        }
        Err(PebbleError::Exec(e)) if e.exit_code == EXIT_MISSING_EXTENSIONS => {
            Err(MigrationError::MissingExtensions)
        }
        Err(PebbleError::Exec(e)) => Err(MigrationError::Failed {
            exit_code: e.exit_code,
            stderr_tail: last_lines(&e.stderr_text(), 5),
        }),
        Err(other) => Err(MigrationError::Pebble(other)),
    }
}

#[cfg(test)]
mod tests;
