//! The unit agent end to end with real processes: a shell-script charm run as
//! `dispatch` with the exact environment, calling the real `jujuc` over the agent's Unix
//! socket. Checks Juju's hook order, relation hooks, commit-on-success, action results,
//! retries after an injected tool failure, update-status and pebble-ready from a real
//! Pebble, and a second controller resuming the agents of the first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use indico_substrate::agent::{Backoff, Controller, ControllerConfig, LocalDispatcher};
use indico_substrate::model::{Fault, Model};

const TIMEOUT: Duration = Duration::from_secs(30);

const DISPATCH: &str = r#"#!/bin/sh
set -eu
echo "${JUJU_HOOK_NAME:-action:${JUJU_ACTION_NAME:-}} ${JUJU_REMOTE_UNIT:-}" >> hooks.log
case "$JUJU_DISPATCH_PATH" in
  hooks/install) env > install.env ;;
  hooks/start) status-set active "started" ;;
  hooks/leader-elected)
    peers=$(relation-ids peers)
    if [ -n "$peers" ]; then relation-set -r "$peers" --app leader="$JUJU_UNIT_NAME"; fi ;;
  hooks/db-relation-joined)
    if [ "$(is-leader)" = True ]; then
      relation-set --app host=store.local port=5
      if [ "$(config-get colour)" = secret ]; then
        uri=$(secret-add --label creds password=one)
        secret-grant "$uri" -r "$JUJU_RELATION_ID"
        relation-set --app secret="$uri"
      fi
    fi ;;
  hooks/secret-changed)
    secret-get "$JUJU_SECRET_ID" password --refresh > secret.txt ;;
  actions/rotate)
    secret-set "secret:$(secret-ids)" password=two ;;
  hooks/*-relation-changed)
    relation-get --format=json > "changed-$JUJU_RELATION_ID.json"
    uri=$(relation-get --app secret "$JUJU_REMOTE_APP" 2>/dev/null || true)
    if [ -n "$uri" ] && [ "$JUJU_REMOTE_APP" = store ]; then secret-get "$uri" password > secret.txt; fi ;;
  actions/greet)
    name=$(action-get name)
    action-set greeting="hello $name"
    echo out ;;
  actions/write-then-fail)
    state-set written=yes
    status-set blocked "about to fail"
    exit 3 ;;
esac
"#;

fn charm(dir: &Path, metadata: &str, actions: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        "options:\n  colour: {type: string, default: red}\n",
    )
    .unwrap();
    std::fs::write(dir.join("actions.yaml"), actions).unwrap();
    let dispatch = dir.join("dispatch");
    juju_runtime::testing::write_executable(&dispatch, DISPATCH.as_bytes()).unwrap();
    dir.to_path_buf()
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    controller: Controller,
    app_dispatcher: Arc<LocalDispatcher>,
    store_dispatcher: Arc<LocalDispatcher>,
}

impl Setup {
    fn new(update_status: Duration) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let app = charm(
            &root.join("charms/app"),
            "name: app\ncontainers:\n  workload: {resource: img}\npeers:\n  peers: {interface: app-peers}\nrequires:\n  db: {interface: kv, limit: 1}\n",
            "greet:\n  params:\n    name: {type: string}\n  required: [name]\nwrite-then-fail: {}\n",
        );
        let store = charm(
            &root.join("charms/store"),
            "name: store\nprovides:\n  db: {interface: kv}\n",
            "rotate: {}\n",
        );
        let jujuc = Path::new(env!("CARGO_BIN_EXE_jujuc"));
        let juju = root.join("juju");
        let app_dispatcher = Arc::new(
            LocalDispatcher::new(&juju, &app, jujuc).with_pebble_dir(&root.join("pebble")),
        );
        let store_dispatcher = Arc::new(LocalDispatcher::new(&juju, &store, jujuc));
        let mut config = ControllerConfig::in_dir(&root);
        config.backoff = Backoff {
            min: Duration::from_millis(300),
            max: Duration::from_secs(2),
            factor: 2,
        };
        config.update_status_interval = update_status;
        config.pebble_poll_interval = Duration::from_millis(100);
        let controller = Controller::new(config, Model::new("test"), Vec::new());
        Self {
            _dir: dir,
            root,
            controller,
            app_dispatcher,
            store_dispatcher,
        }
    }

    /// Deploys `units` units of the `app` test charm (not waiting for them).
    fn deploy_app(&self, units: u32) {
        self.controller
            .deploy(
                "app",
                &self.root.join("charms/app"),
                units,
                self.app_dispatcher.clone(),
            )
            .unwrap();
    }

    /// Deploys one unit of the `store` test charm (not waiting for it).
    fn deploy_store(&self) {
        self.controller
            .deploy(
                "store",
                &self.root.join("charms/store"),
                1,
                self.store_dispatcher.clone(),
            )
            .unwrap();
    }

    fn hooks(&self, unit: &str) -> Vec<String> {
        let path = self.charm_dir(unit).join("hooks.log");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim_end().to_owned())
            .collect()
    }

    fn charm_dir(&self, unit: &str) -> PathBuf {
        self.root
            .join("juju/agents")
            .join(format!("unit-{}", unit.replace('/', "-")))
            .join("charm")
    }

    fn settle(&self) -> Model {
        std::thread::sleep(Duration::from_millis(100));
        let start = std::time::Instant::now();
        while !self.controller.is_idle() {
            if start.elapsed() > TIMEOUT {
                let log = std::fs::read_to_string(self.controller.debug_log()).unwrap_or_default();
                panic!(
                    "agents did not settle; app/0 ran {:?}, store/0 ran {:?}\n{log}",
                    self.hooks("app/0"),
                    self.hooks("store/0")
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.controller.model()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.controller.shutdown();
    }
}

#[test]
fn deploy_runs_juju_order_with_the_exact_environment() {
    let s = Setup::new(Duration::from_secs(600));
    s.deploy_app(2);
    let model = s.settle();
    assert_eq!(
        s.hooks("app/0"),
        [
            "install",
            "peers-relation-created",
            "leader-elected",
            "config-changed",
            "start",
            "peers-relation-joined app/1",
            "peers-relation-changed app/1",
        ]
    );
    let follower = s.hooks("app/1");
    assert_eq!(
        &follower[..7],
        [
            "install",
            "peers-relation-created",
            "leader-settings-changed",
            "config-changed",
            "start",
            "peers-relation-joined app/0",
            "peers-relation-changed app/0",
        ]
    );
    // The leader's peer app-bag write reaches the other unit as an app-level change.
    assert!(
        follower[7..].contains(&"peers-relation-changed".to_owned()),
        "{follower:?}"
    );
    let unit = model.unit("app/0").unwrap();
    assert_eq!(
        (
            unit.workload.current.status.as_str(),
            unit.workload.current.message.as_str()
        ),
        ("active", "started")
    );
    assert_eq!(unit.agent.current.status, "idle");
    assert_eq!(model.relations[&0].app_bags["app"]["leader"], "app/0");

    let env = std::fs::read_to_string(s.charm_dir("app/0").join("install.env")).unwrap();
    let vars: BTreeMap<&str, &str> = env.lines().filter_map(|l| l.split_once('=')).collect();
    let charm_dir = s.charm_dir("app/0");
    assert_eq!(vars["JUJU_CHARM_DIR"], charm_dir.to_str().unwrap());
    assert_eq!(vars["JUJU_UNIT_NAME"], "app/0");
    assert_eq!(vars["JUJU_DISPATCH_PATH"], "hooks/install");
    assert_eq!(vars["JUJU_MODEL_UUID"], model.uuid);
    assert!(vars["JUJU_CONTEXT_ID"].starts_with("app/0-install-"));
    assert!(vars["PATH"].starts_with(&format!("{}/juju/tools/unit-app-0:", s.root.display())));
    for absent in ["HOME", "USER", "CARGO", "RUST_LOG"] {
        assert!(
            !vars.contains_key(absent),
            "{absent} leaked into the hook environment"
        );
    }
}

#[test]
fn integrate_runs_relation_hooks_on_both_sides_and_remove_breaks_it() {
    let s = Setup::new(Duration::from_secs(600));
    s.deploy_app(1);
    s.deploy_store();
    s.settle();
    let id = s.controller.integrate("app", "store").unwrap();
    let model = s.settle();
    let app_hooks = s.hooks("app/0");
    let tail: Vec<&str> = app_hooks
        .iter()
        .map(String::as_str)
        .skip_while(|h| !h.starts_with("db-"))
        .collect();
    assert_eq!(
        tail[..3],
        [
            "db-relation-created",
            "db-relation-joined store/0",
            "db-relation-changed store/0"
        ]
    );
    // The store's app-bag write (in its joined hook) reaches app as an app-level change.
    assert!(tail.contains(&"db-relation-changed"), "{tail:?}");
    let seen = std::fs::read_to_string(s.charm_dir("app/0").join(format!("changed-db:{id}.json")))
        .unwrap();
    assert_eq!(seen.trim(), r#"{"host":"store.local","port":"5"}"#);
    assert_eq!(
        model.relations[&id].app_bags["store"]["host"],
        "store.local"
    );

    s.controller.remove_relation("app", "store").unwrap();
    let model = s.settle();
    let app_hooks = s.hooks("app/0");
    let n = app_hooks.len();
    assert_eq!(
        app_hooks[n - 2..],
        ["db-relation-departed store/0", "db-relation-broken"]
    );
    assert!(!model.relations.contains_key(&id));
    assert!(s.controller.remove_relation("app", "store").is_err());
}

#[test]
fn a_failed_hook_is_reported_and_retried_until_it_succeeds() {
    let s = Setup::new(Duration::from_secs(600));
    s.deploy_app(1);
    s.deploy_store();
    s.settle();
    s.controller.inject_fault(Fault {
        tool: "relation-get".into(),
        unit: Some("app/0".into()),
        count: 1,
    });
    s.controller.integrate("app", "store").unwrap();
    let errored = s.controller.wait_for(TIMEOUT, |m| {
        m.unit("app/0")
            .unwrap()
            .agent
            .history
            .iter()
            .any(|st| st.status == "error")
    });
    let model = errored.expect("the unit went into error");
    let error = model
        .unit("app/0")
        .unwrap()
        .agent
        .history
        .iter()
        .find(|st| st.status == "error")
        .unwrap()
        .clone();
    assert_eq!(error.message, "hook failed: \"db-relation-changed\"");
    assert_eq!(error.data["remote-unit"], "store/0");
    let model = s.settle();
    let unit = model.unit("app/0").unwrap();
    assert_eq!(unit.agent.current.status, "idle");
    assert_eq!(unit.workload.current.status, "active");
    let hooks = s.hooks("app/0");
    let runs = hooks
        .iter()
        .filter(|h| *h == "db-relation-changed store/0")
        .count();
    assert_eq!(runs, 2, "failed once, then retried: {hooks:?}");
    assert!(model.faults.is_empty());
    let log = std::fs::read_to_string(s.controller.debug_log()).unwrap();
    assert!(log.contains("hook \"db-relation-changed\" (via hook dispatching script: dispatch) failed: exit status 1"), "{log}");
}

#[test]
fn actions_return_results_and_commit_only_on_success() {
    let s = Setup::new(Duration::from_secs(600));
    s.deploy_app(1);
    s.settle();
    let params = BTreeMap::from([("name".to_owned(), "ada".to_owned())]);
    let id = s.controller.run_action("app/0", "greet", &params).unwrap();
    let failing = s
        .controller
        .run_action("app/0", "write-then-fail", &BTreeMap::new())
        .unwrap();
    let model = s.settle();
    let greet = &model.actions[&id];
    assert_eq!(greet.status, "completed");
    assert_eq!(greet.results["greeting"], "hello ada");
    assert_eq!(greet.results["stdout"], "out\n");
    assert_eq!(greet.results["return-code"], "0");
    let failed = &model.actions[&failing];
    assert_eq!(
        (failed.status.as_str(), failed.message.as_str()),
        ("failed", "exit status 3")
    );
    let unit = model.unit("app/0").unwrap();
    assert!(
        unit.state.is_empty(),
        "state-set of a failed action is discarded"
    );
    assert_eq!(
        unit.workload.current.message, "about to fail",
        "status-set is immediate"
    );
    assert_eq!(
        unit.agent.current.status, "idle",
        "actions never put the unit in error"
    );
    // Bad input is refused before anything runs.
    assert!(
        s.controller
            .run_action("app/0", "greet", &BTreeMap::new())
            .unwrap_err()
            .to_string()
            .contains("\"name\" is required")
    );
    assert!(
        s.controller
            .run_action("app/0", "nope", &BTreeMap::new())
            .is_err()
    );
    assert!(s.controller.run_action("app/9", "greet", &params).is_err());
}

#[test]
fn config_changes_run_config_changed_and_bad_options_are_refused() {
    let s = Setup::new(Duration::from_secs(600));
    s.deploy_app(1);
    s.settle();
    let before = s
        .hooks("app/0")
        .iter()
        .filter(|h| *h == "config-changed")
        .count();
    s.controller
        .config_set(
            "app",
            &BTreeMap::from([("colour".to_owned(), "blue".to_owned())]),
        )
        .unwrap();
    let model = s.settle();
    assert_eq!(model.app("app").unwrap().config["colour"], "blue");
    let after = s
        .hooks("app/0")
        .iter()
        .filter(|h| *h == "config-changed")
        .count();
    assert_eq!(after, before + 1);
    let err = s
        .controller
        .config_set(
            "app",
            &BTreeMap::from([("size".to_owned(), "1".to_owned())]),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "application \"app\" has no config option \"size\""
    );
    s.controller
        .config_reset("app", &["colour".to_owned()])
        .unwrap();
    assert_eq!(s.settle().app("app").unwrap().config["colour"], "red");
}

#[test]
fn update_status_runs_on_its_timer() {
    let s = Setup::new(Duration::from_millis(300));
    s.deploy_app(1);
    s.settle();
    // Repeats on its own (no timing asserted: only that it keeps coming).
    let start = std::time::Instant::now();
    let runs = |s: &Setup| {
        s.hooks("app/0")
            .iter()
            .filter(|h| *h == "update-status")
            .count()
    };
    while runs(&s) < 3 {
        assert!(
            start.elapsed() < TIMEOUT,
            "update-status ran {} times",
            runs(&s)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let hooks = s.hooks("app/0");
    assert_eq!(
        hooks[..5],
        [
            "install",
            "peers-relation-created",
            "leader-elected",
            "config-changed",
            "start"
        ],
        "update-status never jumps the deploy hooks"
    );
}

#[test]
fn pebble_ready_fires_when_a_real_pebble_starts_and_again_when_it_restarts() {
    let pebble_bin =
        std::env::var("INDICO_SUBSTRATE_PEBBLE").unwrap_or_else(|_| "/root/go/bin/pebble".into());
    let s = Setup::new(Duration::from_secs(600));
    let pebble_dir = s.root.join("pebble/unit-app-0/workload");
    std::fs::create_dir_all(&pebble_dir).unwrap();
    let start_pebble = || {
        // In its own PID namespace Pebble is PID 1 and makes a new boot id per start,
        // as in a container.
        std::process::Command::new("unshare")
            .args([
                "--pid",
                "--fork",
                "--kill-child",
                &pebble_bin,
                "run",
                "--create-dirs",
            ])
            .env("PEBBLE", &pebble_dir)
            .env("PEBBLE_SOCKET", pebble_dir.join("pebble.socket"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the Pebble binary runs (set INDICO_SUBSTRATE_PEBBLE)")
    };
    s.deploy_app(1);
    let pebble = KillOnDrop(start_pebble());
    let count = |s: &Setup| {
        s.hooks("app/0")
            .iter()
            .filter(|h| *h == "workload-pebble-ready")
            .count()
    };
    let wait = |n: usize| {
        let start = std::time::Instant::now();
        while count(&s) < n {
            assert!(
                start.elapsed() < TIMEOUT,
                "no pebble-ready #{n}: {:?}",
                s.hooks("app/0")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait(1);
    drop(pebble);
    let _ = std::fs::remove_file(pebble_dir.join("pebble.socket"));
    let _pebble = KillOnDrop(start_pebble());
    wait(2);
}

#[test]
fn a_second_controller_resumes_the_agents_with_start_pebble_ready_and_update_status() {
    let pebble_bin =
        std::env::var("INDICO_SUBSTRATE_PEBBLE").unwrap_or_else(|_| "/root/go/bin/pebble".into());
    let s = Setup::new(Duration::from_secs(600));
    let pebble_dir = s.root.join("pebble/unit-app-0/workload");
    std::fs::create_dir_all(&pebble_dir).unwrap();
    let _pebble = KillOnDrop(
        std::process::Command::new("unshare")
            .args([
                "--pid",
                "--fork",
                "--kill-child",
                &pebble_bin,
                "run",
                "--create-dirs",
            ])
            .env("PEBBLE", &pebble_dir)
            .env("PEBBLE_SOCKET", pebble_dir.join("pebble.socket"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the Pebble binary runs (set INDICO_SUBSTRATE_PEBBLE)"),
    );
    s.deploy_app(1);
    let wait_for = |what: &str, done: &dyn Fn(&[String]) -> bool| {
        let start = std::time::Instant::now();
        while !done(&s.hooks("app/0")) {
            assert!(
                start.elapsed() < TIMEOUT,
                "never {what}: {:?}",
                s.hooks("app/0")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("pebble-ready", &|h| {
        h.iter().any(|x| x == "workload-pebble-ready")
    });
    s.settle();
    s.controller.shutdown();
    let before = s.hooks("app/0").len();

    // A new controller on the persisted model, as after a crash.
    let mut config = ControllerConfig::in_dir(&s.root);
    config.update_status_interval = Duration::from_millis(300);
    config.pebble_poll_interval = Duration::from_millis(100);
    let model = Model::load(&config.model_path).unwrap();
    let second = Controller::new(config, model, Vec::new());
    assert!(
        second
            .resume("nope", s.app_dispatcher.clone())
            .unwrap_err()
            .to_string()
            .contains("\"nope\" not found")
    );
    let units = second.resume("app", s.app_dispatcher.clone()).unwrap();
    assert_eq!(units, ["app/0"]);
    assert!(
        second
            .resume("app", s.app_dispatcher.clone())
            .unwrap_err()
            .to_string()
            .contains("already runs")
    );
    wait_for("start, pebble-ready and update-status again", &|h| {
        let after = &h[before.min(h.len())..];
        ["start", "workload-pebble-ready", "update-status"]
            .iter()
            .all(|x| after.iter().any(|y| y == x))
    });
    let after = s.hooks("app/0")[before..].to_vec();
    assert!(
        !after
            .iter()
            .any(|h| h == "install" || h == "config-changed"),
        "a resumed unit does not deploy again: {after:?}"
    );
    second.shutdown();
}

/// Kills (SIGKILL to `unshare --kill-child`, which takes Pebble with it) and reaps.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn scaling_up_joins_peers_and_scaling_down_departs_stops_and_removes() {
    let s = Setup::new(Duration::from_secs(600));
    s.deploy_app(1);
    s.settle();
    s.controller.scale("app", 2).unwrap();
    let model = s.settle();
    assert_eq!(model.app("app").unwrap().units.len(), 2);
    let leader = s.hooks("app/0");
    assert_eq!(
        leader[leader.len() - 2..],
        [
            "peers-relation-joined app/1",
            "peers-relation-changed app/1"
        ]
    );
    assert_eq!(
        s.hooks("app/1")[..3],
        [
            "install",
            "peers-relation-created",
            "leader-settings-changed"
        ]
    );

    s.controller.scale("app", 1).unwrap();
    let model = s
        .controller
        .wait_for(TIMEOUT, |m| m.app("app").is_ok_and(|a| a.units.len() == 1))
        .unwrap_or_else(|m| {
            panic!(
                "app/1 was not removed: {:?}",
                m.app("app").map(|a| a.units.keys().collect::<Vec<_>>())
            )
        });
    assert!(model.unit("app/1").is_err());
    // The removed unit's charm dir is gone with it; the debug log keeps its last hooks.
    assert!(!s.charm_dir("app/1").exists());
    let log = std::fs::read_to_string(s.controller.debug_log()).unwrap();
    let ran: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("unit-app-1:") && l.contains(" ran \""))
        .filter_map(|l| l.split('"').nth(1))
        .collect();
    assert_eq!(
        ran[ran.len() - 4..],
        [
            "peers-relation-departed",
            "peers-relation-broken",
            "stop",
            "remove"
        ]
    );
    let leader = s.hooks("app/0");
    assert_eq!(
        leader.last().map(String::as_str),
        Some("peers-relation-departed app/1")
    );
    assert_eq!(model.app("app").unwrap().leader.as_deref(), Some("app/0"));
}

#[test]
fn a_new_secret_revision_reaches_the_consumer_as_secret_changed() {
    let s = Setup::new(Duration::from_secs(600));
    s.deploy_app(1);
    s.deploy_store();
    s.settle();
    s.controller
        .config_set(
            "store",
            &BTreeMap::from([("colour".to_owned(), "secret".to_owned())]),
        )
        .unwrap();
    s.settle();
    s.controller.integrate("app", "store").unwrap();
    s.settle();
    let secret_file = s.charm_dir("app/0").join("secret.txt");
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), "one\n");
    let id = s
        .controller
        .run_action("store/0", "rotate", &BTreeMap::new())
        .unwrap();
    let model = s.settle();
    assert_eq!(
        model.actions[&id].status, "completed",
        "{:?}",
        model.actions[&id]
    );
    assert!(
        s.hooks("app/0").contains(&"secret-changed".to_owned()),
        "{:?}",
        s.hooks("app/0")
    );
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), "two\n");
    let secret = model.secrets.values().next().unwrap();
    assert_eq!((secret.latest(), secret.consumers["app/0"].tracked), (2, 2));
}
