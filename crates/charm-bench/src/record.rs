//! What the measuring dispatch and the bench exchange through the unit's bench directory
//! (`/charm/containers/.charm-bench` in the charm container, `<state>/units/<pod>/containers/
//! .charm-bench` on the host): the control file the bench writes and the run records the
//! dispatch appends, one JSON object per line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BenchError;

/// The bench directory's name under the unit's `/charm/containers`.
pub const BENCH_DIR_NAME: &str = ".charm-bench";
/// The bench directory as the charm container sees it.
pub const BENCH_DIR_IN_CONTAINER: &str = "/charm/containers/.charm-bench";
/// The control file's name in the bench directory.
pub const CONTROL_FILE: &str = "control.json";
/// The run records' file name in the bench directory.
pub const RUNS_FILE: &str = "runs.jsonl";
/// The counting proxy's socket name in the bench directory.
pub const PROXY_SOCKET: &str = "agent.socket";

/// How the measuring dispatch runs each hook: the real event once, then `repeats[hook]`
/// more runs of the charm with the same environment, in the same hook context (the real
/// agent still serves its tools). Actions always run once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    /// Extra runs per hook name (`update-status`, `indico-pebble-ready`, ...).
    #[serde(default)]
    pub repeats: BTreeMap<String, u32>,
}

impl Control {
    /// Reads `path`; a missing file is the empty control (no repeats).
    pub fn load(path: &Path) -> Result<Self, BenchError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| BenchError::Malformed {
                what: path.display().to_string(),
                detail: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(BenchError::io("read", path, e)),
        }
    }

    /// Writes the control to `path` atomically (a rename), so a hook never reads half of it.
    pub fn save(&self, path: &Path) -> Result<(), BenchError> {
        let tmp = path.with_extension("json.tmp");
        // A map of strings to integers always serialises.
        let json = serde_json::to_vec(self).unwrap_or_default();
        std::fs::write(&tmp, json).map_err(|e| BenchError::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| BenchError::io("rename", path, e))
    }

    /// Extra runs for `hook`.
    pub fn repeats_for(&self, hook: &str) -> u32 {
        self.repeats.get(hook).copied().unwrap_or(0)
    }
}

/// One run of the charm binary, as the measuring dispatch saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The hook (`install`, `update-status`, ...) or the action's name.
    pub hook: String,
    /// The run within this hook: 0 is the real event, 1.. are the repeats.
    pub run: u32,
    /// Wall time of the charm process, from spawn to reaped.
    pub wall_us: u64,
    /// Peak resident set of the charm process (`ru_maxrss` from wait4), KiB.
    pub max_rss_kib: u64,
    /// The exit code (`None`: killed by a signal).
    pub exit_code: Option<i32>,
    /// From the charm's hook-end line: Pebble requests (`None`: no line, e.g. an action).
    pub pebble_requests: Option<u64>,
    /// From the same line: requests other than GET.
    pub pebble_writes: Option<u64>,
    /// Services whose start time changed while they stayed active (restarted).
    pub restarted: Vec<String>,
    /// Services that became active.
    pub started: Vec<String>,
    /// Services that stopped being active.
    pub stopped: Vec<String>,
    /// Whether the run's hook tools went through the bench's counting proxy.
    pub tools_proxied: bool,
    /// Unix time the run started, in microseconds (to attribute proxied tool calls).
    pub start_unix_us: u64,
    /// Unix time the run ended, in microseconds.
    pub end_unix_us: u64,
}

/// Parses the charm's hook-end line `hook done: N pebble requests, M writes` from its
/// stdout; `None` when there is no such line.
pub fn parse_hook_end_line(stdout: &str) -> Option<(u64, u64)> {
    stdout.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("hook done: ")?;
        let (requests, rest) = rest.split_once(" pebble requests, ")?;
        let writes = rest.strip_suffix(" writes")?;
        Some((requests.parse().ok()?, writes.parse().ok()?))
    })
}

/// Reads every record in `path` (missing file: none). A line that is not a record (a run
/// cut off mid-write) is an error naming the line.
pub fn read_runs(path: &Path) -> Result<Vec<RunRecord>, BenchError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BenchError::io("read", path, e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| BenchError::Malformed {
                what: format!("{} line {}", path.display(), n + 1),
                detail: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_end_line_is_parsed_and_anything_else_is_not() {
        assert_eq!(
            parse_hook_end_line("x\nhook done: 12 pebble requests, 3 writes\n"),
            Some((12, 3))
        );
        assert_eq!(parse_hook_end_line("hook done: 12 pebble requests"), None);
        assert_eq!(
            parse_hook_end_line("hook done: x pebble requests, 3 writes"),
            None
        );
        assert_eq!(parse_hook_end_line(""), None);
    }

    #[test]
    fn control_round_trips_and_a_missing_file_means_no_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONTROL_FILE);
        assert_eq!(Control::load(&path).unwrap(), Control::default());
        let mut control = Control::default();
        control.repeats.insert("update-status".into(), 19);
        control.save(&path).unwrap();
        let loaded = Control::load(&path).unwrap();
        assert_eq!(loaded.repeats_for("update-status"), 19);
        assert_eq!(loaded.repeats_for("install"), 0);
        std::fs::write(&path, "{not json").unwrap();
        assert!(matches!(
            Control::load(&path),
            Err(BenchError::Malformed { .. })
        ));
    }

    #[test]
    fn a_torn_record_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RUNS_FILE);
        std::fs::write(&path, "{\"hook\":").unwrap();
        let err = read_runs(&path).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(read_runs(&dir.path().join("none")).unwrap().is_empty());
    }
}
