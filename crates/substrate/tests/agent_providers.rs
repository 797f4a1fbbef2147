//! The providers against real servers: a charm related to `postgresql` gets a database
//! on the host's PostgreSQL (with pg_trgm and unaccent) through data_interfaces' plain
//! or secret form, and a charm related to `redis` gets a running private Redis. Needs
//! root, the Debian `postgresql` (15/main) and `redis-server` packages.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use indico_substrate::agent::{Controller, ControllerConfig, LocalDispatcher};
use indico_substrate::host::{HostPostgres, random_hex};
use indico_substrate::model::Model;
use indico_substrate::providers::{PostgresqlProvider, RedisProvider, RemoteApplication};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Asks for the database its config names (credentials in a secret when `use-secret`),
/// writes what it receives to files in its charm dir.
const DISPATCH: &str = r#"#!/bin/sh
set -eu
case "$JUJU_DISPATCH_PATH" in
  hooks/database-relation-created)
    if [ "$(is-leader)" = True ]; then
      db=$(config-get dbname)
      if [ "$(config-get use-secret)" = True ]; then
        relation-set --app database="$db" requested-secrets='["username", "password"]'
      else
        relation-set --app database="$db"
      fi
    fi ;;
  hooks/database-relation-changed)
    relation-get --app --format=json - postgresql > db.json
    uri=$(relation-get --app secret-user postgresql)
    if [ -n "$uri" ]; then secret-get "$uri" --format=json > creds.json; fi ;;
  hooks/cache-relation-changed)
    if [ -n "$JUJU_REMOTE_UNIT" ]; then relation-get --format=json > redis.json
    else relation-get --app --format=json - "$JUJU_REMOTE_APP" > redis-app.json; fi ;;
esac
"#;

fn charm(dir: &Path, dbname: &str, secret: bool) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("metadata.yaml"), "name: app\nrequires:\n  database: {interface: postgresql_client, limit: 1}\n  cache: {interface: redis, limit: 1}\n").unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        format!("options:\n  dbname: {{type: string, default: {dbname}}}\n  use-secret: {{type: boolean, default: {secret}}}\n"),
    )
    .unwrap();
    let dispatch = dir.join("dispatch");
    juju_runtime::testing::write_executable(&dispatch, DISPATCH.as_bytes()).unwrap();
}

