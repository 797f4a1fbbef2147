//! HTTP load with `wrk` (Debian package `wrk`): a bounded run against one URL, optionally
//! inside the pod's network namespace (to reach uWSGI on the pod's loopback), with a Lua
//! `done` hook that prints the figures wrk's own output lacks (p80, every error kind) as
//! one JSON line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::BenchError;

/// The Lua script: wrk calls `done` once with the summary and the latency histogram.
const DONE_SCRIPT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'CHARM_BENCH_WRK {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p80_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(80),
    latency:percentile(99), latency.max))
end
"#;
/// The marker of the script's line in wrk's output.
const MARKER: &str = "CHARM_BENCH_WRK ";

/// One wrk run.
#[derive(Debug, Clone)]
pub struct WrkRun {
    /// The URL.
    pub url: String,
    /// The Host header.
    pub host: String,
    /// Open connections (concurrent clients).
    pub connections: u32,
    /// wrk threads.
    pub threads: u32,
    /// How long.
    pub duration: Duration,
    /// Run inside the network namespace of this process (the pod's), via nsenter.
    pub netns_pid: Option<u32>,
}

/// What the script printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrkFigures {
    /// Responses received (any status).
    pub requests: u64,
    /// Run time, µs.
    pub duration_us: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Connect errors.
    pub connect: u64,
    /// Read errors.
    pub read: u64,
    /// Write errors.
    pub write: u64,
    /// Responses with a status above 399.
    pub status: u64,
    /// Requests that timed out.
    pub timeout: u64,
    /// Median latency, µs.
    pub p50_us: u64,
    /// 80th percentile latency, µs.
    pub p80_us: u64,
    /// 99th percentile latency, µs.
    pub p99_us: u64,
    /// Largest latency, µs.
    pub max_us: u64,
}

impl WrkFigures {
    /// Completed responses per second.
    pub fn requests_per_second(&self) -> f64 {
        if self.duration_us == 0 {
            return 0.0;
        }
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }

    /// Failed attempts over all attempts: responses with HTTP >= 400, connect and write
    /// errors, timeouts. Read errors are reported apart (`read`, shown as "closed"): wrk
    /// counts one whenever the server closes a connection wrk meant to reuse, which uWSGI's
    /// http-socket does after every complete response (one "read error" per request while
    /// every response arrived). A connection lost before its response shows up as fewer
    /// requests per second, not here.
    pub fn error_rate(&self) -> f64 {
        let failures = self.status + self.connect + self.write + self.timeout;
        let attempts = self.requests + self.connect + self.write + self.timeout;
        if attempts == 0 {
            return 1.0;
        }
        failures as f64 / attempts as f64
    }
}

/// Writes the Lua script into `dir` and returns its path.
pub fn write_script(dir: &Path) -> Result<PathBuf, BenchError> {
    let path = dir.join("charm-bench-done.lua");
    std::fs::write(&path, DONE_SCRIPT).map_err(|e| BenchError::io("write", &path, e))?;
    Ok(path)
}

/// Runs wrk and parses the script's line.
pub fn run(spec: &WrkRun, script: &Path) -> Result<WrkFigures, BenchError> {
    let mut command = match spec.netns_pid {
        Some(pid) => {
            let mut c = Command::new("nsenter");
            c.arg(format!("--net=/proc/{pid}/ns/net")).arg("wrk");
            c
        }
        None => Command::new("wrk"),
    };
    command
        .arg(format!("-t{}", spec.threads))
        .arg(format!("-c{}", spec.connections))
        .arg(format!("-d{}s", spec.duration.as_secs().max(1)))
        .args(["--timeout", "5s", "-s"])
        .arg(script)
        .args(["-H", &format!("Host: {}", spec.host)])
        .arg(&spec.url);
    let what = format!("wrk -c{} {}", spec.connections, spec.url);
    let output = command.output().map_err(|e| BenchError::Command {
        command: what.clone(),
        detail: format!("cannot run (is the Debian package wrk installed?): {e}"),
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(BenchError::Command {
            command: what,
            detail: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    parse(&stdout).ok_or_else(|| BenchError::Malformed {
        what: format!("the output of {what}"),
        detail: format!("no {MARKER}line in {stdout:?}"),
    })
}

/// Finds and decodes the script's line in wrk's output.
pub fn parse(stdout: &str) -> Option<WrkFigures> {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(MARKER))
        .and_then(|json| serde_json::from_str(json).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_line_is_found_and_rates_follow() {
        let out = "Running 1s test @ http://x/\n  2 threads\nCHARM_BENCH_WRK {\"requests\":1000,\"duration_us\":2000000,\"bytes\":5,\"connect\":0,\"read\":0,\"write\":0,\"status\":10,\"timeout\":0,\"p50_us\":100,\"p80_us\":200,\"p99_us\":900,\"max_us\":1000}\n";
        let figures = parse(out).unwrap();
        assert_eq!(figures.p80_us, 200);
        assert_eq!(figures.requests_per_second(), 500.0);
        assert!((figures.error_rate() - 0.01).abs() < 1e-12);
        assert!(parse("Requests/sec: 10\n").is_none());
    }

    #[test]
    fn connections_the_server_closes_after_a_response_are_not_failures() {
        // uWSGI's http-socket closes every connection after its response.
        let out = "CHARM_BENCH_WRK {\"requests\":5002,\"duration_us\":10000000,\"bytes\":5,\"connect\":0,\"read\":5002,\"write\":0,\"status\":0,\"timeout\":0,\"p50_us\":100,\"p80_us\":200,\"p99_us\":900,\"max_us\":1000}\n";
        let figures = parse(out).unwrap();
        assert_eq!(figures.error_rate(), 0.0);
        let failing = WrkFigures {
            status: 2,
            timeout: 1,
            connect: 1,
            ..figures
        };
        // 2 statuses, 1 connect error and 1 timeout over 5002 responses + 2 failed attempts.
        assert!((failing.error_rate() - 4.0 / 5004.0).abs() < 1e-12);
    }

    #[test]
    fn no_attempt_at_all_is_all_errors() {
        let figures = WrkFigures {
            requests: 0,
            duration_us: 0,
            bytes: 0,
            connect: 0,
            read: 0,
            write: 0,
            status: 0,
            timeout: 0,
            p50_us: 0,
            p80_us: 0,
            p99_us: 0,
            max_us: 0,
        };
        assert_eq!(figures.error_rate(), 1.0);
        assert_eq!(figures.requests_per_second(), 0.0);
    }
}
