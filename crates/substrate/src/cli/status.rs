//! `status`: the model as `juju status` shows it — the model line, applications,
//! units (the leader starred) with workload and agent status, address, ports and
//! message, and integrations. A unit whose hook failed shows workload `error` with the
//! agent's `hook failed: "<name>"`, as Juju does.

use std::fmt::Write as _;

use crate::agent::JUJU_VERSION;
use crate::model::{AppKind, Application, Model, Role, Unit};

/// Juju's order of severity for deriving an application's status from its units.
const SEVERITY: [&str; 6] = [
    "error",
    "blocked",
    "maintenance",
    "waiting",
    "active",
    "unknown",
];

fn unit_workload(unit: &Unit) -> (String, String) {
    if unit.agent.current.status == "error" {
        return ("error".into(), unit.agent.current.message.clone());
    }
    (
        unit.workload.current.status.clone(),
        unit.workload.current.message.clone(),
    )
}

fn unit_agent(unit: &Unit) -> &str {
    match unit.agent.current.status.as_str() {
        "error" => "idle",
        other => other,
    }
}

fn app_status(app: &Application) -> (String, String) {
    let own = &app.status.current;
    if own.status != "unknown" {
        return (own.status.clone(), own.message.clone());
    }
    let worst = app.units.values().map(unit_workload).min_by_key(|(s, _)| {
        SEVERITY
            .iter()
            .position(|x| x == s)
            .unwrap_or(SEVERITY.len())
    });
    worst.unwrap_or_else(|| ("unknown".into(), String::new()))
}

fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Renders the model.
pub fn render(model: &Model, now: &str) -> String {
    let mut out = table(&[
        vec![
            "Model".into(),
            "Controller".into(),
            "Cloud/Region".into(),
            "Version".into(),
            "Timestamp".into(),
        ],
        vec![
            model.name.clone(),
            "indico-substrate".into(),
            "local/podman".into(),
            JUJU_VERSION.into(),
            now.into(),
        ],
    ]);
    if model.applications.is_empty() {
        out.push_str("\nModel \"substrate\" is empty.\n");
        return out;
    }
    let mut apps = vec![vec![
        "App".into(),
        "Version".into(),
        "Status".into(),
        "Scale".into(),
        "Charm".into(),
        "Message".into(),
    ]];
    for app in model.applications.values() {
        let (status, message) = app_status(app);
        let charm = match &app.kind {
            AppKind::Charm { .. } => app.charm.name.clone(),
            AppKind::Provider { provider } => format!("{} ({provider} provider)", app.charm.name),
        };
        let live = app.units.values().filter(|u| !u.dying).count();
        apps.push(vec![
            app.name.clone(),
            app.workload_version.clone(),
            status,
            live.to_string(),
            charm,
            message,
        ]);
    }
    out.push('\n');
    out.push_str(&table(&apps));
    let mut units = vec![vec![
        "Unit".into(),
        "Workload".into(),
        "Agent".into(),
        "Address".into(),
        "Ports".into(),
        "Message".into(),
    ]];
    for app in model.applications.values() {
        for unit in app.units.values() {
            let (status, message) = unit_workload(unit);
            let star = if app.leader.as_deref() == Some(unit.name.as_str()) {
                "*"
            } else {
                ""
            };
            let ports: Vec<&str> = unit.ports.iter().map(String::as_str).collect();
            units.push(vec![
                format!("{}{star}", unit.name),
                status,
                unit_agent(unit).to_owned(),
                unit.address.clone().unwrap_or_default(),
                ports.join(","),
                message,
            ]);
        }
    }
    out.push('\n');
    out.push_str(&table(&units));
    let mut relations = vec![vec![
        "Integration provider".into(),
        "Requirer".into(),
        "Interface".into(),
        "Type".into(),
        "Message".into(),
    ]];
    for rel in model.relations.values() {
        let end = |role: Role| {
            rel.ends.iter().find(|e| {
                model
                    .applications
                    .get(&e.application)
                    .and_then(|a| a.charm.endpoints.get(&e.endpoint))
                    .is_some_and(|ep| ep.role == role)
            })
        };
        let label = |e: Option<&crate::model::RelationEnd>| {
            e.map(|e| format!("{}:{}", e.application, e.endpoint))
                .unwrap_or_default()
        };
        let (provider, requirer, kind) = if rel.is_peer() {
            let both = label(rel.ends.first());
            (both.clone(), both, "peer")
        } else {
            (
                label(end(Role::Provider)),
                label(end(Role::Requirer)),
                "regular",
            )
        };
        let interface = rel
            .ends
            .first()
            .map(|e| e.interface.clone())
            .unwrap_or_default();
        let message = if rel.dying { "leaving" } else { "" };
        relations.push(vec![
            provider,
            requirer,
            interface,
            kind.into(),
            message.into(),
        ]);
    }
    if relations.len() > 1 {
        out.push('\n');
        out.push_str(&table(&relations));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CharmMeta, Status};

    #[test]
    fn shows_apps_units_leader_errors_and_integrations() {
        let mut m = Model::new("dev");
        let meta = CharmMeta::parse("name: indico\npeers:\n  indico-peers: {interface: indico-instance}\nrequires:\n  database: {interface: postgresql_client}\n", None, None).unwrap();
        m.add_application("indico", AppKind::Charm { dir: ".".into() }, meta, 2)
            .unwrap();
        let pg = CharmMeta::parse(
            "name: postgresql-k8s\nprovides:\n  database: {interface: postgresql_client}\n",
            None,
            None,
        )
        .unwrap();
        m.add_application(
            "postgresql",
            AppKind::Provider {
                provider: "postgresql".into(),
            },
            pg,
            1,
        )
        .unwrap();
        m.add_peer_relations("indico").unwrap();
        m.integrate("indico", "postgresql").unwrap();
        let app = m.app_mut("indico").unwrap();
        app.workload_version = "3.2.9".into();
        let u0 = app.unit_mut("indico/0").unwrap();
        u0.workload.set(Status::now("active", ""));
        u0.agent.set(Status::now("idle", ""));
        u0.address = Some("10.210.0.5".into());
        u0.ports.insert("8080/tcp".into());
        let u1 = app.unit_mut("indico/1").unwrap();
        u1.agent.set(Status::now(
            "error",
            "hook failed: \"database-relation-changed\"",
        ));
        let text = render(&m, "00:00:00Z");
        let line = |start: &str| {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no {start} line in\n{text}"))
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            line("indico/0*"),
            "indico/0* active idle 10.210.0.5 8080/tcp"
        );
        assert_eq!(
            line("indico/1 "),
            "indico/1 error idle hook failed: \"database-relation-changed\""
        );
        assert_eq!(
            line("indico "),
            "indico 3.2.9 error 2 indico hook failed: \"database-relation-changed\""
        );
        assert_eq!(
            line("postgresql:database"),
            "postgresql:database indico:database postgresql_client regular"
        );
        assert_eq!(
            line("indico:indico-peers"),
            "indico:indico-peers indico:indico-peers indico-instance peer"
        );
        assert!(render(&Model::new("x"), "now").contains("is empty"));
    }
}
