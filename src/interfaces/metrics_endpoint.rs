//! `metrics-endpoint` (interface `prometheus_scrape`, consumer prometheus-k8s through its
//! `prometheus_scrape` library v0, `MetricsEndpointProvider` on our side): the scrape jobs,
//! their metadata and the alert rules this charm publishes, and each unit's address.
//!
//! Application bag (leader): `scrape_jobs` (JSON list of jobs; `*` in a target stands for every
//! unit's address), `scrape_metadata` (the topology, JSON) and `alert_rules` (JSON
//! `{"groups": [...]}`). Unit bag (each unit): `prometheus_scrape_unit_address`,
//! `prometheus_scrape_unit_path` (empty), `prometheus_scrape_unit_name`,
//! `prometheus_scrape_unit_fqdn`. The address is the unit's stable FQDN, which the library also
//! falls back to; a pod IP would change with every restart.
//!
//! What each pod exposes: the nginx exporter on 9113 (`nginx_*`) and Flower, the Celery
//! exporter in the `indico-celery` container, on 5555 (`flower_*`: workers online, task
//! events, runtimes). Every unit's Flower sees the events of all of the application's
//! workers, so the rules and the dashboard take the maximum per worker across units, never the
//! sum. uWSGI has no exporter yet (a uWSGI-stats exporter would be a new service).

use serde_json::{Value, json};
use thiserror::Error;

use super::{Databag, JujuTopology};
use crate::plan::layers::{CELERY_EXPORTER_PORT, EXPORTER_PORT};

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "metrics-endpoint";
/// The Prometheus alert rules (YAML rule file with `%%juju_topology%%` placeholders).
pub const ALERT_RULES: &str =
    include_str!("../../files/observability/prometheus_alert_rules/indico.rules.yaml");
/// The placeholder cos-lib substitutes with the topology's label matchers.
const TOPOLOGY_PLACEHOLDER: &str = "%%juju_topology%%";

/// A rule file that is not what cos-lib's `AlertRules` accepts. A bug in `files/`, never
/// input: a unit test parses every shipped file.
#[derive(Debug, Error)]
#[error("alert rule file: {0}")]
pub struct RuleFileError(&'static str);

/// The scrape jobs: the nginx exporter and the Celery exporter of every unit.
pub fn scrape_jobs() -> Value {
    json!([
        {
            "job_name": "indico_nginx",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [format!("*:{EXPORTER_PORT}")]}],
        },
        {
            "job_name": "indico_celery",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [format!("*:{CELERY_EXPORTER_PORT}")]}],
        },
    ])
}

/// `rules_yaml` as cos-lib forwards it: each group renamed `<identifier>_<name>_alerts`, the
/// placeholder in every expression replaced by the topology matchers, and the topology added
/// to every rule's labels.
pub fn rules_with_topology(
    rules_yaml: &str,
    topology: &JujuTopology,
) -> Result<Value, RuleFileError> {
    let mut rules: Value =
        serde_yaml::from_str(rules_yaml).map_err(|_| RuleFileError("not YAML"))?;
    let matchers = topology
        .alert_labels()
        .iter()
        .map(|(k, v)| format!("{k}={}", Value::String((*v).to_owned())))
        .collect::<Vec<_>>()
        .join(",");
    let groups = rules
        .get_mut("groups")
        .and_then(Value::as_array_mut)
        .ok_or(RuleFileError("no groups list"))?;
    for group in groups {
        let name = group
            .get("name")
            .and_then(Value::as_str)
            .ok_or(RuleFileError("a group has no name"))?;
        group["name"] = json!(format!("{}_{name}_alerts", topology.identifier()));
        let rules = group
            .get_mut("rules")
            .and_then(Value::as_array_mut)
            .ok_or(RuleFileError("a group has no rules list"))?;
        for rule in rules {
            let expr = rule
                .get("expr")
                .and_then(Value::as_str)
                .ok_or(RuleFileError("a rule has no expr"))?;
            rule["expr"] = json!(expr.replace(TOPOLOGY_PLACEHOLDER, &matchers));
            let labels = rule
                .as_object_mut()
                .ok_or(RuleFileError("a rule is not a mapping"))?
                .entry("labels")
                .or_insert_with(|| json!({}));
            let labels = labels
                .as_object_mut()
                .ok_or(RuleFileError("a rule's labels are not a mapping"))?;
            for (key, value) in topology.alert_labels() {
                labels.insert(key.to_owned(), json!(value));
            }
            labels.insert("juju_charm".to_owned(), json!(topology.charm_name));
        }
    }
    Ok(rules)
}