fn wait_for_file(controller: &Controller, path: &Path, key: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.contains(key)
        {
            return text;
        }
        if start.elapsed() > TIMEOUT {
            let log = std::fs::read_to_string(controller.debug_log()).unwrap_or_default();
            panic!("{} never held {key}\n{log}", path.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn setup(dbname: &str, secret: bool) -> (tempfile::TempDir, Controller, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let charm_dir = root.join("charm");
    charm(&charm_dir, dbname, secret);
    let providers: Vec<Arc<dyn RemoteApplication>> = vec![
        Arc::new(PostgresqlProvider::new()),
        Arc::new(RedisProvider::new(&root.join("redis"))),
    ];
    let controller = Controller::new(
        ControllerConfig::in_dir(&root),
        Model::new("providers"),
        providers,
    );
    let dispatcher = Arc::new(LocalDispatcher::new(
        &root.join("juju"),
        &charm_dir,
        Path::new(env!("CARGO_BIN_EXE_jujuc")),
    ));
    controller.deploy("app", &charm_dir, 1, dispatcher).unwrap();
    let unit_charm = root.join("juju/agents/unit-app-0/charm");
    (dir, controller, unit_charm)
}

fn psql_as(user: &str, password: &str, database: &str, sql: &str) -> String {
    let out = Command::new("psql")
        // Pods come from the pod subnet; the host logs in over loopback.
        .args([
            "-X",
            "-A",
            "-t",
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            database,
            "-c",
            sql,
        ])
        .env("PGPASSWORD", password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Drops the test's database and any role its relations left, even when a test fails.
struct DropDatabase {
    name: String,
    model_uuid: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        let postgres = HostPostgres::default();
        let _ = postgres.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE);", self.name),
        );
        let short: String = self
            .model_uuid
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(8)
            .collect();
        for id in 0..4 {
            let _ = postgres.psql(
                "postgres",
                &format!("DROP ROLE IF EXISTS relation_id_{id}_{short};"),
            );
        }
    }
}

#[test]
fn postgresql_answers_with_credentials_in_a_secret_when_asked() {
    let dbname = format!("agenttest_{}", random_hex(4).unwrap());
    let (_dir, controller, unit_charm) = setup(&dbname, true);
    let _cleanup = DropDatabase {
        name: dbname.clone(),
        model_uuid: controller.model().uuid,
    };
    controller.add_remote("postgresql", "postgresql").unwrap();
    let id = controller.integrate("app", "postgresql").unwrap();
    let creds: serde_json::Value = serde_json::from_str(&wait_for_file(
        &controller,
        &unit_charm.join("creds.json"),
        "password",
    ))
    .unwrap();
    let bag: serde_json::Value = serde_json::from_str(&wait_for_file(
        &controller,
        &unit_charm.join("db.json"),
        "endpoints",
    ))
    .unwrap();
    assert_eq!(bag["database"], dbname.as_str());
    assert_eq!(bag["endpoints"], "10.210.1.1:5432");
    assert!(
        bag["secret-user"]
            .as_str()
            .unwrap()
            .starts_with("secret://")
    );
    assert!(
        bag.get("password").is_none(),
        "the password is only in the secret: {bag}"
    );
    let user = creds["username"].as_str().unwrap();
    let password = creds["password"].as_str().unwrap();
    let model = controller.model();
    assert_eq!(user, format!("relation_id_{id}_{}", &model.uuid[..8]));
    let extensions = psql_as(
        user,
        password,
        &dbname,
        "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension",
    );
    assert_eq!(extensions, "pg_trgm,plpgsql,unaccent");
    assert_eq!(
        psql_as(
            user,
            password,
            &dbname,
            "CREATE TABLE t (x int); SELECT count(*) FROM t"
        ),
        "CREATE TABLE\n0"
    );
    let secret = model.secrets.values().next().unwrap();
    assert_eq!(
        secret.label.as_deref(),
        Some(format!("database.{id}.user.secret").as_str())
    );
    assert_eq!(secret.grants[0].target, "app");

    controller.remove_relation("app", "postgresql").unwrap();
    controller
        .wait_for(TIMEOUT, |m| m.relations.is_empty())
        .map_err(|m| format!("{:?}", m.relations))
        .unwrap();
    let role = HostPostgres::default()
        .psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{user}'"),
        )
        .unwrap();
    assert_eq!(role, "0", "the relation's role is dropped");
    assert!(controller.model().secrets.is_empty());
    controller.shutdown();
}

#[test]
fn postgresql_answers_in_plain_keys_without_requested_secrets_and_redis_runs() {
    let dbname = format!("agenttest_{}", random_hex(4).unwrap());
    let (_dir, controller, unit_charm) = setup(&dbname, false);
    let _cleanup = DropDatabase {
        name: dbname.clone(),
        model_uuid: controller.model().uuid,
    };
    controller.add_remote("postgresql", "postgresql").unwrap();
    controller.add_remote("redis", "redis").unwrap();
    controller.integrate("app", "postgresql").unwrap();
    controller.integrate("app:cache", "redis").unwrap();
    let bag: serde_json::Value = serde_json::from_str(&wait_for_file(
        &controller,
        &unit_charm.join("db.json"),
        "endpoints",
    ))
    .unwrap();
    let (user, password) = (
        bag["username"].as_str().unwrap(),
        bag["password"].as_str().unwrap(),
    );
    assert_eq!(password.len(), 32);
    assert_eq!(
        bag["uris"],
        format!("postgresql://{user}:{password}@10.210.1.1:5432/{dbname}").as_str()
    );
    assert!(bag["version"].as_str().unwrap().starts_with("15"));
    assert_eq!(
        psql_as(user, password, &dbname, "SELECT current_database()"),
        dbname
    );

    let redis: serde_json::Value = serde_json::from_str(&wait_for_file(
        &controller,
        &unit_charm.join("redis.json"),
        "port",
    ))
    .unwrap();
    assert_eq!(redis["hostname"], "10.210.1.1");
    let port = redis["port"].as_str().unwrap().to_owned();
    let ping = Command::new("redis-cli")
        .args(["-h", "10.210.1.1", "-p", &port, "PING"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ping.stdout).trim(), "PONG");

    controller.remove_application("redis").unwrap();
    controller
        .wait_for(TIMEOUT, |m| !m.applications.contains_key("redis"))
        .map_err(|_| "redis not removed")
        .unwrap();
    let ping = Command::new("redis-cli")
        .args(["-h", "10.210.1.1", "-p", &port, "PING"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&ping.stdout).contains("PONG"),
        "the server is stopped"
    );
    controller.remove_application("app").unwrap();
    controller
        .wait_for(TIMEOUT, |m| m.relations.is_empty())
        .map_err(|_| "relation not removed")
        .unwrap();
    controller.remove_application("postgresql").unwrap();
    controller
        .wait_for(TIMEOUT, |m| m.applications.is_empty())
        .map_err(|_| "postgresql not removed")
        .unwrap();
    let exists = HostPostgres::default()
        .psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{dbname}'"),
        )
        .unwrap();
    assert_eq!(
        exists, "0",
        "removing the provider drops the databases it created"
    );
    controller.shutdown();
}

#[test]
fn redis_publishes_its_master_as_leader_host_in_the_application_bag() {
    let (_dir, controller, unit_charm) = setup("unused", false);
    controller.add_remote("cache", "redis").unwrap();
    controller.integrate("app:cache", "cache").unwrap();
    let app_bag: serde_json::Value = serde_json::from_str(&wait_for_file(
        &controller,
        &unit_charm.join("redis-app.json"),
        "leader-host",
    ))
    .unwrap();
    let unit_bag: serde_json::Value = serde_json::from_str(&wait_for_file(
        &controller,
        &unit_charm.join("redis.json"),
        "port",
    ))
    .unwrap();
    // As redis-k8s: the master in the application bag, each unit's address in its own.
    let leader_host = app_bag["leader-host"].as_str().unwrap();
    assert_eq!(leader_host, "10.210.1.1");
    assert_eq!(unit_bag["hostname"], leader_host);
    let port = unit_bag["port"].as_str().unwrap().to_owned();
    let ping = Command::new("redis-cli")
        .args(["-h", leader_host, "-p", &port, "PING"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ping.stdout).trim(), "PONG");
    controller.remove_application("app").unwrap();
    controller.remove_application("cache").unwrap();
    controller
        .wait_for(TIMEOUT, |m| m.applications.is_empty())
        .map_err(|m| format!("{:?}", m.applications.keys()))
        .unwrap();
    controller.shutdown();
}

#[test]
fn unknown_providers_and_bad_names_are_refused() {
    let (_dir, controller, _) = setup("unused", false);
    let err = controller
        .add_remote("mysql", "mysql")
        .unwrap_err()
        .to_string();
    assert!(err.contains("no provider \"mysql\""), "{err}");
    assert!(
        controller
            .integrate("app", "nope")
            .unwrap_err()
            .to_string()
            .contains("application \"nope\" not found")
    );
    controller.shutdown();
}
