//! The migration script against a real PostgreSQL (a private cluster) with a stand-in `indico`
//! command that records its arguments: prepare vs upgrade by the `alembic_version` table, the
//! extensions, the exit code when they cannot be created, and the advisory lock.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::*;
use crate::interfaces::database::DatabaseConnection;
use crate::postgres_cluster::PostgresCluster;
use crate::sensitive::Sensitive;

const PASSWORD: &str = "p@ss:w/rd%";

/// A directory with a fake `indico` that appends `start <args>` and `end <args>` to a log,
/// sleeping `delay` seconds in between.
fn fake_indico(dir: &Path, delay: &str) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("indico");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"start $*\" >> {log}\nsleep {delay}\necho \"end $*\" >> {log}\n",
            log = dir.join("calls.log").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn uri(cluster: &PostgresCluster, user: &str, database: &str) -> String {
    DatabaseConnection {
        host: "127.0.0.1".into(),
        port: cluster.port,
        database: database.into(),
        username: user.into(),
        password: Sensitive::new(PASSWORD.into()),
    }
    .uri()
    .expose()
    .clone()
}

/// Starts the script the way the charm does: Python reading it from stdin.
fn spawn(bin: &Path, uri: &str) -> std::process::Child {
    let mut child = Command::new("/usr/bin/python3")
        .arg("-")
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("INDICO_SQLALCHEMY_DATABASE_URI", uri)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SCRIPT.as_bytes())
        .unwrap();
    child
}

fn finish(child: std::process::Child) -> i32 {
    let output = child.wait_with_output().unwrap();
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    }
    output.status.code().unwrap_or(-1)
}

fn calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn setup() -> (PostgresCluster, tempfile::TempDir) {
    let cluster = PostgresCluster::start();
    cluster.sql(
        "postgres",
        &format!("CREATE ROLE relation_3 LOGIN PASSWORD '{PASSWORD}'"),
    );
    cluster.sql("postgres", "CREATE DATABASE indico OWNER relation_3");
    (cluster, tempfile::tempdir().unwrap())
}

#[test]
fn an_empty_database_is_prepared_and_an_existing_one_upgraded() {
    let (cluster, dir) = setup();
    let bin = fake_indico(dir.path(), "0");
    let uri = uri(&cluster, "relation_3", "indico");

    assert_eq!(finish(spawn(&bin, &uri)), 0);
    assert_eq!(calls(dir.path()), ["start db prepare", "end db prepare"]);
    let extensions = cluster.sql(
        "indico",
        "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('pg_trgm', 'unaccent')",
    );
    assert_eq!(
        extensions, "pg_trgm,unaccent",
        "a database owner may create trusted extensions"
    );

    // What `db prepare` would have left behind.
    cluster.sql(
        "indico",
        "CREATE TABLE public.alembic_version (version_num varchar(32))",
    );
    std::fs::remove_file(dir.path().join("calls.log")).unwrap();
    assert_eq!(finish(spawn(&bin, &uri)), 0);
    assert_eq!(
        calls(dir.path()),
        [
            "start db upgrade",
            "end db upgrade",
            "start db --all-plugins upgrade",
            "end db --all-plugins upgrade"
        ]
    );
}

#[test]
fn missing_extensions_that_cannot_be_created_exit_3_before_any_migration() {
    let (cluster, dir) = setup();
    cluster.sql("postgres", "CREATE DATABASE locked OWNER postgres");
    cluster.sql("postgres", "REVOKE CREATE ON DATABASE locked FROM PUBLIC");
    let bin = fake_indico(dir.path(), "0");
    let code = finish(spawn(&bin, &uri(&cluster, "relation_3", "locked")));
    assert_eq!(code, EXIT_MISSING_EXTENSIONS);
    assert!(calls(dir.path()).is_empty());

    // Once the provider has enabled them, the same user proceeds.
    cluster.sql(
        "locked",
        "CREATE EXTENSION pg_trgm; CREATE EXTENSION unaccent",
    );
    assert_eq!(
        finish(spawn(&bin, &uri(&cluster, "relation_3", "locked"))),
        0
    );
    assert_eq!(calls(dir.path()), ["start db prepare", "end db prepare"]);
}

#[test]
fn two_concurrent_runs_never_overlap() {
    let (cluster, dir) = setup();
    cluster.sql(
        "indico",
        "CREATE TABLE public.alembic_version (version_num varchar(32))",
    );
    let bin = fake_indico(dir.path(), "0.5");
    let uri = uri(&cluster, "relation_3", "indico");
    let first = spawn(&bin, &uri);
    let second = spawn(&bin, &uri);
    assert_eq!((finish(first), finish(second)), (0, 0));
    let log = calls(dir.path());
    assert_eq!(log.len(), 8, "{log:?}");
    // Each run's two commands are contiguous: start/end pairs never interleave across runs.
    for pair in log.chunks(2) {
        let started = pair[0].strip_prefix("start ").unwrap();
        assert_eq!(pair[1], format!("end {started}"), "{log:?}");
    }
    for run in log.chunks(4) {
        assert_eq!(run[0], "start db upgrade", "{log:?}");
        assert_eq!(run[2], "start db --all-plugins upgrade", "{log:?}");
    }
}