/// The application bag (leader).
pub fn app_data(topology: &JujuTopology) -> Result<Databag, RuleFileError> {
    let rules = rules_with_topology(ALERT_RULES, topology)?;
    Ok(Databag::from([
        ("scrape_jobs".to_owned(), scrape_jobs().to_string()),
        ("scrape_metadata".to_owned(), topology.as_json().to_string()),
        ("alert_rules".to_owned(), rules.to_string()),
    ]))
}

/// The unit bag: where Prometheus finds this unit.
pub fn unit_data(unit: &str, fqdn: &str) -> Databag {
    Databag::from([
        ("prometheus_scrape_unit_address".to_owned(), fqdn.to_owned()),
        ("prometheus_scrape_unit_path".to_owned(), String::new()),
        ("prometheus_scrape_unit_name".to_owned(), unit.to_owned()),
        ("prometheus_scrape_unit_fqdn".to_owned(), fqdn.to_owned()),
    ])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn topology() -> JujuTopology {
        JujuTopology {
            model: "events".into(),
            model_uuid: "0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c".into(),
            application: "indico".into(),
            unit: "indico/0".into(),
            charm_name: "indico".into(),
        }
    }

    /// Writes `rules` as `indico.rules.yaml` in a fresh directory and runs `promtool
    /// <command> <file>` there (Debian's `prometheus` package), `file` being the rules or,
    /// when `test_file` is given, that test file written beside them. Returns whether
    /// promtool succeeded and its output.
    fn promtool(command: &str, rules: &Value, test_file: Option<&str>) -> (bool, String) {
        let dir = tempfile::tempdir().unwrap();
        let rules_path = dir.path().join("indico.rules.yaml");
        std::fs::write(&rules_path, serde_yaml::to_string(rules).unwrap()).unwrap();
        let file = match test_file {
            Some(text) => {
                let path = dir.path().join("test.yaml");
                std::fs::write(&path, text).unwrap();
                path
            }
            None => rules_path,
        };
        let output = std::process::Command::new("promtool")
            .args([command, "rules"])
            .arg(&file)
            .current_dir(dir.path())
            .output()
            .expect("promtool (Debian package prometheus) is installed");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }

    /// Runs `promtool check rules` on `rules`; fails unless promtool accepts them. Returns
    /// promtool's output.
    pub(crate) fn promtool_check(rules: &Value) -> String {
        let (accepted, text) = promtool("check", rules, None);
        assert!(accepted, "promtool refused the rules:\n{text}");
        text
    }

    #[test]
    fn the_forwarded_alert_rules_pass_promtool_and_carry_the_topology() {
        let rules = rules_with_topology(ALERT_RULES, &topology()).unwrap();
        let output = promtool_check(&rules);
        assert!(output.contains("SUCCESS: 3 rules found"), "{output}");
        let group = &rules["groups"][0];
        assert_eq!(
            group["name"],
            "events_0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c_indico_indico_alerts"
        );
        let names: Vec<&str> = group["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["alert"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "IndicoTargetMissing",
                "IndicoNginxDown",
                "IndicoCeleryNoWorkers"
            ]
        );
        let target_missing = &group["rules"][0];
        assert_eq!(
            target_missing["expr"],
            r#"up{juju_model="events",juju_model_uuid="0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c",juju_application="indico"} == 0"#
        );
        assert_eq!(target_missing["labels"]["juju_application"], "indico");
        assert_eq!(target_missing["labels"]["severity"], "critical");
    }

    /// Runs `promtool test rules` on the forwarded rules with `tests` (the `tests:` list of a
    /// promtool test file, YAML); returns whether all passed and promtool's output.
    fn promtool_unit_test(tests: &str) -> (bool, String) {
        let rules = rules_with_topology(ALERT_RULES, &topology()).unwrap();
        let test_file =
            format!("rule_files: [indico.rules.yaml]\nevaluation_interval: 1m\ntests:\n{tests}");
        promtool("test", &rules, Some(&test_file))
    }

    /// The series and the expectation of one `IndicoCeleryNoWorkers` case at minute 25.
    fn celery_case(series: &[(&str, &str)], fires: bool) -> String {
        const TOPOLOGY: &str = r#"juju_model="events",juju_model_uuid="0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c",juju_application="indico""#;
        let mut text = String::from("  - interval: 1m\n    input_series:\n");
        for (series, values) in series {
            let series = series.replace("TOPO", TOPOLOGY);
            text.push_str(&format!(
                "      - series: '{series}'\n        values: '{values}'\n"
            ));
        }
        text.push_str(
            "    alert_rule_test:\n      - eval_time: 25m\n        alertname: IndicoCeleryNoWorkers\n",
        );
        if fires {
            text.push_str(&format!(
                "        exp_alerts:\n          - exp_labels: {{severity: critical, juju_charm: indico, {}}}\n            exp_annotations:\n              summary: Indico has no Celery worker\n              description: 'No Celery worker of indico in model events is online: emails, reminders and other background tasks are not processed.'\n",
                TOPOLOGY.replace('=', ": ")
            ));
        } else {
            text.push_str("        exp_alerts: []\n");
        }
        text
    }

    #[test]
    fn the_celery_alert_fires_exactly_when_no_worker_is_online() {
        let nginx_up = ("up{TOPO,juju_unit=\"indico/0\",job=\"nginx\"}", "1x30");
        let flower_up = ("up{TOPO,juju_unit=\"indico/0\",job=\"celery\"}", "1x30");
        let flower2_up = ("up{TOPO,juju_unit=\"indico/1\",job=\"celery\"}", "1x30");
        let worker = |unit: &str, n: u8, values: &'static str| {
            (
                format!(
                    "flower_worker_online{{TOPO,juju_unit=\"indico/{unit}\",worker=\"indico-celery@indico-{n}\"}}"
                ),
                values,
            )
        };
        let other_app = (
            "flower_worker_online{juju_model=\"events\",juju_model_uuid=\"0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c\",juju_application=\"other\",worker=\"w@other-0\"}",
            "1x30",
        );
        /// A case: its name, the `flower_worker_online` series and values, whether it fires.
        type Case<'a> = (&'a str, Vec<(String, &'a str)>, bool);
        let cases: Vec<Case> = vec![
            ("a worker online", vec![worker("0", 0, "1x30")], false),
            (
                "the worker stopped cleanly (0) 15 minutes ago",
                vec![worker("0", 0, "1x10 0x20")],
                true,
            ),
            (
                "the worker was purged (killed) 20 minutes ago",
                vec![worker("0", 0, "1x5 _x25")],
                true,
            ),
            (
                "two units' Flowers, one worker down, the other online",
                vec![worker("0", 0, "0x30"), worker("1", 1, "1x30")],
                false,
            ),
            (
                "only another application has a worker",
                vec![(other_app.0.to_owned(), other_app.1)],
                true,
            ),
        ];
        for (name, workers, fires) in cases {
            let mut series: Vec<(&str, &str)> = vec![nginx_up, flower_up, flower2_up];
            series.extend(workers.iter().map(|(s, v)| (s.as_str(), *v)));
            let (passed, output) = promtool_unit_test(&celery_case(&series, fires));
            assert!(passed, "{name}: promtool says\n{output}");
            // The opposite expectation must fail: the case decides something.
            let (passed, _) = promtool_unit_test(&celery_case(&series, !fires));
            assert!(!passed, "{name}: the opposite expectation passed too");
        }
    }

    #[test]
    fn promtool_catches_a_broken_rule() {
        // The check above can fail: promtool rejects a bad expression.
        let broken =
            json!({"groups": [{"name": "x", "rules": [{"alert": "A", "expr": "up{ == 0"}]}]});
        let result = std::panic::catch_unwind(|| promtool_check(&broken));
        assert!(result.is_err());
    }

    #[test]
    fn the_bags_are_shaped_as_the_library_writes_them() {
        let bag = app_data(&topology()).unwrap();
        let jobs: Value = serde_json::from_str(&bag["scrape_jobs"]).unwrap();
        assert_eq!(jobs[0]["static_configs"][0]["targets"][0], "*:9113");
        assert_eq!(jobs[0]["metrics_path"], "/metrics");
        assert_eq!(jobs[1]["job_name"], "indico_celery");
        assert_eq!(jobs[1]["static_configs"][0]["targets"][0], "*:5555");
        assert_eq!(jobs[1]["metrics_path"], "/metrics");
        assert_eq!(jobs.as_array().map(Vec::len), Some(2));
        let metadata: Value = serde_json::from_str(&bag["scrape_metadata"]).unwrap();
        assert_eq!(
            metadata["model_uuid"],
            "0b1e6c3a-5f1d-4c8e-9a7b-2d3e4f5a6b7c"
        );
        assert_eq!(metadata["charm_name"], "indico");
        let rules: Value = serde_json::from_str(&bag["alert_rules"]).unwrap();
        assert!(rules["groups"].is_array());
        let unit = unit_data(
            "indico/1",
            "indico-1.indico-endpoints.events.svc.cluster.local",
        );
        assert_eq!(unit["prometheus_scrape_unit_name"], "indico/1");
        assert_eq!(
            unit["prometheus_scrape_unit_address"],
            "indico-1.indico-endpoints.events.svc.cluster.local"
        );
        assert_eq!(unit["prometheus_scrape_unit_path"], "");
    }

    #[test]
    fn a_file_without_groups_is_an_error_not_a_panic() {
        assert!(rules_with_topology("rules: []", &topology()).is_err());
        assert!(rules_with_topology("{not yaml", &topology()).is_err());
        assert!(
            rules_with_topology("groups: [{name: a, rules: [{alert: x}]}]", &topology()).is_err()
        );
    }
}
