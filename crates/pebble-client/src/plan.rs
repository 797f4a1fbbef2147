//! The combined plan (`GET /v1/plan?format=yaml`) and the idempotence comparison the charm uses:
//! [`Plan::satisfies`] tells whether adding a layer and replanning would change anything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::GoDuration;
use crate::layer::{
    Check, ExecCheck, HttpCheck, Layer, LayerYamlError, LogTarget, Override, Service,
    ServiceAction, Startup, TcpCheck,
};

/// Pebble's defaults, applied after combining layers (plan.go) or at run time.
const DEFAULT_BACKOFF_DELAY: GoDuration = GoDuration::from_millis(500);
const DEFAULT_BACKOFF_FACTOR: f64 = 2.0;
const DEFAULT_BACKOFF_LIMIT: GoDuration = GoDuration::from_secs(30);
const DEFAULT_KILL_DELAY: GoDuration = GoDuration::from_secs(5);
const DEFAULT_CHECK_PERIOD: GoDuration = GoDuration::from_secs(10);
const DEFAULT_CHECK_TIMEOUT: GoDuration = GoDuration::from_secs(3);
const DEFAULT_CHECK_THRESHOLD: u32 = 3;
const DEFAULT_TCP_HOST: &str = "localhost";

/// The combined plan: every layer folded together, as Pebble renders it.
///
/// Pebble leaves out `summary`/`description`; sections newer than v1.19.2 (`workloads`,
/// `pairing`) are ignored here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Plan {
    /// Services by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, Service>,
    /// Health checks by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<String, Check>,
    /// Log targets by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub log_targets: BTreeMap<String, LogTarget>,
}

impl Plan {
    /// Parses the YAML text that `GET /v1/plan?format=yaml` returns as its result.
    pub fn from_yaml(text: &str) -> Result<Self, LayerYamlError> {
        Ok(serde_yaml::from_str(text)?)
    }

    /// True iff every service, check and log target of `layer` is in this plan with the same
    /// effective values, so adding the layer (with `combine`) and replanning changes nothing.
    ///
    /// Pebble's defaults are applied on both sides first (backoff 500ms/2.0/30s, kill-delay
    /// 5s, startup disabled, on-success/on-failure restart; check period 10s, timeout 3s capped
    /// to the period, threshold 3, startup enabled; tcp host localhost), and empty strings,
    /// lists and maps count as unset. The `override` value itself is not compared, but it
    /// decides how: an object with `override: replace` must equal the plan's object; one with
    /// `override: merge` only has to be covered by it (its set fields equal, its list entries
    /// and map entries present), because lower layers may contribute the rest.
    pub fn satisfies(&self, layer: &Layer) -> bool {
        let services = layer.services.iter().all(|(name, wanted)| {
            self.services.get(name).is_some_and(|current| {
                let expected = expected_object(wanted, current, overlay_service);
                effective_service(&expected) == effective_service(current)
            })
        });
        let checks = layer.checks.iter().all(|(name, wanted)| {
            self.checks.get(name).is_some_and(|current| {
                let expected = expected_object(wanted, current, overlay_check);
                effective_check(&expected) == effective_check(current)
            })
        });
        let log_targets = layer.log_targets.iter().all(|(name, wanted)| {
            self.log_targets.get(name).is_some_and(|current| {
                let expected = expected_object(wanted, current, overlay_log_target);
                effective_log_target(&expected) == effective_log_target(current)
            })
        });
        services && checks && log_targets
    }
}

/// What the plan's object would look like once `wanted` is applied to it.
fn expected_object<T: Clone + HasOverride>(wanted: &T, current: &T, overlay: fn(&mut T, &T)) -> T {
    if wanted.override_mode() == Some(Override::Merge) {
        let mut merged = current.clone();
        overlay(&mut merged, wanted);
        merged
    } else {
        wanted.clone()
    }
}

trait HasOverride {
    fn override_mode(&self) -> Option<Override>;
}

impl HasOverride for Service {
    fn override_mode(&self) -> Option<Override> {
        self.r#override
    }
}

impl HasOverride for Check {
    fn override_mode(&self) -> Option<Override> {
        self.r#override
    }
}

impl HasOverride for LogTarget {
    fn override_mode(&self) -> Option<Override> {
        self.r#override
    }
}

fn set<T: Clone>(target: &mut Option<T>, value: &Option<T>) {
    if let Some(v) = value {
        *target = Some(v.clone());
    }
}

