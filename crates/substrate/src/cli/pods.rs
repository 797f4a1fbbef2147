//! `pods`: the units' pods as `kubectl get pods` lists them,
//! `NAME  READY  STATUS  RESTARTS  AGE` (e.g. `indico-0   5/5   Running   0   2m`).
//! Readiness comes from the engine's pod status; restarts and age from podman.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::CliError;
use crate::engine::{Engine, UnitName, default_pebble_binary, pod_status, substrate_pods};

/// One listed pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRow {
    /// Pod name.
    pub name: String,
    /// Ready containers.
    pub ready: usize,
    /// All containers.
    pub total: usize,
    /// `Running`, `Degraded`, ...
    pub status: String,
    /// Container restarts, summed.
    pub restarts: u64,
    /// Seconds since the pod's oldest container started.
    pub age_seconds: u64,
}

/// kubectl's age format: `45s`, `12m`, `3h`, `2d`.
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The listing.
pub fn render(rows: &[PodRow]) -> String {
    let mut out = format!(
        "{:<24} {:<7} {:<10} {:<9} {}\n",
        "NAME", "READY", "STATUS", "RESTARTS", "AGE"
    );
    for row in rows {
        out.push_str(&format!(
            "{:<24} {:<7} {:<10} {:<9} {}\n",
            row.name,
            format!("{}/{}", row.ready, row.total),
            row.status,
            row.restarts,
            age(row.age_seconds)
        ));
    }
    out
}

#[derive(Debug, Deserialize)]
struct PsEntry {
    #[serde(rename = "PodName", default)]
    pod_name: String,
    #[serde(rename = "StartedAt", default)]
    started_at: i64,
}

#[derive(Debug, Deserialize)]
struct InspectEntry {
    #[serde(rename = "RestartCount", default)]
    restart_count: u64,
}

/// Gathers the rows from podman.
pub fn gather(engine: &Engine) -> Result<Vec<PodRow>, CliError> {
    // `--pod` makes podman 4.3 fill in PodName.
    let ps = engine
        .podman()
        .run(["ps", "-a", "--pod", "--format", "json"])?
        .stdout;
    let entries: Vec<PsEntry> = serde_json::from_str(&ps).unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut started_at: BTreeMap<&str, i64> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.started_at > 0) {
        let slot = started_at.entry(e.pod_name.as_str()).or_insert(i64::MAX);
        *slot = (*slot).min(e.started_at);
    }
    let pebble = default_pebble_binary();
    let mut rows = Vec::new();
    for pod in substrate_pods(engine)? {
        let Some(status) = pod_status(engine, &UnitName::parse(&pod)?, &pebble)? else {
            continue;
        };
        let (ready, total) = status.ready();
        let started = started_at.get(pod.as_str()).copied().unwrap_or(now);
        let names: Vec<String> = status
            .containers
            .iter()
            .map(|c| format!("{pod}-{}", c.name))
            .collect();
        let mut args = vec!["inspect".to_owned()];
        args.extend(names);
        let restarts = match engine.podman().run(&args) {
            Ok(out) => serde_json::from_str::<Vec<InspectEntry>>(&out.stdout)
                .map(|list| list.iter().map(|e| e.restart_count).sum())
                .unwrap_or(0),
            Err(_) => 0,
        };
        rows.push(PodRow {
            name: status.pod_name.clone(),
            ready,
            total,
            status: status.state.clone(),
            restarts,
            age_seconds: (now - started.min(now)).max(0) as u64,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_like_kubectl() {
        let rows = [PodRow {
            name: "indico-0".into(),
            ready: 5,
            total: 5,
            status: "Running".into(),
            restarts: 0,
            age_seconds: 130,
        }];
        let text = render(&rows);
        let lines: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(lines[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        assert_eq!(lines[1], ["indico-0", "5/5", "Running", "0", "2m"]);
        assert_eq!(
            (age(59), age(7200), age(200000)),
            ("59s".into(), "2h".into(), "2d".into())
        );
    }
}
