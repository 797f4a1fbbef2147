//! `charm-bench`: deploys the charm on the local substrate with a measuring dispatch and
//! prints every figure of issue #7 as a table, and as JSON.
//!
//! ```text
//! cargo run --release -p charm-bench -- [--quick] [--json out.json] [--only hooks,serving,...]
//! ```
//!
//! Sections: `size`, `hooks` (latency, memory, calls, restarts), `active` (cold deploy and
//! warm restart to HTTP 200), `serving`, `load`. Every pod step runs under the shared pod
//! lock (`/run/indico-pods.lock`) in `$INDICO_SUBSTRATE_DIR`, and ends with `down`.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use charm_bench::machine::Machine;
use charm_bench::phases::{self, Plan};
use charm_bench::report::{Report, SizeFigures};
use charm_bench::session::Session;
use charm_bench::substrate::Substrate;
use charm_bench::{BenchError, figures, payload, wrk};
use clap::Parser;

/// The sections, in the order they run.
const SECTIONS: [&str; 5] = ["size", "hooks", "active", "serving", "load"];

/// Benchmarks of the Indico charm on the local substrate.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Fewer runs (10 per hook, one option cycle), 3 s serving runs, no load run.
    #[arg(long)]
    quick: bool,
    /// Also write the report as JSON here (default: <target>/release/charm-bench-work/report.json).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Only these sections (comma-separated): size, hooks, active, serving, load.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// The charm repository (default: the current directory).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The substrate state directory (default: $INDICO_SUBSTRATE_DIR, else
    /// /var/lib/indico-substrate-bench).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// The pod lock shared by everyone who runs pods on this machine.
    #[arg(long, default_value = "/run/indico-pods.lock")]
    lock: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    for section in &args.only {
        if !SECTIONS.contains(&section.as_str()) {
            eprintln!(
                "charm-bench: unknown section {section:?} (sections: {})",
                SECTIONS.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    match run(&args) {
        Ok(report) => {
            print!("{}", report.render());
            if report.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("charm-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn wants(args: &Args, section: &str) -> bool {
    args.only.is_empty() || args.only.iter().any(|s| s == section)
}

fn run(args: &Args) -> Result<Report, BenchError> {
    let repo =
        std::fs::canonicalize(&args.repo).map_err(|e| BenchError::io("find", &args.repo, e))?;
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .ok_or_else(|| BenchError::Malformed {
            what: "this program's path".into(),
            detail: "has no directory".into(),
        })?;
    let work = exe_dir.join("charm-bench-work");
    std::fs::create_dir_all(&work).map_err(|e| BenchError::io("create", &work, e))?;
    let mut report = Report {
        date: now_utc(),
        machine: Some(Machine::current()),
        quick: args.quick,
        load_average_at_start: load_average(),
        ..Report::default()
    };
    let plan = if args.quick {
        Plan {
            repeats: 9,
            option_cycles: 1,
            serving_seconds: 3,
            load_seconds: 0,
        }
    } else {
        Plan {
            repeats: 19,
            option_cycles: 2,
            serving_seconds: 10,
            load_seconds: 60,
        }
    };

    eprintln!("==> building the charm (release), the measuring dispatch and the substrate");
    build_helpers(&repo)?;
    let binary = charm_pack::release_build::build_release_binary(&repo)?;
    let packed = charm_pack::pack(
        &repo,
        &binary,
        &charm_pack::manifest::UBUNTU_24_04_AMD64,
        &work,
    )?;
    if wants(args, "size") {
        report.size = Some(SizeFigures {
            charm_bytes: packed.size,
            binary_bytes: packed.binary_size,
        });
    }
    let pods = ["hooks", "active", "serving", "load"]
        .iter()
        .any(|s| wants(args, s) && !(*s == "load" && args.quick));
    if pods {
        let dispatch = work.join("dispatch");
        payload::assemble(&exe_dir.join("charm-bench-dispatch"), &binary, &dispatch)?;
        let script = wrk::write_script(&work)?;
        let state_dir = args
            .state_dir
            .clone()
            .or_else(|| std::env::var_os("INDICO_SUBSTRATE_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("/var/lib/indico-substrate-bench"));
        let substrate = Substrate {
            cli: exe_dir.join("indico-substrate"),
            state_dir,
            repo: repo.clone(),
            update_status_seconds: 30,
        };
        eprintln!("==> waiting for the pod lock {}", args.lock.display());
        let _lock = lock(&args.lock)?;
        report.load_average_at_start = load_average();
        let outcome = on_pods(
            args,
            &plan,
            &substrate,
            &dispatch,
            &script,
            &work,
            &mut report,
        );
        eprintln!("==> down");
        if let Err(e) = substrate.down() {
            report.failures.push(format!("down: {e}"));
        }
        if let Err(e) = outcome {
            report.failures.push(e.to_string());
        }
    }
    let json_path = args
        .json
        .clone()
        .unwrap_or_else(|| work.join("report.json"));
    let json = serde_json::to_vec_pretty(&report).map_err(|e| BenchError::Malformed {
        what: "the report".into(),
        detail: e.to_string(),
    })?;
    std::fs::write(&json_path, json).map_err(|e| BenchError::io("write", &json_path, e))?;
    eprintln!("==> JSON report: {}", json_path.display());
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn on_pods(
    args: &Args,
    plan: &Plan,
    substrate: &Substrate,
    dispatch: &Path,
    script: &Path,
    work: &Path,
    report: &mut Report,
) -> Result<(), BenchError> {
    eprintln!("==> down (a clean start)");
    substrate.down()?;
    eprintln!(
        "==> building the images when missing (the first build in a state dir takes minutes)"
    );
    substrate.build_images()?;
    let session = Session::prepare(substrate.clone())?;
    let (cold, install) = phases::deploy_cold(&session, dispatch, plan)?;
    if wants(args, "active") {
        report.time_to_active.push(cold);
    }
    if wants(args, "hooks") {
        report.hooks.extend(figures::hook_figures(
            &session,
            "install",
            "deploy (run 1), then repeats in the same hook context",
            &install,
        ));
    }
    phases::add_admin(&session)?;
    // Each phase after the deploy stands alone: a failure is reported and the next runs.
    let mut failed = Vec::new();
    let mut phase = |name: &str, outcome: Result<(), BenchError>| {
        if let Err(e) = outcome {
            eprintln!("charm-bench: {name} failed: {e}");
            failed.push(format!("{name}: {e}"));
        }
    };
    if wants(args, "hooks") {
        phase("hooks", phases::hooks(&session, plan, report));
    }
    if wants(args, "active") || wants(args, "hooks") {
        phase("warm restart", phases::warm(&session, plan, report));
    }
    if wants(args, "serving") {
        phase("serving", phases::serving(&session, plan, script, report));
    }
    if wants(args, "load") && plan.load_seconds > 0 {
        phase("load", phases::load(&session, plan, script, report));
    }
    report.failures.extend(failed);
    // Keep the raw records next to the report, whatever happened.
    let kept = work.join("runs.jsonl");
    if std::fs::copy(session.runs_path(), &kept).is_ok() {
        report.records_path = Some(kept.display().to_string());
    }
    Ok(())
}

/// Builds what the bench runs besides itself: the measuring dispatch and the substrate's
/// binaries (`indico-substrate`, `jujuc`), into this program's target directory.
fn build_helpers(repo: &Path) -> Result<(), BenchError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "charm-bench",
            "-p",
            "indico-substrate",
            "--bins",
        ])
        .current_dir(repo)
        .status()
        .map_err(|e| BenchError::io("run", "cargo", e))?;
    if status.success() {
        Ok(())
    } else {
        Err(BenchError::Command {
            command: "cargo build --release -p charm-bench -p indico-substrate".into(),
            detail: status.to_string(),
        })
    }
}

/// Takes the shared pod lock (blocking); released when the file is dropped.
fn lock(path: &Path) -> Result<File, BenchError> {
    let file = File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| BenchError::io("open", path, e))?;
    // SAFETY: flock on a descriptor we own, for the life of `file`.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    if r != 0 {
        return Err(BenchError::io(
            "lock",
            path,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(file)
}

fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn now_utc() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
