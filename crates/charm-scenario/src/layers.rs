//! How Pebble folds layers: within one label (`add` with `combine`) and across labels
//! into the plan. An object with `override: replace` replaces the lower one; with
//! `override: merge` its set fields overwrite, its lists append and its maps merge key by
//! key. An object without `override` is refused, as Pebble refuses it.

use std::collections::BTreeMap;

use pebble_client::{Check, Layer, LogTarget, Override, Plan, Service};

/// Why layers cannot be combined (Pebble's own messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// An object does not say how it combines.
    #[error("layer {label:?} must define \"override\" for {kind} {name:?}")]
    MissingOverride {
        /// The layer's label.
        label: String,
        /// `service`, `check` or `log target`.
        kind: &'static str,
        /// The object's name.
        name: String,
    },
    /// A service of the combined plan has no command.
    #[error("plan must define \"command\" for service {0:?}")]
    MissingCommand(String),
}

/// The plan the layers give, in order (lowest first).
pub fn combine_layers<'a>(
    layers: impl IntoIterator<Item = (&'a str, &'a Layer)>,
) -> Result<Plan, LayerError> {
    let mut combined = Layer::default();
    for (label, layer) in layers {
        merge_layer(&mut combined, layer, label)?;
    }
    for (name, service) in &combined.services {
        if service.command.as_deref().is_none_or(str::is_empty) {
            return Err(LayerError::MissingCommand(name.clone()));
        }
    }
    Ok(Plan {
        services: combined.services,
        checks: combined.checks,
        log_targets: combined.log_targets,
    })
}

/// Folds `top` (from the layer labelled `label`) into `base`.
pub fn merge_layer(base: &mut Layer, top: &Layer, label: &str) -> Result<(), LayerError> {
    if top.summary.as_deref().is_some_and(|s| !s.is_empty()) {
        base.summary.clone_from(&top.summary);
    }
    if top.description.as_deref().is_some_and(|s| !s.is_empty()) {
        base.description.clone_from(&top.description);
    }
    fold(
        &mut base.services,
        &top.services,
        label,
        "service",
        |s| s.r#override,
        merge_service,
    )?;
    fold(
        &mut base.checks,
        &top.checks,
        label,
        "check",
        |c| c.r#override,
        merge_check,
    )?;
    fold(
        &mut base.log_targets,
        &top.log_targets,
        label,
        "log target",
        |t| t.r#override,
        merge_log_target,
    )
}

fn fold<T: Clone>(
    base: &mut BTreeMap<String, T>,
    top: &BTreeMap<String, T>,
    label: &str,
    kind: &'static str,
    override_of: fn(&T) -> Option<Override>,
    merge: fn(&mut T, &T),
) -> Result<(), LayerError> {
    for (name, object) in top {
        match override_of(object) {
            None => {
                return Err(LayerError::MissingOverride {
                    label: label.to_owned(),
                    kind,
                    name: name.clone(),
                });
            }
            Some(Override::Merge) if base.contains_key(name) => {
                if let Some(existing) = base.get_mut(name) {
                    merge(existing, object);
                }
            }
            Some(_) => {
                base.insert(name.clone(), object.clone());
            }
        }
    }
    Ok(())
}

fn set<T: Clone>(target: &mut Option<T>, value: &Option<T>) {
    if value.is_some() {
        target.clone_from(value);
    }
}

fn set_text(target: &mut Option<String>, value: &Option<String>) {
    if value.as_deref().is_some_and(|v| !v.is_empty()) {
        target.clone_from(value);
    }
}

