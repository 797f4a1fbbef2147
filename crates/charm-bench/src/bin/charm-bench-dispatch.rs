//! `charm-bench-dispatch`: the measuring `dispatch` the bench installs in the unit's charm
//! container. It carries the real charm binary (see `charm_bench::payload`), runs it for
//! the hook (and, when the bench's control file asks, runs it again with the same
//! environment in the same hook context), and appends one `RunRecord` per run to the bench
//! directory: wall time and peak RSS of the charm process itself (wait4), the Pebble counts
//! from the charm's hook-end line, the services restarted, and the run's time window.
//!
//! Without the bench directory it is a transparent dispatch: one run, nothing recorded.
//! Its exit code is the first (real) run's.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use charm_bench::record::{
    BENCH_DIR_IN_CONTAINER, CONTROL_FILE, Control, PROXY_SOCKET, RUNS_FILE, RunRecord,
    parse_hook_end_line,
};
use charm_bench::restarts::{ServicesSnapshot, compare, snapshot};
use charm_bench::{BenchError, payload};

/// The workload containers whose services are watched.
const CONTAINERS: [&str; 4] = [
    "indico",
    "indico-celery",
    "indico-nginx",
    "nginx-prometheus-exporter",
];
/// Overrides the bench directory (tests on the host; Juju's environment never has it).
const BENCH_DIR_ENV: &str = "CHARM_BENCH_DIR";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("charm-bench-dispatch: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, BenchError> {
    let exe = std::env::current_exe().map_err(|e| BenchError::io("locate", "dispatch", e))?;
    let charm_dir = exe
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let payload = payload::read_payload(&exe)?.ok_or_else(|| BenchError::Malformed {
        what: exe.display().to_string(),
        detail: "carries no charm binary (build it with charm_bench::payload::assemble)".into(),
    })?;
    let real = payload::install_payload(&payload, &charm_dir)?;

    let action = std::env::var("JUJU_ACTION_NAME").ok();
    let hook = action.clone().unwrap_or_else(hook_name);
    let bench_dir = std::env::var_os(BENCH_DIR_ENV)
        .map_or_else(|| PathBuf::from(BENCH_DIR_IN_CONTAINER), PathBuf::from);
    if !bench_dir.is_dir() {
        let status = Command::new(&real)
            .status()
            .map_err(|e| BenchError::io("run", &real, e))?;
        return Ok(exit_code(status.code()));
    }
    let control = Control::load(&bench_dir.join(CONTROL_FILE))?;
    let repeats = if action.is_some() {
        0
    } else {
        control.repeats_for(&hook)
    };
    let containers_root = bench_dir
        .parent()
        .map_or_else(|| PathBuf::from("/charm/containers"), Path::to_path_buf);
    let sockets: BTreeMap<String, PathBuf> = CONTAINERS
        .iter()
        .map(|c| (c.to_string(), containers_root.join(c).join("pebble.socket")))
        .collect();
    let proxy = bench_dir.join(PROXY_SOCKET);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::io("start", "the async runtime", e))?;

    let mut first_code = None;
    for run in 0..=repeats {
        let before = runtime.block_on(snapshot(&sockets));
        let proxied = proxy.exists();
        let measured = measure(&real, proxied.then_some(proxy.as_path()))?;
        let after: ServicesSnapshot = runtime.block_on(snapshot(&sockets));
        let changes = compare(&before, &after);
        // The charm's stdout is Juju's DEBUG log: pass it on.
        let _ = std::io::stdout().write_all(&measured.stdout);
        let counts = parse_hook_end_line(&String::from_utf8_lossy(&measured.stdout));
        let record = RunRecord {
            hook: hook.clone(),
            run,
            wall_us: measured.wall_us,
            max_rss_kib: measured.max_rss_kib,
            exit_code: measured.exit_code,
            pebble_requests: counts.map(|c| c.0),
            pebble_writes: counts.map(|c| c.1),
            restarted: changes.restarted,
            started: changes.started,
            stopped: changes.stopped,
            tools_proxied: proxied,
            start_unix_us: measured.start_unix_us,
            end_unix_us: measured.end_unix_us,
        };
        append(&bench_dir.join(RUNS_FILE), &record)?;
        if run == 0 {
            first_code = Some(measured.exit_code);
        }
    }
    Ok(exit_code(first_code.flatten()))
}

/// Juju 3 sets `JUJU_HOOK_NAME`; older agents only `JUJU_DISPATCH_PATH` (`hooks/<name>`).
fn hook_name() -> String {
    std::env::var("JUJU_HOOK_NAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::env::var("JUJU_DISPATCH_PATH")
                .ok()
                .and_then(|p| p.rsplit('/').next().map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn exit_code(code: Option<i32>) -> ExitCode {
    match code {
        Some(0) => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::FAILURE,
    }
}

struct Measured {
    wall_us: u64,
    max_rss_kib: u64,
    exit_code: Option<i32>,
    stdout: Vec<u8>,
    start_unix_us: u64,
    end_unix_us: u64,
}

fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Runs the charm once with this process's environment (the agent socket redirected to the
/// counting proxy when there is one) and reaps it with wait4 for its own rusage.
fn measure(real: &Path, proxy: Option<&Path>) -> Result<Measured, BenchError> {
    let mut command = Command::new(real);
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    if let Some(proxy) = proxy {
        command.env("JUJU_AGENT_SOCKET_ADDRESS", proxy);
    }
    let start_unix_us = unix_us();
    let start = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| BenchError::io("run", real, e))?;
    let mut stdout = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_end(&mut stdout)
            .map_err(|e| BenchError::io("read the stdout of", real, e))?;
    }
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own unreaped child (std's Child is never waited on after this),
    // and both pointers are to live locals.
    let reaped = loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall_us = start.elapsed().as_micros() as u64;
    let end_unix_us = unix_us();
    if reaped != pid {
        return Err(BenchError::io(
            "wait for",
            real,
            std::io::Error::last_os_error(),
        ));
    }
    let exit = std::process::ExitStatus::from_raw(status);
    Ok(Measured {
        wall_us,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        exit_code: exit.code(),
        stdout,
        start_unix_us,
        end_unix_us,
    })
}

/// Appends one JSON line in a single write (O_APPEND keeps concurrent units' lines whole).
fn append(path: &Path, record: &RunRecord) -> Result<(), BenchError> {
    let mut line = serde_json::to_vec(record).map_err(|e| BenchError::Malformed {
        what: "a run record".into(),
        detail: e.to_string(),
    })?;
    line.push(b'\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| BenchError::io("open", path, e))?;
    file.write_all(&line)
        .map_err(|e| BenchError::io("append to", path, e))
}
