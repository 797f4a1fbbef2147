//! The bench's results: one serialisable [`Report`] (the JSON) and its human table.

use std::fmt::Write as _;

use serde::Serialize;

use crate::machine::Machine;
use crate::stats::Summary;
use crate::wrk::WrkFigures;

/// Everything one bench run measured; sections not run are empty.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// When the bench ran (RFC 3339, UTC).
    pub date: String,
    /// Where.
    pub machine: Option<Machine>,
    /// The 1-minute load average when the measurements started (other work on the machine).
    pub load_average_at_start: Option<f64>,
    /// `--quick`: fewer runs, shorter serving runs, no load run.
    pub quick: bool,
    /// Package and binary size.
    pub size: Option<SizeFigures>,
    /// Hook latency, memory and calls.
    pub hooks: Vec<HookFigures>,
    /// Services restarted per hook case.
    pub restarts: Vec<RestartCase>,
    /// Time to HTTP 200.
    pub time_to_active: Vec<TimeToActive>,
    /// Serving through nginx and directly against uWSGI.
    pub serving: Vec<ServingCase>,
    /// The load test.
    pub load: Option<LoadFigures>,
    /// The raw run records (JSON lines) this report was computed from.
    pub records_path: Option<String>,
    /// Sections that failed, with why.
    pub failures: Vec<String>,
}

/// The .charm and the binary.
#[derive(Debug, Clone, Serialize)]
pub struct SizeFigures {
    /// The packed .charm, bytes.
    pub charm_bytes: u64,
    /// The dispatch binary, bytes.
    pub binary_bytes: u64,
}

/// One hook case over its runs.
#[derive(Debug, Clone, Serialize)]
pub struct HookFigures {
    /// What was measured (e.g. `config-changed, no-op`).
    pub case: String,
    /// How the runs were made.
    pub trigger: String,
    /// Wall time of the charm process, ms.
    pub wall_ms: Summary,
    /// Peak RSS of the charm process, MiB.
    pub max_rss_mib: Summary,
    /// Hook-tool calls per run (runs that went through the counting proxy).
    pub tool_calls: Option<Summary>,
    /// Pebble requests per run.
    pub pebble_requests: Option<Summary>,
    /// Pebble writes (non-GET) per run.
    pub pebble_writes: Option<Summary>,
    /// Services restarted per run.
    pub restarted: Summary,
    /// Runs that exited non-zero.
    pub failed_runs: usize,
}

/// Services restarted by one hook case.
#[derive(Debug, Clone, Serialize)]
pub struct RestartCase {
    /// The case (`no-op config-changed`, `site_url=...`).
    pub case: String,
    /// Runs the case covers.
    pub runs: usize,
    /// Services restarted (summed over the runs), `container/service`.
    pub restarted: Vec<String>,
    /// Services started.
    pub started: Vec<String>,
    /// Services stopped.
    pub stopped: Vec<String>,
}

/// Seconds to the first HTTP 200 on :8080.
#[derive(Debug, Clone, Serialize)]
pub struct TimeToActive {
    /// `cold` or `warm`.
    pub case: String,
    /// From what.
    pub from: String,
    /// To the first 200.
    pub seconds_to_http_200: f64,
    /// To the unit being active and idle.
    pub seconds_to_active: Option<f64>,
}

/// One serving run.
#[derive(Debug, Clone, Serialize)]
pub struct ServingCase {
    /// e.g. `static asset via nginx`.
    pub case: String,
    /// The URL (inside the pod's network namespace).
    pub url: String,
    /// Connections.
    pub connections: u32,
    /// Seconds.
    pub seconds: u64,
    /// Responses per second.
    pub requests_per_second: f64,
    /// wrk's figures.
    pub wrk: WrkFigures,
}

/// The load test against the home page.
#[derive(Debug, Clone, Serialize)]
pub struct LoadFigures {
    /// The URL (the pod's address, from the host).
    pub url: String,
    /// Concurrent clients.
    pub clients: u32,
    /// Seconds.
    pub seconds: u64,
    /// 80th percentile latency, ms.
    pub p80_ms: f64,
    /// Error rate (0..1).
    pub error_rate: f64,
    /// p80 < 1.5 s and errors < 1 %.
    pub meets_bar: bool,
    /// Responses per second.
    pub requests_per_second: f64,
    /// wrk's figures.
    pub wrk: WrkFigures,
}

fn smm(s: &Summary, digits: usize) -> String {
    format!(
        "{:.d$} / {:.d$} / {:.d$}",
        s.min,
        s.median,
        s.max,
        d = digits
    )
}

fn opt_median(s: &Option<Summary>) -> String {
    match s {
        Some(s) if s.min == s.max => format!("{}", s.median),
        Some(s) => format!("{} ({}-{})", s.median, s.min, s.max),
        None => "-".into(),
    }
}

