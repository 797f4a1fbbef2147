//! From run records to figures: one [`HookFigures`] per case, one [`RestartCase`] per case.

use crate::record::RunRecord;
use crate::report::{HookFigures, RestartCase};
use crate::session::Session;
use crate::stats::Summary;

fn summary_of<I: Iterator<Item = f64>>(values: I) -> Option<Summary> {
    Summary::of(&values.collect::<Vec<_>>())
}

/// Figures for `runs` (at least one).
pub fn hook_figures(
    session: &Session,
    case: &str,
    trigger: &str,
    runs: &[RunRecord],
) -> Option<HookFigures> {
    let wall_ms = summary_of(runs.iter().map(|r| r.wall_us as f64 / 1e3))?;
    let max_rss_mib = summary_of(runs.iter().map(|r| r.max_rss_kib as f64 / 1024.0))?;
    let tool_calls = summary_of(
        runs.iter()
            .filter_map(|r| session.tool_calls(r))
            .map(|n| n as f64),
    );
    Some(HookFigures {
        case: case.to_owned(),
        trigger: trigger.to_owned(),
        wall_ms,
        max_rss_mib,
        tool_calls,
        pebble_requests: summary_of(
            runs.iter()
                .filter_map(|r| r.pebble_requests)
                .map(|n| n as f64),
        ),
        pebble_writes: summary_of(
            runs.iter()
                .filter_map(|r| r.pebble_writes)
                .map(|n| n as f64),
        ),
        restarted: summary_of(runs.iter().map(|r| r.restarted.len() as f64))?,
        failed_runs: runs.iter().filter(|r| r.exit_code != Some(0)).count(),
    })
}

/// The services `runs` restarted, started and stopped (each name once, sorted).
pub fn restart_case(case: &str, runs: &[RunRecord]) -> RestartCase {
    let collect = |pick: fn(&RunRecord) -> &Vec<String>| {
        let mut all: Vec<String> = runs.iter().flat_map(|r| pick(r).iter().cloned()).collect();
        all.sort();
        all.dedup();
        all
    };
    RestartCase {
        case: case.to_owned(),
        runs: runs.len(),
        restarted: collect(|r| &r.restarted),
        started: collect(|r| &r.started),
        stopped: collect(|r| &r.stopped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(restarted: &[&str]) -> RunRecord {
        RunRecord {
            hook: "config-changed".into(),
            run: 0,
            wall_us: 1000,
            max_rss_kib: 2048,
            exit_code: Some(0),
            pebble_requests: Some(4),
            pebble_writes: Some(0),
            restarted: restarted.iter().map(|s| s.to_string()).collect(),
            started: vec![],
            stopped: vec![],
            tools_proxied: false,
            start_unix_us: 0,
            end_unix_us: 0,
        }
    }

    #[test]
    fn restarts_are_merged_across_runs() {
        let case = restart_case("x", &[record(&["b/b", "a/a"]), record(&["a/a"])]);
        assert_eq!(case.restarted, vec!["a/a", "b/b"]);
        assert_eq!(case.runs, 2);
        assert!(restart_case("none", &[record(&[])]).restarted.is_empty());
    }
}
