//! Faults on the local substrate with the real charm, on one deployment (`indico-ft` with
//! `pg-ft`, `redis-broker-ft` and `redis-cache-ft`), run in sequence. Each fault checks
//! recovery with a bounded wait that names what it waits for:
//!
//! 1. deploy + integrate until active; note the secret key and every container's plan, and
//!    put an event into Indico's database with `psql`;
//! 2. kill the Pebble of the `indico` container (its PID 1, from the host): podman restarts
//!    the container as the kubelet would, the agent sees a new boot id and fires
//!    `indico-pebble-ready`, the charm re-applies the same plan and the unit is active;
//! 3. kill nginx's master, uWSGI and Celery (their main process), from the host:
//!    Pebble restarts each, the unit is active again and nginx answers `/health`;
//! 4. stop the host PostgreSQL, then the broker's Redis: the status names the relation
//!    (update-status runs every 10 s here) and turns active once the server is back;
//! 5. kill the charm mid-hook: with the `indico-nginx` Pebble frozen (SIGSTOP) a
//!    config-changed hook hangs in gather; its `dispatch` is killed, Pebble thawed, and the
//!    retry converges on the new setting;
//! 6. nothing lost: the same secret key, the event still in PostgreSQL, the plans equal to
//!    the first ones apart from the changed setting.
//!
//! Slow (minutes) and needs root, podman, PostgreSQL 15/main (which it stops for a while:
//! run it alone), Redis and the images, so it is ignored by default: `cargo test -p
//! indico-substrate --test pod_faults -- --ignored --nocapture --test-threads=1`. The charm
//! is deployed as in the other pod tests (`$INDICO_CHARM_DIR`, `$INDICO_CHARM_BINARY`, or
//! built here).

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use indico_substrate::host::{HostRedis, ServiceAddress};
use indico_substrate::model::Model;
use support::{
    ContainerProcess, boot_id, cli, container_init_pid, container_name, container_processes,
    container_restarts, debug_log_len, debug_log_since, diagnosis, ok, plans, service_env,
    service_state, signal, state_dir, try_plan, try_wait_until, wait_active_within, wait_until,
};

const APP: &str = "indico-ft";
const UNIT: &str = "indico-ft/0";
const PG: &str = "pg-ft";
const BROKER: &str = "redis-broker-ft";
const CACHE: &str = "redis-cache-ft";
/// Deploying from nothing (image builds are cached separately).
const DEPLOY_WAIT: Duration = Duration::from_secs(900);
/// Recovering from one fault.
const RECOVER_WAIT: Duration = Duration::from_secs(240);
/// update-status period for this test's controller (Juju's default is 5 min).
const UPDATE_STATUS_SECONDS: &str = "10";
const EVENT_TITLE: &str = "Fault suite event (must survive)";