impl Report {
    /// The human table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "charm-bench {}", self.date);
        if let Some(m) = &self.machine {
            let _ = writeln!(
                out,
                "machine: {} CPUs, {}, {} MiB RAM, Linux {}; 1-min load average at start: {}",
                m.nproc,
                m.cpu_model,
                m.memory_mib,
                m.kernel,
                self.load_average_at_start
                    .map_or_else(|| "?".into(), |l| format!("{l:.2}"))
            );
        }
        if self.quick {
            let _ = writeln!(out, "(--quick: fewer runs, 3 s serving runs, no load run)");
        }
        if !self.hooks.is_empty() {
            let _ = writeln!(
                out,
                "\nHooks: the charm process itself (wall ms, peak RSS MiB: min / median / max)"
            );
            let _ = writeln!(
                out,
                "{:<38} {:>3}  {:<24} {:<20} {:>10} {:>12} {:>7} {:>9}",
                "case",
                "n",
                "wall ms",
                "RSS MiB",
                "tool calls",
                "pebble reqs",
                "writes",
                "restarts"
            );
            for h in &self.hooks {
                let _ = writeln!(
                    out,
                    "{:<38} {:>3}  {:<24} {:<20} {:>10} {:>12} {:>7} {:>9}",
                    h.case,
                    h.wall_ms.n,
                    smm(&h.wall_ms, 1),
                    smm(&h.max_rss_mib, 1),
                    opt_median(&h.tool_calls),
                    opt_median(&h.pebble_requests),
                    opt_median(&h.pebble_writes),
                    opt_median(&Some(h.restarted)),
                );
            }
            for h in &self.hooks {
                let _ = writeln!(out, "  {}: {}", h.case, h.trigger);
                if h.failed_runs > 0 {
                    let _ = writeln!(out, "    {} run(s) exited non-zero", h.failed_runs);
                }
            }
        }
        if !self.restarts.is_empty() {
            let _ = writeln!(out, "\nServices restarted per hook");
            for r in &self.restarts {
                let list = |v: &Vec<String>| {
                    if v.is_empty() {
                        "none".to_owned()
                    } else {
                        v.join(", ")
                    }
                };
                let _ = writeln!(
                    out,
                    "  {:<52} runs {:>2}  restarted: {}{}{}",
                    r.case,
                    r.runs,
                    list(&r.restarted),
                    if r.started.is_empty() {
                        String::new()
                    } else {
                        format!("; started: {}", list(&r.started))
                    },
                    if r.stopped.is_empty() {
                        String::new()
                    } else {
                        format!("; stopped: {}", list(&r.stopped))
                    },
                );
            }
        }
        if !self.time_to_active.is_empty() {
            let _ = writeln!(out, "\nTime to active (HTTP 200 on :8080 through nginx)");
            for t in &self.time_to_active {
                let _ = writeln!(
                    out,
                    "  {:<5} {:>6.1} s to HTTP 200{}   from {}",
                    t.case,
                    t.seconds_to_http_200,
                    t.seconds_to_active
                        .map_or_else(String::new, |s| format!(", {s:.1} s to active")),
                    t.from
                );
            }
        }
        if !self.serving.is_empty() {
            let _ = writeln!(
                out,
                "\nServing (wrk on the pod's loopback, 2 threads)\n  {:<36} {:>5} {:>4} {:>9} {:>8} {:>8} {:>7} {:>7}",
                "case", "conns", "s", "req/s", "p50 ms", "p99 ms", "errors", "closed"
            );
            for s in &self.serving {
                let _ = writeln!(
                    out,
                    "  {:<36} {:>5} {:>4} {:>9.0} {:>8.2} {:>8.2} {:>6.2}% {:>7}",
                    s.case,
                    s.connections,
                    s.seconds,
                    s.requests_per_second,
                    s.wrk.p50_us as f64 / 1e3,
                    s.wrk.p99_us as f64 / 1e3,
                    s.wrk.error_rate() * 100.0,
                    s.wrk.read
                );
            }
        }
        if let Some(l) = &self.load {
            let _ = writeln!(
                out,
                "\nLoad: {} clients for {} s against {} (from the host)\n  p80 {:.0} ms, p50 {:.0} ms, p99 {:.0} ms, {:.1} req/s, errors {:.2}% -> {} (bar: p80 < 1.5 s, errors < 1 %)",
                l.clients,
                l.seconds,
                l.url,
                l.p80_ms,
                l.wrk.p50_us as f64 / 1e3,
                l.wrk.p99_us as f64 / 1e3,
                l.requests_per_second,
                l.error_rate * 100.0,
                if l.meets_bar {
                    "meets the bar"
                } else {
                    "MISSES the bar"
                }
            );
        }
        if let Some(s) = &self.size {
            let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
            let _ = writeln!(
                out,
                "\nSize: .charm {} bytes ({:.1} MiB), dispatch binary {} bytes ({:.1} MiB)",
                s.charm_bytes,
                mib(s.charm_bytes),
                s.binary_bytes,
                mib(s.binary_bytes)
            );
        }
        for f in &self.failures {
            let _ = writeln!(out, "\nFAILED: {f}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_each_section_that_ran() {
        let summary = Summary::of(&[1.0, 2.0, 3.0]).unwrap();
        let report = Report {
            date: "2026-01-01T00:00:00Z".into(),
            hooks: vec![HookFigures {
                case: "update-status".into(),
                trigger: "timer".into(),
                wall_ms: summary,
                max_rss_mib: summary,
                tool_calls: Some(Summary::of(&[19.0]).unwrap()),
                pebble_requests: None,
                pebble_writes: None,
                restarted: Summary::of(&[0.0]).unwrap(),
                failed_runs: 1,
            }],
            size: Some(SizeFigures {
                charm_bytes: 3 * 1024 * 1024,
                binary_bytes: 1,
            }),
            failures: vec!["serving: no wrk".into()],
            ..Report::default()
        };
        let text = report.render();
        assert!(text.contains("update-status"), "{text}");
        assert!(text.contains("1.0 / 2.0 / 3.0"), "{text}");
        assert!(text.contains("1 run(s) exited non-zero"), "{text}");
        assert!(text.contains("(3.0 MiB)"), "{text}");
        assert!(text.contains("FAILED: serving: no wrk"), "{text}");
        assert!(!text.contains("Load:"), "{text}");
    }
}