fn set_str(target: &mut Option<String>, value: &Option<String>) {
    if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
        *target = Some(v.to_owned());
    }
}

/// Pebble appends merged lists; an entry already present is already applied.
fn append_missing(target: &mut Vec<String>, values: &[String]) {
    for value in values {
        if !target.contains(value) {
            target.push(value.clone());
        }
    }
}

fn merge_map<V: Clone>(target: &mut BTreeMap<String, V>, values: &BTreeMap<String, V>) {
    for (k, v) in values {
        target.insert(k.clone(), v.clone());
    }
}

fn overlay_service(base: &mut Service, top: &Service) {
    set_str(&mut base.summary, &top.summary);
    set_str(&mut base.description, &top.description);
    set(&mut base.startup, &top.startup);
    set_str(&mut base.command, &top.command);
    append_missing(&mut base.after, &top.after);
    append_missing(&mut base.before, &top.before);
    append_missing(&mut base.requires, &top.requires);
    merge_map(&mut base.environment, &top.environment);
    set(&mut base.user_id, &top.user_id);
    set_str(&mut base.user, &top.user);
    set(&mut base.group_id, &top.group_id);
    set_str(&mut base.group, &top.group);
    set_str(&mut base.working_dir, &top.working_dir);
    set(&mut base.on_success, &top.on_success);
    set(&mut base.on_failure, &top.on_failure);
    merge_map(&mut base.on_check_failure, &top.on_check_failure);
    set(&mut base.backoff_delay, &top.backoff_delay);
    set(&mut base.backoff_factor, &top.backoff_factor);
    set(&mut base.backoff_limit, &top.backoff_limit);
    set(&mut base.kill_delay, &top.kill_delay);
    set_str(&mut base.workload, &top.workload);
}

fn overlay_check(base: &mut Check, top: &Check) {
    set(&mut base.level, &top.level);
    set(&mut base.startup, &top.startup);
    set(&mut base.period, &top.period);
    set(&mut base.timeout, &top.timeout);
    set(&mut base.threshold, &top.threshold);
    if let Some(top_http) = &top.http {
        let http = base.http.get_or_insert_with(HttpCheck::default);
        set_str(&mut http.url, &top_http.url);
        merge_map(&mut http.headers, &top_http.headers);
    }
    if let Some(top_tcp) = &top.tcp {
        let tcp = base.tcp.get_or_insert_with(TcpCheck::default);
        set(&mut tcp.port, &top_tcp.port);
        set_str(&mut tcp.host, &top_tcp.host);
    }
    if let Some(top_exec) = &top.exec {
        let exec = base.exec.get_or_insert_with(ExecCheck::default);
        set_str(&mut exec.command, &top_exec.command);
        set_str(&mut exec.service_context, &top_exec.service_context);
        merge_map(&mut exec.environment, &top_exec.environment);
        set(&mut exec.user_id, &top_exec.user_id);
        set_str(&mut exec.user, &top_exec.user);
        set(&mut exec.group_id, &top_exec.group_id);
        set_str(&mut exec.group, &top_exec.group);
        set_str(&mut exec.working_dir, &top_exec.working_dir);
    }
}

fn overlay_log_target(base: &mut LogTarget, top: &LogTarget) {
    set(&mut base.r#type, &top.r#type);
    set_str(&mut base.location, &top.location);
    append_missing(&mut base.services, &top.services);
    merge_map(&mut base.labels, &top.labels);
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.is_empty())
}

fn effective_service(s: &Service) -> Service {
    Service {
        summary: non_empty(&s.summary),
        description: non_empty(&s.description),
        startup: Some(s.startup.unwrap_or(Startup::Disabled)),
        r#override: None,
        command: non_empty(&s.command),
        after: s.after.clone(),
        before: s.before.clone(),
        requires: s.requires.clone(),
        environment: s.environment.clone(),
        user_id: s.user_id,
        user: non_empty(&s.user),
        group_id: s.group_id,
        group: non_empty(&s.group),
        working_dir: non_empty(&s.working_dir),
        on_success: Some(s.on_success.unwrap_or(ServiceAction::Restart)),
        on_failure: Some(s.on_failure.unwrap_or(ServiceAction::Restart)),
        on_check_failure: s.on_check_failure.clone(),
        backoff_delay: Some(s.backoff_delay.unwrap_or(DEFAULT_BACKOFF_DELAY)),
        backoff_factor: Some(s.backoff_factor.unwrap_or(DEFAULT_BACKOFF_FACTOR)),
        backoff_limit: Some(s.backoff_limit.unwrap_or(DEFAULT_BACKOFF_LIMIT)),
        kill_delay: Some(s.kill_delay.unwrap_or(DEFAULT_KILL_DELAY)),
        workload: non_empty(&s.workload),
    }
}

