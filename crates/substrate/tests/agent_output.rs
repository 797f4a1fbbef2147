//! The charm's output reaches the debug log while the hook runs, line by line, as in
//! Juju's `debug-log`: a shell-script charm prints a line, then waits for the test to
//! release it before printing more. Pod-less (host processes).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indico_substrate::agent::{Controller, ControllerConfig, LocalDispatcher};
use indico_substrate::model::Model;

const TIMEOUT: Duration = Duration::from_secs(30);

/// `install` prints one line, blocks until `release` exists, then writes to stderr and
/// ends with a stdout line that has no newline.
const DISPATCH: &str = r#"#!/bin/sh
set -eu
case "$JUJU_DISPATCH_PATH" in
  hooks/install)
    echo "step one done"
    while [ ! -e release ]; do sleep 0.05; done
    echo "step two warns" >&2
    printf 'last words' ;;
esac
"#;

/// Polls the debug log until `done` holds for its text; panics with the log on timeout.
fn log_until(path: &Path, what: &str, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if done(&log) {
            return log;
        }
        assert!(start.elapsed() < TIMEOUT, "never {what}:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn hook_output_reaches_the_debug_log_while_the_hook_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let charm = root.join("charm");
    std::fs::create_dir_all(&charm).unwrap();
    std::fs::write(charm.join("metadata.yaml"), "name: app\n").unwrap();
    juju_runtime::testing::write_executable(&charm.join("dispatch"), DISPATCH.as_bytes()).unwrap();
    let controller = Controller::new(
        ControllerConfig::in_dir(root),
        Model::new("output"),
        Vec::new(),
    );
    let dispatcher = Arc::new(LocalDispatcher::new(
        &root.join("juju"),
        &charm,
        Path::new(env!("CARGO_BIN_EXE_jujuc")),
    ));
    controller.deploy("app", &charm, 1, dispatcher).unwrap();
    let log_path = controller.debug_log().to_path_buf();

    let first = "unit-app-0: ";
    let log = log_until(&log_path, "showed the first line", |l| {
        l.contains("DEBUG unit.app/0.install step one done")
    });
    // The hook has not finished: it waits for `release`.
    assert!(!log.contains("step two"), "{log}");
    assert!(!log.contains("ran \"install\" hook"), "{log}");
    let model = controller.model();
    let agent = &model.app("app").unwrap().units[&0].agent.current;
    assert_eq!(
        (agent.status.as_str(), agent.message.as_str()),
        ("executing", "running install hook")
    );
    assert!(log.lines().all(|l| l.starts_with(first)), "{log}");

    std::fs::write(root.join("juju/agents/unit-app-0/charm/release"), "").unwrap();
    let log = log_until(&log_path, "finished the hook", |l| {
        l.contains("ran \"install\" hook")
    });
    let position = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{log}"))
    };
    let warned = position("WARNING unit.app/0.install step two warns");
    let last = position("DEBUG unit.app/0.install last words");
    assert!(position("step one done") < warned);
    assert!(warned.max(last) < position("ran \"install\" hook"), "{log}");
    controller.shutdown();
}
