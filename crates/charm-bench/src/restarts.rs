//! Which services a hook restarted, started or stopped: each workload container's
//! `/v1/services` before and after a run, compared by status and `current-since` (Pebble
//! sets it whenever a service changes state, so a restart shows a new time).

use std::collections::BTreeMap;
use std::path::PathBuf;

use pebble_client::{Client, ServiceStatus};

/// `container/service` to (active, current-since).
pub type ServicesSnapshot = BTreeMap<String, (bool, Option<String>)>;

/// What changed between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceChanges {
    /// Active before and after, with a new start time.
    pub restarted: Vec<String>,
    /// Not active before, active after.
    pub started: Vec<String>,
    /// Active before, not after.
    pub stopped: Vec<String>,
}

/// Reads every service of every container whose socket answers; a container that does
/// not answer contributes nothing (its services then show as started or stopped).
pub async fn snapshot(sockets: &BTreeMap<String, PathBuf>) -> ServicesSnapshot {
    let mut all = ServicesSnapshot::new();
    for (container, socket) in sockets {
        let Ok(client) = Client::new(socket) else {
            continue;
        };
        let Ok(services) = client.services(&[]).await else {
            continue;
        };
        for service in services {
            all.insert(
                format!("{container}/{}", service.name),
                (
                    service.current == ServiceStatus::Active,
                    service.current_since,
                ),
            );
        }
    }
    all
}

/// Compares two snapshots.
pub fn compare(before: &ServicesSnapshot, after: &ServicesSnapshot) -> ServiceChanges {
    let mut changes = ServiceChanges::default();
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let was = before.get(name);
        let now = after.get(name);
        let was_active = was.is_some_and(|(active, _)| *active);
        let is_active = now.is_some_and(|(active, _)| *active);
        match (was_active, is_active) {
            (true, true) if was.map(|w| &w.1) != now.map(|n| &n.1) => {
                changes.restarted.push(name.clone())
            }
            (false, true) => changes.started.push(name.clone()),
            (true, false) => changes.stopped.push(name.clone()),
            _ => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(items: &[(&str, bool, &str)]) -> ServicesSnapshot {
        items
            .iter()
            .map(|(n, a, s)| (n.to_string(), (*a, Some(s.to_string()))))
            .collect()
    }

    #[test]
    fn restarts_starts_and_stops_are_told_apart() {
        let before = snap(&[
            ("indico/indico", true, "t1"),
            ("indico-nginx/indico-nginx", true, "t1"),
            ("indico-celery/indico-celery", false, "t0"),
            ("exporter/exporter", true, "t1"),
        ]);
        let after = snap(&[
            ("indico/indico", true, "t2"),
            ("indico-nginx/indico-nginx", true, "t1"),
            ("indico-celery/indico-celery", true, "t2"),
            ("exporter/exporter", false, "t2"),
        ]);
        let changes = compare(&before, &after);
        assert_eq!(changes.restarted, vec!["indico/indico"]);
        assert_eq!(changes.started, vec!["indico-celery/indico-celery"]);
        assert_eq!(changes.stopped, vec!["exporter/exporter"]);
        assert_eq!(compare(&after, &after), ServiceChanges::default());
    }
}