fn effective_check(c: &Check) -> Check {
    let period = c.period.unwrap_or(DEFAULT_CHECK_PERIOD);
    let timeout = c.timeout.unwrap_or(DEFAULT_CHECK_TIMEOUT).min(period);
    Check {
        r#override: None,
        level: c.level,
        startup: Some(c.startup.unwrap_or(Startup::Enabled)),
        period: Some(period),
        timeout: Some(timeout),
        threshold: Some(
            c.threshold
                .filter(|t| *t != 0)
                .unwrap_or(DEFAULT_CHECK_THRESHOLD),
        ),
        http: c.http.as_ref().map(|h| HttpCheck {
            url: non_empty(&h.url),
            headers: h.headers.clone(),
        }),
        tcp: c.tcp.as_ref().map(|t| TcpCheck {
            port: t.port,
            host: Some(non_empty(&t.host).unwrap_or_else(|| DEFAULT_TCP_HOST.to_owned())),
        }),
        exec: c.exec.as_ref().map(|e| ExecCheck {
            command: non_empty(&e.command),
            service_context: non_empty(&e.service_context),
            environment: e.environment.clone(),
            user_id: e.user_id,
            user: non_empty(&e.user),
            group_id: e.group_id,
            group: non_empty(&e.group),
            working_dir: non_empty(&e.working_dir),
        }),
    }
}

fn effective_log_target(t: &LogTarget) -> LogTarget {
    LogTarget {
        r#override: None,
        r#type: t.r#type,
        location: non_empty(&t.location),
        services: t.services.clone(),
        labels: t.labels.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(yaml: &str) -> Layer {
        Layer::from_yaml(yaml).unwrap()
    }

    const DESIRED: &str = r#"
services:
  web:
    override: replace
    command: /bin/web
    startup: enabled
    kill-delay: 60s
checks:
  up:
    override: replace
    level: ready
    tcp: {port: 8080}
"#;

    /// What Pebble v1.19.2 renders for DESIRED (defaults left out except the threshold).
    const RENDERED: &str = r#"
services:
    web:
        startup: enabled
        override: replace
        command: /bin/web
        kill-delay: 1m0s
checks:
    up:
        override: replace
        level: ready
        threshold: 3
        tcp:
            port: 8080
"#;

    #[test]
    fn rendered_defaults_and_durations_still_satisfy() {
        let plan = Plan::from_yaml(RENDERED).unwrap();
        assert!(plan.satisfies(&layer(DESIRED)));
    }

    #[test]
    fn any_changed_field_breaks_satisfaction() {
        let plan = Plan::from_yaml(RENDERED).unwrap();
        for changed in [
            DESIRED.replace("/bin/web", "/bin/other"),
            DESIRED.replace("60s", "61s"),
            DESIRED.replace("startup: enabled", "startup: disabled"),
            DESIRED.replace("level: ready", "level: alive"),
            DESIRED.replace("8080", "8081"),
            format!("{DESIRED}log-targets: {{l: {{override: replace, type: loki, location: x}}}}"),
        ] {
            assert!(!plan.satisfies(&layer(&changed)), "{changed}");
        }
    }

    #[test]
    fn explicit_defaults_equal_unset_ones() {
        let plan = Plan::from_yaml(RENDERED).unwrap();
        let explicit = DESIRED.replace(
            "kill-delay: 60s",
            "kill-delay: 60s\n    backoff-delay: 500ms\n    on-failure: restart",
        );
        assert!(plan.satisfies(&layer(&explicit)));
    }

    #[test]
    fn merge_objects_only_need_to_be_covered() {
        let plan = Plan::from_yaml(
            "services: {web: {override: replace, command: /bin/web, environment: {A: '1', B: '2'}, after: [db]}}",
        )
        .unwrap();
        assert!(plan.satisfies(&layer(
            "services: {web: {override: merge, environment: {B: '2'}}}"
        )));
        assert!(!plan.satisfies(&layer(
            "services: {web: {override: merge, environment: {B: '3'}}}"
        )));
        assert!(!plan.satisfies(&layer(
            "services: {web: {override: replace, environment: {B: '2'}}}"
        )));
        assert!(!plan.satisfies(&layer("services: {web: {override: merge, after: [cache]}}")));
    }
}
