//! `action-get`, `action-set`, `action-fail`, `action-log` (contract §2.13). Results and
//! the failure are kept in the context and recorded when the action ends; log messages
//! are recorded at once.

use serde_json::Value;

use super::{ALL_FORMATS, Call, FORMAT, Format, Output, ToolError, at_most, format_of};

const RESERVED: [&str; 4] = ["stdout", "stdout-encoding", "stderr", "stderr-encoding"];

fn require_action(call: &Call<'_>) -> Result<u64, ToolError> {
    call.ctx
        .info
        .action
        .as_ref()
        .map(|a| a.id)
        .ok_or_else(|| ToolError::Run("not running an action".into()))
}

pub(super) fn action_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let id = require_action(call)?;
    let parsed = call.parse(&[FORMAT])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    at_most(&parsed, 1)?;
    let params = call
        .model
        .actions
        .get(&id)
        .map(|a| a.params.clone())
        .unwrap_or_default();
    let mut value = Value::Object(params.into_iter().collect());
    if let Some(path) = parsed.positional.first() {
        for part in path.split('.') {
            value = match value {
                Value::Object(mut map) => map.remove(part).unwrap_or(Value::Null),
                _ => Value::Null,
            };
        }
    }
    Ok(Output::from(value).render(format))
}

fn valid_key_part(part: &str) -> bool {
    let bytes = part.as_bytes();
    let ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.first().is_some_and(ok)
        && bytes.last().is_some_and(ok)
        && bytes.iter().all(|b| ok(b) || *b == b'-')
}

pub(super) fn action_set(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    require_action(call)?;
    let parsed = call.parse(&[])?;
    let mut pairs = Vec::new();
    for arg in &parsed.positional {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(ToolError::Usage(format!(
                "argument {arg:?} must be of the form key...=value"
            )));
        };
        let parts: Vec<&str> = key.split('.').collect();
        if !parts.iter().all(|p| valid_key_part(p)) {
            return Err(ToolError::Usage(format!(
                "key {key:?} must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods"
            )));
        }
        if RESERVED.contains(&key) {
            return Err(ToolError::Usage(format!(
                "cannot set reserved action key {key:?}"
            )));
        }
        pairs.push((
            parts.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>(),
            value.to_owned(),
        ));
    }
    for (parts, value) in pairs {
        insert_nested(&mut call.ctx.action_results, &parts, value);
    }
    Ok(Vec::new())
}

/// Puts `value` at the dotted path; a scalar replaces a map and a map a scalar.
fn insert_nested(
    map: &mut std::collections::BTreeMap<String, Value>,
    parts: &[String],
    value: String,
) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        map.insert(first.clone(), Value::String(value));
        return;
    }
    let entry = map
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Default::default()));
    if !entry.is_object() {
        *entry = Value::Object(Default::default());
    }
    if let Value::Object(inner) = entry {
        let mut nested: std::collections::BTreeMap<String, Value> =
            std::mem::take(inner).into_iter().collect();
        insert_nested(&mut nested, rest, value);
        *inner = nested.into_iter().collect();
    }
}

pub(super) fn action_fail(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    require_action(call)?;
    let parsed = call.parse(&[])?;
    at_most(&parsed, 1)?;
    let message = parsed.positional.first().cloned().unwrap_or_else(|| {
        "action failed without reason given, check action for errors".to_owned()
    });
    call.ctx.action_failed = Some(message);
    Ok(Vec::new())
}

pub(super) fn action_log(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let id = require_action(call)?;
    let parsed = call.parse(&[])?;
    if parsed.positional.is_empty() {
        return Err(ToolError::Usage("no message specified".into()));
    }
    let message = parsed.positional.join(" ");
    if let Some(action) = call.model.actions.get_mut(&id) {
        action.log.push(message);
    }
    Ok(Vec::new())
}