/// `psql` on the host cluster as the postgres superuser; returns trimmed stdout.
fn psql(database: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--", "psql", "-X", "-q", "-At", "-v"])
        .arg("ON_ERROR_STOP=1")
        .args(["-d", database, "-c", sql])
        .output()
        .map_err(|e| format!("runuser psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The database the provider created for the charm (published in the relation).
fn indico_database() -> String {
    let model = Model::load(&state_dir().join("model.json")).expect("the model loads");
    model
        .relations
        .values()
        .filter_map(|r| serde_json::to_value(r).ok())
        .find_map(|r| {
            let text = r.to_string();
            if !text.contains(PG) {
                return None;
            }
            find_key(&r, "database")
        })
        .unwrap_or_else(|| panic!("no database name in the {PG} relation\n{}", diagnosis()))
}

/// The first string value of `key` anywhere in `value` whose name is not the requested
/// `indico` (the provider answers `<requested>_<app>`).
fn find_key(value: &serde_json::Value, key: &str) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(s)) = map.get(key)
                && s.starts_with("indico_")
            {
                return Some(s.clone());
            }
            map.values().find_map(|v| find_key(v, key))
        }
        serde_json::Value::Array(list) => list.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

/// The broker's private Redis server.
fn broker_redis() -> HostRedis {
    let model = Model::load(&state_dir().join("model.json")).expect("the model loads");
    let port = model
        .applications
        .get(BROKER)
        .and_then(|a| a.provider_data.get("port"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{BROKER} has no port in the model"));
    HostRedis {
        port,
        address: ServiceAddress::default().address,
        dir: state_dir().join("providers").join("redis").join(BROKER),
    }
}

/// The main process of a Pebble service: a child of Pebble (PID 1) whose command line
/// contains `pattern` (lower case; uWSGI renames its processes `indico uWSGI master`).
fn service_process(container: &str, pattern: &str) -> Option<ContainerProcess> {
    container_processes(container)
        .into_iter()
        .find(|p| p.ppid == 1 && p.args.to_lowercase().contains(pattern))
}

/// Kills a service's main process with SIGKILL and waits until Pebble runs it again.
fn kill_service(container: &str, service: &str, pattern: &str) {
    let pod_container = container_name(UNIT, container);
    let before = service_state(UNIT, container, service)
        .unwrap_or_else(|| panic!("{container}: no service {service}\n{}", diagnosis()));
    let victim = service_process(&pod_container, pattern).unwrap_or_else(|| {
        panic!(
            "{pod_container}: no child of Pebble matching {pattern:?}: {:#?}",
            container_processes(&pod_container)
        )
    });
    println!("  kill -KILL {} ({})", victim.host_pid, victim.args);
    signal(victim.host_pid, "KILL");
    wait_until(
        &format!("Pebble restarted {container}/{service}"),
        RECOVER_WAIT,
        || {
            service_state(UNIT, container, service)
                .is_some_and(|(current, since)| current == "active" && since != before.1)
                && service_process(&pod_container, pattern)
                    .is_some_and(|p| p.host_pid != victim.host_pid)
        },
    );
}

/// GET `/health` through nginx answers 204.
fn nginx_healthy(address: &str) -> bool {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .ok()
        .and_then(|c| c.get(format!("http://{address}:8080/health")).send().ok())
        .is_some_and(|r| r.status() == reqwest::StatusCode::NO_CONTENT)
}

/// The charm's `dispatch` running in the unit's charm container, if any.
fn running_dispatch() -> Option<ContainerProcess> {
    container_processes(&container_name(UNIT, "charm"))
        .into_iter()
        .find(|p| p.args.contains("/charm/dispatch") || p.args.ends_with("dispatch"))
}

/// Prints a failure that the suite reports at its end, and returns it.
fn noted(failure: String) -> String {
    println!("  FAILED (reported at the end): {failure}");
    failure
}

/// `pg_ctlcluster 15 main <action>` with every file descriptor above 2 closed first: a
/// server started here must not inherit the descriptors of this test (such as the lock
/// that serialises pod tests on this machine, which it would then hold forever).
fn pg_ctlcluster(action: &str) -> bool {
    const CLOSE_INHERITED: &str = "for fd in $(ls /proc/$$/fd); do \
         case $fd in 0|1|2) ;; *) eval \"exec $fd>&-\" ;; esac; done; \
         exec pg_ctlcluster 15 main \"$1\"";
    Command::new("bash")
        .args(["-c", CLOSE_INHERITED, "pg_ctlcluster", action])
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts the host PostgreSQL cluster again if the test fails while it is stopped.
struct RestartPostgres;

impl Drop for RestartPostgres {
    fn drop(&mut self) {
        if std::thread::panicking() {
            pg_ctlcluster("start");
        }
    }
}

#[test]
#[ignore = "slow (minutes): faults on the real charm in podman pods; needs root, podman, PostgreSQL (stopped for a while), Redis"]
fn faults_on_one_deployment() {
    let _teardown = support::Teardown::new(&[APP, PG, BROKER, CACHE]);
    let total = Instant::now();

    // 1. Deploy, note what must survive, and put an event into the database.
    println!("1. deploy + integrate");
    support::deploy_stack(
        APP,
        PG,
        BROKER,
        CACHE,
        &[("INDICO_SUBSTRATE_UPDATE_STATUS", UPDATE_STATUS_SECONDS)],
    );
    wait_active_within(UNIT, DEPLOY_WAIT);
    let address = support::unit_address(UNIT);
    let secret_key = service_env(UNIT, "indico", "indico", "INDICO_SECRET_KEY")
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| panic!("indico has no secret key\n{}", diagnosis()));
    let first_plans = plans(UNIT);
    let database = indico_database();
    // Checks whose failure does not stop the faults that follow; reported at the end.
    let mut failures: Vec<String> = Vec::new();
    let event_count = format!("SELECT count(*) FROM events.events WHERE title = '{EVENT_TITLE}'");
    match psql(&database, &insert_event_sql()) {
        Ok(event_id) => println!("  event {event_id} in {database}"),
        Err(e) => failures.push(noted(format!(
            "inserting the event into {database}: {e}\nrequired columns: {:?}\nchecks: {:?}",
            psql(&database, REQUIRED_COLUMNS_SQL),
            psql(&database, CHECKS_SQL)
        ))),
    }
    let event_before = psql(&database, &event_count);

    // 2. Kill Pebble (the container's PID 1) in `indico`.
    println!("2. kill the indico container's Pebble");
    let indico = container_name(UNIT, "indico");
    let old_boot = boot_id(UNIT, "indico").expect("indico's Pebble answers");
    let old_pid = container_init_pid(&indico).expect("the indico container runs");
    let restarts = container_restarts(&indico);
    let log_offset = debug_log_len();
    signal(old_pid, "KILL");
    wait_until(
        "podman restarted the indico container",
        RECOVER_WAIT,
        || {
            container_restarts(&indico) > restarts
                && container_init_pid(&indico).is_some_and(|p| p != old_pid)
        },
    );
    wait_until(
        "indico's Pebble answers with a new boot id",
        RECOVER_WAIT,
        || boot_id(UNIT, "indico").is_some_and(|b| b != old_boot),
    );
    wait_until("the charm re-applied indico's plan", RECOVER_WAIT, || {
        try_plan(UNIT, "indico").as_ref() == first_plans.get("indico")
    });
    wait_until("uWSGI runs again", RECOVER_WAIT, || {
        service_state(UNIT, "indico", "indico").is_some_and(|(c, _)| c == "active")
    });
    wait_active_within(UNIT, RECOVER_WAIT);
    let log = debug_log_since(log_offset);
    assert!(
        log.contains("indico-pebble-ready"),
        "no indico-pebble-ready hook after the restart:\n{log}"
    );

    // 3. Kill nginx, uWSGI and Celery: Pebble restarts each.
    println!("3. kill nginx, uWSGI, Celery");
    // nginx's master alone, as the OOM killer would: its workers live on as Pebble's
    // orphans holding port 8080 until the service's start command (the image's
    // indico-nginx-run) ends them, so the restarted master can bind.
    kill_service("indico-nginx", "indico-nginx", "master process");
    wait_until("nginx answers /health", RECOVER_WAIT, || {
        nginx_healthy(&address)
    });
    let nginx = container_processes(&container_name(UNIT, "indico-nginx"));
    let master = nginx
        .iter()
        .find(|p| p.ppid == 1 && p.args.contains("nginx: master process"))
        .unwrap_or_else(|| panic!("no nginx master under Pebble: {nginx:#?}"));
    let orphans: Vec<_> = nginx
        .iter()
        .filter(|p| p.args.contains("nginx: worker process") && p.ppid != master.pid)
        .collect();
    assert!(
        orphans.is_empty(),
        "nginx workers not of the running master: {orphans:#?}"
    );
    kill_service("indico", "indico", "uwsgi");
    // "celery worker": Flower, beside the worker in that container, runs `celery flower`.
    kill_service("indico-celery", "indico-celery", "celery worker");
    wait_active_within(UNIT, RECOVER_WAIT);

    // 4. The database and the broker go away and come back.
    println!("4. stop PostgreSQL, then the broker's Redis");
    {
        let _restart = RestartPostgres;
        assert!(pg_ctlcluster("stop"), "pg_ctlcluster 15 main stop failed");
        if let Err(e) = try_wait_until("the status names the database", RECOVER_WAIT, || {
            support::workload_status(UNIT)
                .is_some_and(|(s, m, _)| s == "waiting" && m.contains("database"))
        }) {
            failures.push(e);
        }
        assert!(pg_ctlcluster("start"), "pg_ctlcluster 15 main start failed");
    }
    wait_active_within(UNIT, RECOVER_WAIT);
    let redis = broker_redis();
    redis.stop().expect("the broker's Redis stops");
    let named = try_wait_until("the status names redis-broker", RECOVER_WAIT, || {
        support::workload_status(UNIT)
            .is_some_and(|(s, m, _)| s == "waiting" && m.contains("redis-broker"))
    });
    redis.ensure_running().expect("the broker's Redis starts");
    if let Err(e) = named {
        failures.push(e);
    }
    wait_active_within(UNIT, RECOVER_WAIT);

    // 5. Kill the charm mid-hook, then the retry converges.
    println!("5. kill the charm mid-hook");
    let nginx_pebble = container_init_pid(&container_name(UNIT, "indico-nginx"))
        .expect("the nginx container runs");
    let log_offset = debug_log_len();
    signal(nginx_pebble, "STOP");
    let killed = std::panic::catch_unwind(|| {
        ok(&[
            "config",
            APP,
            "indico_public_support_email=faults@example.com",
        ]);
        let mut dispatch = None;
        wait_until(
            "config-changed runs (dispatch in the charm container)",
            RECOVER_WAIT,
            || {
                dispatch = running_dispatch();
                dispatch.is_some()
            },
        );
        let dispatch = dispatch.expect("found above");
        // Let it reach the frozen Pebble (the hook hangs there for the request timeout).
        std::thread::sleep(Duration::from_secs(2));
        println!("  kill -KILL {} ({})", dispatch.host_pid, dispatch.args);
        signal(dispatch.host_pid, "KILL");
        dispatch.host_pid
    });
    signal(nginx_pebble, "CONT");
    let killed_pid = match killed {
        Ok(pid) => pid,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    wait_until("the charm applied the new setting", RECOVER_WAIT, || {
        service_env(UNIT, "indico", "indico", "INDICO_PUBLIC_SUPPORT_EMAIL").as_deref()
            == Some("faults@example.com")
    });
    wait_active_within(UNIT, RECOVER_WAIT);
    let log = debug_log_since(log_offset);
    assert!(
        log.contains("config-changed"),
        "no config-changed in the debug log after the kill:\n{log}"
    );
    assert!(
        running_dispatch().is_none_or(|p| p.host_pid != killed_pid),
        "the killed dispatch still runs"
    );

    // 6. Nothing lost.
    println!("6. nothing lost");
    assert_eq!(
        service_env(UNIT, "indico", "indico", "INDICO_SECRET_KEY").as_deref(),
        Some(secret_key.as_str()),
        "the secret key changed"
    );
    if event_before.as_deref() == Ok("1") {
        assert_eq!(
            psql(&database, &event_count).as_deref(),
            Ok("1"),
            "the event is gone from {database}"
        );
    } else {
        failures.push(noted(format!("no event to look for: {event_before:?}")));
    }
    let last_plans = plans(UNIT);
    for (container, plan) in &first_plans {
        let mut now = last_plans.get(container).cloned().unwrap_or_default();
        // The one setting step 5 changed, put back for the comparison.
        for service in now.services.values_mut() {
            if let Some(value) = service.environment.get_mut("INDICO_PUBLIC_SUPPORT_EMAIL") {
                let before = plan
                    .services
                    .values()
                    .find_map(|s| s.environment.get("INDICO_PUBLIC_SUPPORT_EMAIL"))
                    .cloned()
                    .unwrap_or_default();
                *value = before;
            }
        }
        assert_eq!(
            &now, plan,
            "{container}'s plan differs beyond the new setting"
        );
    }
    let status = cli(&["status"]);
    println!("{}", String::from_utf8_lossy(&status.stdout));
    println!("all faults: {:.1} s", total.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The NOT NULL columns without a default of `events.events` (for a failed INSERT's message).
const REQUIRED_COLUMNS_SQL: &str = "SELECT string_agg(column_name || ' ' || data_type, ', ') \
     FROM information_schema.columns WHERE table_schema = 'events' AND table_name = 'events' \
     AND is_nullable = 'NO' AND column_default IS NULL";
/// The check constraints of `events.events` (for a failed INSERT's message).
const CHECKS_SQL: &str = "SELECT string_agg(conname || ': ' || pg_get_constraintdef(oid), E'\\n') \
     FROM pg_constraint WHERE conrelid = 'events.events'::regclass AND contype = 'c'";

/// An INSERT of a minimal event (a conference in the root category, created by the first
/// user, Indico's system user) with every column Indico 3.2 requires; prints its id.
fn insert_event_sql() -> String {
    format!(
        "INSERT INTO events.events (title, description, category_id, creator_id, created_dt, \
         start_dt, end_dt, timezone, type, protection_mode, is_deleted, is_locked, access_key, \
         no_access_contact, label_message, keywords, logo_metadata, stylesheet_metadata, map_url, \
         venue_name, room_name, address, last_friendly_registration_id, \
         last_friendly_contribution_id, last_friendly_session_id) \
         VALUES ('{EVENT_TITLE}', '', 0, (SELECT min(id) FROM users.users), now(), now(), \
         now() + interval '1 hour', 'UTC', 3, 1, false, false, '', '', '', '{{}}', 'null', \
         'null', '', '', '', '', 0, 0, 0) RETURNING id"
    )
}
