//! End to end with the real charm: `deploy` the Indico charm from this repository into a
//! podman pod, play PostgreSQL and two Redis applications with real servers, integrate,
//! wait for Active and `5/5 Running`; then make `relation-get` fail once and watch the
//! unit go to `error` with `hook failed: "config-changed"` and back to Active on its own.
//!
//! Slow (minutes) and needs root, podman, PostgreSQL, Redis and the built images, so it
//! is ignored by default: `cargo test -p indico-substrate --test cli_pods_indico --
//! --ignored --nocapture`. It uses the default state dir (the image store is shared with
//! the engine's own tests) and its own application names; the charm binary comes from
//! `$INDICO_CHARM_BINARY` or is built with `cargo build --release -p indico-charm`; with
//! `$INDICO_CHARM_DIR` naming an unpacked `.charm` (`charm-pack --unpack-to`), that package
//! is deployed instead, as Juju would (tests/run does this).

mod support;

use std::time::{Duration, Instant};
use support::{cli, ok};

const APP: &str = "indico-cli";
const UNIT: &str = "indico-cli/0";
const REMOTES: [(&str, &str); 3] = [
    ("postgresql", "pg-cli"),
    ("redis", "redis-broker-cli"),
    ("redis", "redis-cache-cli"),
];

fn unit_line(status: &str) -> Vec<String> {
    status
        .lines()
        .find(|l| l.starts_with(&format!("{UNIT}*")) || l.starts_with(&format!("{UNIT} ")))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn wait_status(what: &str, timeout: Duration, mut done: impl FnMut(&[String]) -> bool) -> String {
    let start = Instant::now();
    loop {
        let status = ok(&["status"]);
        if done(&unit_line(&status)) {
            println!("{what} after {:.1} s", start.elapsed().as_secs_f64());
            return status;
        }
        assert!(
            start.elapsed() < timeout,
            "not {what} within {} s:\n{status}",
            timeout.as_secs()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Removes this test's applications (and the controller, when the test started it).
struct Cleanup {
    started_controller: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.started_controller {
            let _ = cli(&["down"]);
            return;
        }
        for app in [APP, REMOTES[0].1, REMOTES[1].1, REMOTES[2].1] {
            let _ = cli(&["remove", app]);
        }
    }
}

#[test]
#[ignore = "slow (minutes): runs the real charm in a podman pod; needs root, podman, PostgreSQL, Redis"]
fn the_charm_reaches_active_in_a_pod_and_recovers_from_a_failed_hook() {
    let state_dir = indico_substrate::engine::StateDir::default_path();
    let controller_was_running = indico_substrate::cli::api::is_running(&state_dir);
    let _cleanup = Cleanup {
        started_controller: !controller_was_running,
    };

    let started = Instant::now();
    support::deploy_charm(APP);
    for (provider, app) in REMOTES {
        ok(&["deploy", provider, app]);
    }
    ok(&["integrate", APP, REMOTES[0].1]);
    ok(&["integrate", &format!("{APP}:redis-broker"), REMOTES[1].1]);
    ok(&["integrate", &format!("{APP}:redis-cache"), REMOTES[2].1]);
    let status = wait_status("active", Duration::from_secs(900), |line| {
        line.get(1).map(String::as_str) == Some("active")
    });
    println!(
        "time to active: {:.1} s\n{status}",
        started.elapsed().as_secs_f64()
    );
    let pods = ok(&["pods"]);
    let row: Vec<&str> = pods
        .lines()
        .find(|l| l.starts_with("indico-cli-0"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(row[..4], ["indico-cli-0", "5/5", "Running", "0"], "{pods}");

    // Active comes as soon as the charm has all its data; relation hooks may still be
    // queued. Let the agent settle (active and idle on consecutive polls), so that the
    // injected fault meets the config-changed this test causes, not a queued hook.
    let mut settled = 0;
    wait_status("settled", Duration::from_secs(300), |line| {
        let calm = line.get(1).map(String::as_str) == Some("active")
            && line.get(2).map(String::as_str) == Some("idle");
        settled = if calm { settled + 1 } else { 0 };
        settled >= 5
    });
    ok(&["fault", "relation-get", "--unit", UNIT]);
    ok(&["config", APP, "indico_support_email=help@example.com"]);
    let status = wait_status("in error", Duration::from_secs(120), |line| {
        line.get(1).map(String::as_str) == Some("error")
    });
    // Whichever hook met the fault (config-changed, unless Juju queued another first),
    // the unit says which one failed, as Juju does.
    let unit = status
        .lines()
        .find(|l| l.starts_with(UNIT))
        .unwrap_or_default();
    assert!(unit.contains("hook failed: \""), "{status}");
    println!("failed as injected: {unit}");
    wait_status("active again", Duration::from_secs(300), |line| {
        line.get(1).map(String::as_str) == Some("active")
    });
}
