//! The command line end to end with local (pod-less) charms: deploy starts a background
//! controller, then integrate, config, run, fault injection with recovery, status,
//! debug-log, scale, remove and down, with Juju-like output and errors; and a controller
//! killed mid-hook whose successor resumes the unit agents.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const DISPATCH: &str = r#"#!/bin/sh
set -eu
case "$JUJU_DISPATCH_PATH" in
  hooks/start) status-set active ;;
  hooks/config-changed) config-get colour > colour.txt ;;
  hooks/db-relation-joined)
    if [ "$(is-leader)" = True ]; then relation-set --app host=store.local; fi ;;
  actions/greet) action-set greeting="hello $(action-get name)" ;;
esac
"#;

fn charm(dir: &Path, metadata: &str) {
    charm_with(dir, metadata, DISPATCH);
}

fn charm_with(dir: &Path, metadata: &str, dispatch: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("metadata.yaml"), metadata).unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        "options:\n  colour: {type: string, default: red}\n  size: {type: int, default: 1}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("actions.yaml"),
        "greet:\n  params:\n    name: {type: string}\n  required: [name]\n",
    )
    .unwrap();
    juju_runtime::testing::write_executable(&dir.join("dispatch"), dispatch.as_bytes()).unwrap();
}

struct Substrate {
    _dir: tempfile::TempDir,
    state: PathBuf,
    root: PathBuf,
    /// `INDICO_SUBSTRATE_UPDATE_STATUS` for controllers this substrate starts.
    update_status: &'static str,
}

impl Substrate {
    fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_indico-substrate"))
            .arg("--state-dir")
            .arg(&self.state)
            .args(args)
            .env("INDICO_SUBSTRATE_RETRY_MIN", "0.3")
            .env("INDICO_SUBSTRATE_UPDATE_STATUS", self.update_status)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.cli(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Polls `status` until `done` holds for its output.
    fn status_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let status = self.ok(&["status"]);
            if done(&status) {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "never {what}:\n{status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Substrate {
    fn drop(&mut self) {
        let _ = self.cli(&["down"]);
    }
}

fn line_of<'a>(status: &'a str, start: &str) -> Vec<&'a str> {
    status
        .lines()
        .find(|l| l.starts_with(start))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default()
}

#[test]
fn a_model_from_deploy_to_down() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let s = Substrate {
        state: root.join("state"),
        root: root.clone(),
        _dir: dir,
        update_status: "600",
    };
    charm(
        &s.root.join("app"),
        "name: app\npeers:\n  peers: {interface: app-peers}\nrequires:\n  db: {interface: kv}\n",
    );
    charm(
        &s.root.join("store"),
        "name: store\nprovides:\n  db: {interface: kv}\n",
    );

    // Bad input first: nothing is running yet.
    assert!(s.fails(&["status"], 2).contains("no model"));
    assert!(
        s.fails(&["deploy", "nonsense"], 2)
            .contains("neither a charm directory nor a known provider")
    );

    let app_dir = s.root.join("app");
    let out = s.ok(&["deploy", app_dir.to_str().unwrap(), "-n", "2", "--local"]);
    assert!(out.contains("Deployed \"app\" with 2 unit(s)"), "{out}");
    s.ok(&["deploy", s.root.join("store").to_str().unwrap(), "--local"]);
    let status = s.status_until("active", |st| {
        line_of(st, "app/1")[..3] == ["app/1", "active", "idle"]
            && line_of(st, "app/0*")[..3] == ["app/0*", "active", "idle"]
    });
    assert_eq!(
        line_of(&status, "app/0*")[..3],
        ["app/0*", "active", "idle"]
    );
    assert_eq!(line_of(&status, "app ")[..4], ["app", "active", "2", "app"]);

    assert!(
        s.fails(&["integrate", "app", "nope"], 1)
            .contains("ERROR application \"nope\" not found")
    );
    assert!(
        s.ok(&["integrate", "app", "store"])
            .contains("Integrated app and store")
    );
    let status = s.status_until("related", |st| !line_of(st, "store:db").is_empty());
    assert_eq!(
        line_of(&status, "store:db"),
        ["store:db", "app:db", "kv", "regular"]
    );

    s.ok(&["config", "app", "colour=blue"]);
    assert_eq!(s.ok(&["config", "app", "colour"]), "blue\n");
    assert!(s.ok(&["config", "app"]).contains("source: user"));
    assert!(
        s.fails(&["config", "app", "shape=round"], 1)
            .contains("has no config option \"shape\"")
    );
    assert!(
        s.fails(&["config", "app", "size=big"], 1)
            .contains("expects a int value")
    );

    let out = s.ok(&["run", "app/0", "greet", "name=ada"]);
    assert!(out.contains("greeting: hello ada"), "{out}");
    assert!(
        s.fails(&["run", "app/0", "greet"], 1)
            .contains("\"name\" is required")
    );
    assert!(
        s.fails(&["run", "app/0", "fly"], 1)
            .contains("has no action \"fly\"")
    );

    // A hook tool fails once: the unit shows the failed hook, then recovers by itself.
    assert!(
        s.ok(&["fault", "config-get", "--unit", "app/0"])
            .contains("will fail")
    );
    s.ok(&["config", "app", "colour=green"]);
    let errored = s.status_until("in error", |st| {
        line_of(st, "app/0*").get(1) == Some(&"error")
    });
    assert!(
        errored.contains("hook failed: \"config-changed\""),
        "{errored}"
    );
    s.status_until("recovered", |st| {
        line_of(st, "app/0*")[..3] == ["app/0*", "active", "idle"]
    });
    let log = s.ok(&["debug-log", "--include", "app/0", "-n", "200"]);
    assert!(log.contains("ERROR injected fault: config-get"), "{log}");
    assert!(log.lines().all(|l| l.starts_with("unit-app-0:")), "{log}");
    assert!(
        s.fails(&["fault", "no-such-tool"], 1)
            .contains("unknown hook tool")
    );

    s.ok(&["scale", "app", "1"]);
    s.status_until("scaled down", |st| line_of(st, "app/1").is_empty());
    s.ok(&["remove", "store"]);
    s.status_until("store removed", |st| line_of(st, "store").is_empty());

    assert!(s.ok(&["down"]).contains("The model is gone."));
    assert!(!s.state.join("model.json").exists());
    assert!(
        s.fails(&["integrate", "a", "b"], 2)
            .contains("no controller runs")
    );
}

