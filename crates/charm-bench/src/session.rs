//! One deployment under measurement: the unit's bench directory (control file, run
//! records, the counting proxy's socket) and the waits that follow a triggered hook.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::BenchError;
use crate::probe::Probe;
use crate::record::{
    BENCH_DIR_NAME, CONTROL_FILE, Control, PROXY_SOCKET, RUNS_FILE, RunRecord, read_runs,
};
use crate::substrate::Substrate;
use crate::tool_proxy::ToolProxy;

/// The Host header of the default `site_url` (`http://<app>.local`).
pub const HOST: &str = "indico.local";

/// The bench's side of the unit under measurement.
#[derive(Debug)]
pub struct Session {
    /// The substrate.
    pub substrate: Substrate,
    /// `<unit>/containers/.charm-bench` on this host.
    pub bench_dir: PathBuf,
    proxy: ToolProxy,
}

impl Session {
    /// Creates the bench directory before the unit's pod exists (the pod keeps it) and
    /// starts the counting proxy, so even `install` is measured and counted.
    pub fn prepare(substrate: Substrate) -> Result<Self, BenchError> {
        let bench_dir = substrate.unit_containers_dir().join(BENCH_DIR_NAME);
        std::fs::create_dir_all(&bench_dir).map_err(|e| BenchError::io("create", &bench_dir, e))?;
        let proxy = ToolProxy::start(&bench_dir.join(PROXY_SOCKET), &substrate.agent_socket())?;
        Ok(Self {
            substrate,
            bench_dir,
            proxy,
        })
    }

    /// Sets the extra runs per hook (every other hook runs once).
    pub fn set_repeats(&self, repeats: &[(&str, u32)]) -> Result<(), BenchError> {
        let control = Control {
            repeats: repeats.iter().map(|(h, n)| (h.to_string(), *n)).collect(),
        };
        control.save(&self.bench_dir.join(CONTROL_FILE))
    }

    /// Where the run records are.
    pub fn runs_path(&self) -> PathBuf {
        self.bench_dir.join(RUNS_FILE)
    }

    /// Every run record so far.
    pub fn records(&self) -> Result<Vec<RunRecord>, BenchError> {
        read_runs(&self.runs_path())
    }

    /// Waits until at least `count` runs of `hook` are recorded after index `since`, then
    /// until the unit settles; returns those runs.
    pub fn wait_runs(
        &self,
        since: usize,
        hook: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<RunRecord>, BenchError> {
        let start = Instant::now();
        loop {
            let matching: Vec<RunRecord> = self
                .records()?
                .into_iter()
                .skip(since)
                .filter(|r| r.hook == hook)
                .collect();
            if matching.len() >= count {
                self.wait_settled(timeout.saturating_sub(start.elapsed()))?;
                let all: Vec<RunRecord> = self
                    .records()?
                    .into_iter()
                    .skip(since)
                    .filter(|r| r.hook == hook)
                    .collect();
                return Ok(all);
            }
            if start.elapsed() > timeout {
                return Err(BenchError::Timeout {
                    what: format!("{count} run(s) of {hook} (saw {})", matching.len()),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the unit agent is idle and no run was recorded for 2 s.
    pub fn wait_settled(&self, timeout: Duration) -> Result<(), BenchError> {
        let start = Instant::now();
        let mut last_len = usize::MAX;
        let mut quiet_since = Instant::now();
        loop {
            let len = self.records()?.len();
            let idle = self
                .substrate
                .unit()?
                .is_some_and(|u| u.agent.current.status == "idle");
            if len != last_len || !idle {
                last_len = len;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= Duration::from_secs(2) {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(BenchError::Timeout {
                    what: "the unit to settle (agent idle, no hook running)".into(),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Hook-tool calls made during `record`'s run (`None` if it bypassed the proxy).
    pub fn tool_calls(&self, record: &RunRecord) -> Option<usize> {
        record.tools_proxied.then(|| {
            self.proxy
                .calls()
                .iter()
                .filter(|c| {
                    c.at_unix_us >= record.start_unix_us && c.at_unix_us <= record.end_unix_us
                })
                .count()
        })
    }

    /// Polls `/` through nginx until it answers 200 (following Indico's redirects);
    /// returns the seconds since `since`.
    pub fn wait_http_200(&self, since: Instant, timeout: Duration) -> Result<f64, BenchError> {
        loop {
            if let Some(address) = self.substrate.unit()?.and_then(|u| u.address) {
                let probe = Probe::new(&format!("{address}:8080"), HOST)?;
                if let Some((200, _)) = probe.get("/") {
                    return Ok(since.elapsed().as_secs_f64());
                }
            }
            if since.elapsed() > timeout {
                return Err(BenchError::Timeout {
                    what: "HTTP 200 from / on :8080".into(),
                    seconds: timeout.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}