fn merge_service(base: &mut Service, top: &Service) {
    set(&mut base.r#override, &top.r#override);
    set_text(&mut base.summary, &top.summary);
    set_text(&mut base.description, &top.description);
    set(&mut base.startup, &top.startup);
    set_text(&mut base.command, &top.command);
    base.after.extend(top.after.iter().cloned());
    base.before.extend(top.before.iter().cloned());
    base.requires.extend(top.requires.iter().cloned());
    base.environment.extend(top.environment.clone());
    set(&mut base.user_id, &top.user_id);
    set_text(&mut base.user, &top.user);
    set(&mut base.group_id, &top.group_id);
    set_text(&mut base.group, &top.group);
    set_text(&mut base.working_dir, &top.working_dir);
    set(&mut base.on_success, &top.on_success);
    set(&mut base.on_failure, &top.on_failure);
    base.on_check_failure.extend(top.on_check_failure.clone());
    set(&mut base.backoff_delay, &top.backoff_delay);
    set(&mut base.backoff_factor, &top.backoff_factor);
    set(&mut base.backoff_limit, &top.backoff_limit);
    set(&mut base.kill_delay, &top.kill_delay);
    set_text(&mut base.workload, &top.workload);
}

fn merge_check(base: &mut Check, top: &Check) {
    set(&mut base.r#override, &top.r#override);
    set(&mut base.level, &top.level);
    set(&mut base.startup, &top.startup);
    set(&mut base.period, &top.period);
    set(&mut base.timeout, &top.timeout);
    set(&mut base.threshold, &top.threshold);
    if let Some(http) = &top.http {
        let target = base.http.get_or_insert_with(Default::default);
        set_text(&mut target.url, &http.url);
        target.headers.extend(http.headers.clone());
    }
    if let Some(tcp) = &top.tcp {
        let target = base.tcp.get_or_insert_with(Default::default);
        set(&mut target.port, &tcp.port);
        set_text(&mut target.host, &tcp.host);
    }
    if let Some(exec) = &top.exec {
        let target = base.exec.get_or_insert_with(Default::default);
        set_text(&mut target.command, &exec.command);
        set_text(&mut target.service_context, &exec.service_context);
        target.environment.extend(exec.environment.clone());
        set(&mut target.user_id, &exec.user_id);
        set_text(&mut target.user, &exec.user);
        set(&mut target.group_id, &exec.group_id);
        set_text(&mut target.group, &exec.group);
        set_text(&mut target.working_dir, &exec.working_dir);
    }
}

fn merge_log_target(base: &mut LogTarget, top: &LogTarget) {
    set(&mut base.r#override, &top.r#override);
    set(&mut base.r#type, &top.r#type);
    set_text(&mut base.location, &top.location);
    base.services.extend(top.services.iter().cloned());
    base.labels.extend(top.labels.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(yaml: &str) -> Layer {
        Layer::from_yaml(yaml).unwrap()
    }

    #[test]
    fn replace_replaces_and_merge_merges() {
        let base = layer(
            "services: {web: {override: replace, command: /bin/web, environment: {A: '1'}, after: [db]}}",
        );
        let merge =
            layer("services: {web: {override: merge, environment: {B: '2'}, after: [cache]}}");
        let plan = combine_layers([("base", &base), ("extra", &merge)]).unwrap();
        let web = &plan.services["web"];
        assert_eq!(web.command.as_deref(), Some("/bin/web"));
        assert_eq!(web.environment.len(), 2);
        assert_eq!(web.after, ["db", "cache"]);

        let replace = layer("services: {web: {override: replace, command: /bin/other}}");
        let plan = combine_layers([("base", &base), ("extra", &replace)]).unwrap();
        assert!(plan.services["web"].environment.is_empty());
        assert_eq!(plan.services["web"].command.as_deref(), Some("/bin/other"));
    }

    #[test]
    fn missing_override_and_command_are_refused() {
        let no_override = layer("services: {web: {command: /bin/web}}");
        let err = combine_layers([("base", &no_override)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer \"base\" must define \"override\" for service \"web\""
        );
        let no_command = layer("services: {web: {override: merge, startup: enabled}}");
        let err = combine_layers([("base", &no_command)]).unwrap_err();
        assert_eq!(err, LayerError::MissingCommand("web".into()));
    }
}
