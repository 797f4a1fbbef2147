//! `up`: the README's main job in one command. Prepares the host, builds the charm, deploys
//! Indico with PostgreSQL and both Redis applications on the local substrate, waits until
//! the unit is active, and prints where Indico answers.
//!
//! Each step is idempotent: a second run finds the packages, the images (content-hashed),
//! the release build and the applications in place, and only waits and prints.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{CliError, deploy, load_model, model_path, send};
use crate::cli::api::{Request, Response};

/// The applications `up` deploys next to the charm, and the endpoints they serve.
const BACKENDS: [(&str, &str, &str); 3] = [
    ("postgresql", "postgresql", "database"),
    ("redis", "redis-broker", "redis-broker"),
    ("redis", "redis-cache", "redis-cache"),
];

/// The charm's application name.
const APP: &str = "indico";

/// Runs the whole main job; `repo` is this repository, `wait` the time allowed to reach
/// active once deployed.
pub fn up(state_dir: &Path, repo: &Path, wait: Duration) -> Result<(), CliError> {
    step("preparing the host (packages, Pebble)");
    run(
        Command::new(repo.join("tests/host-setup")),
        "tests/host-setup",
    )?;

    step("building the charm and the hook tool (release)");
    // `cargo run -p indico-substrate` builds this CLI alone; the controller also needs
    // `jujuc` next to it. Each package is built on its own, with the features it is built
    // with everywhere else, so neither build invalidates the other.
    for (package, binary) in [
        ("indico-charm", "indico-charm"),
        ("indico-substrate", "jujuc"),
    ] {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args([
                "build",
                "--release",
                "--locked",
                "-p",
                package,
                "--bin",
                binary,
            ])
            .current_dir(repo);
        run(build, &format!("cargo build --release --bin {binary}"))?;
    }

    let deployed =
        model_path(state_dir).exists() && load_model(state_dir)?.applications.contains_key(APP);
    if deployed {
        step("indico is already deployed: waiting for it");
    } else {
        step("building the images and deploying indico (the first run takes minutes)");
        let binary = release_binary(repo);
        deploy(
            state_dir,
            &repo.to_string_lossy(),
            Some(APP.to_owned()),
            1,
            false,
            Some(repo.to_path_buf()),
            Some(&binary),
        )?;
        for (provider, app, endpoint) in BACKENDS {
            step(&format!("deploying {app} and integrating {APP}:{endpoint}"));
            deploy(
                state_dir,
                provider,
                Some(app.to_owned()),
                1,
                false,
                None,
                None,
            )?;
            integrate(state_dir, &format!("{APP}:{endpoint}"), app)?;
        }
    }

    step("waiting for indico/0 to be active");
    let address = wait_for_active(state_dir, wait)?;
    println!();
    println!("Indico answers at http://{address}:8080/ (Host: {APP}.local, the default site_url)");
    println!("  curl -H 'Host: {APP}.local' http://{address}:8080/");
    println!(
        "  cargo run --release -p indico-substrate -- status    (also: pods, debug-log, run indico/0 add-admin ...)"
    );
    Ok(())
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

fn run(mut command: Command, what: &str) -> Result<(), CliError> {
    let status = command
        .status()
        .map_err(|e| CliError::Other(format!("cannot run {what}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(CliError::Other(format!("{what} failed ({status})")))
    }
}

/// Where `cargo build --release` put the charm (honours `CARGO_TARGET_DIR`).
fn release_binary(repo: &Path) -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo.join("target"))
        .join("release/indico-charm")
}

fn integrate(state_dir: &Path, a: &str, b: &str) -> Result<(), CliError> {
    let request = Request::Integrate {
        a: a.to_owned(),
        b: b.to_owned(),
    };
    match send(state_dir, &request, Duration::from_secs(600))? {
        Response::Error { message } => Err(CliError::Controller(message)),
        _ => Ok(()),
    }
}

/// Polls the model until `indico/0` is active; prints each new status on the way. Returns
/// the pod's address.
fn wait_for_active(state_dir: &Path, wait: Duration) -> Result<String, CliError> {
    let unit_name = format!("{APP}/0");
    let start = Instant::now();
    let mut last = String::new();
    loop {
        let model = load_model(state_dir)?;
        let unit = model.app(APP)?.unit(&unit_name).cloned();
        if let Some(unit) = unit {
            let now = format!(
                "{} {}: {} | agent {}",
                unit_name,
                unit.workload.current.status,
                unit.workload.current.message,
                unit.agent.current.status
            );
            if now != last {
                eprintln!("    [{:>4}s] {now}", start.elapsed().as_secs());
                last = now;
            }
            if unit.workload.current.status == "active" {
                return unit.address.ok_or_else(|| {
                    CliError::Other(format!("{unit_name} is active but has no address"))
                });
            }
        }
        if start.elapsed() > wait {
            return Err(CliError::Other(format!(
                "{unit_name} is not active after {} s (last: {last}); see `indico-substrate debug-log`",
                wait.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}