/// Logs every hook; `config-changed` with `colour=slow` waits for a `release` file.
const RESUMABLE: &str = r#"#!/bin/sh
set -eu
echo "${JUJU_HOOK_NAME:-action}" >> hooks.log
case "$JUJU_DISPATCH_PATH" in
  hooks/start) status-set active ;;
  hooks/config-changed)
    if [ "$(config-get colour)" = slow ]; then
      while [ ! -e release ]; do sleep 0.05; done
    fi
    config-get colour > colour.txt ;;
  actions/greet) action-set greeting="hello $(action-get name)" ;;
esac
"#;

/// The pid of the controller serving `state`, found by its command line.
fn controller_pid(state: &Path) -> i32 {
    let wanted = format!("--state-dir\0{}\0controller\0", state.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).ends_with(&wanted))
        })
        .expect("a controller runs for this state dir")
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "never {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_controller_started_after_one_died_resumes_the_unit_agents() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let s = Substrate {
        state: root.join("state"),
        root: root.clone(),
        _dir: dir,
        update_status: "1",
    };
    charm_with(&s.root.join("app"), "name: app\n", RESUMABLE);
    charm(&s.root.join("store"), "name: store\n");
    let unit_dir = s.state.join("local/agents/unit-app-0/charm");
    let hooks = || -> Vec<String> {
        std::fs::read_to_string(unit_dir.join("hooks.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    s.ok(&["deploy", s.root.join("app").to_str().unwrap(), "--local"]);
    s.status_until("active", |st| {
        line_of(st, "app/0*")[..3] == ["app/0*", "active", "idle"]
    });

    // The controller dies while config-changed runs, with an action queued behind it.
    s.ok(&["config", "app", "colour=slow"]);
    s.ok(&["run", "app/0", "greet", "name=ada", "--background"]);
    wait_until("config-changed blocked", || {
        hooks().iter().filter(|h| *h == "config-changed").count() == 2
    });
    let pid = controller_pid(&s.state);
    // Its process group: the controller and the hook it runs (it was started with
    // process_group(0), so the group id is its pid).
    let killed = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_until("the controller gone", || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |st| st.contains(") Z "))
    });
    let before = hooks().len();
    std::fs::write(unit_dir.join("release"), "").unwrap();

    // A command that starts a controller brings the agents back.
    s.ok(&["deploy", s.root.join("store").to_str().unwrap(), "--local"]);
    wait_until(
        "the action, the interrupted hook, start and update-status ran",
        || hooks().len() >= before + 4,
    );
    // As in Juju, actions run while a hook waits for its retry.
    let resumed = hooks()[before..].to_vec();
    assert_eq!(
        resumed[..4],
        ["action", "config-changed", "start", "update-status"],
        "{resumed:?}"
    );
    assert_eq!(
        std::fs::read_to_string(unit_dir.join("colour.txt")).unwrap(),
        "slow\n"
    );
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.state.join("model.json")).unwrap()).unwrap();
    let action = model["actions"]
        .as_object()
        .unwrap()
        .values()
        .find(|a| a["name"] == "greet")
        .unwrap();
    assert_eq!(action["status"], "completed", "{action}");
    assert_eq!(action["results"]["greeting"], "hello ada");

    // New work reaches the resumed agent.
    s.ok(&["config", "app", "colour=blue"]);
    wait_until("config-changed ran with blue", || {
        std::fs::read_to_string(unit_dir.join("colour.txt")).is_ok_and(|c| c == "blue\n")
    });
    s.status_until("idle", |st| {
        line_of(st, "app/0*")[..3] == ["app/0*", "active", "idle"]
    });

    // Killed while idle: the next command that needs a controller starts one by itself.
    let pid = controller_pid(&s.state);
    assert!(
        Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status()
            .unwrap()
            .success()
    );
    wait_until("the controller gone", || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |st| st.contains(") Z "))
    });
    s.ok(&["config", "app", "colour=green"]);
    wait_until("config-changed ran with green", || {
        std::fs::read_to_string(unit_dir.join("colour.txt")).is_ok_and(|c| c == "green\n")
    });
    assert_ne!(controller_pid(&s.state), pid);
    s.ok(&["down"]);
    for file in ["agents.json", "runtimes.json", "model.json"] {
        assert!(!s.state.join(file).exists(), "{file} outlived down");
    }
}
