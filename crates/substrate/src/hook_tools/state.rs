//! `state-get`, `state-set`, `state-delete` (contract §2.17): unit-scoped charm state,
//! buffered in the hook and committed on success. Setting `""` stores an empty string.

use serde_json::Value;

use super::{
    ALL_FORMATS, Call, FORMAT, FlagSpec, Format, Output, ToolError, at_most, format_of,
    parse_key_values, parse_string_map,
};

/// Longest key `state-set` accepts (core/quota).
const MAX_KEY: usize = 256;
/// Longest value `state-set` accepts.
const MAX_VALUE: usize = 65536;

pub(super) fn state_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, FlagSpec::boolean("strict", None)])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    at_most(&parsed, 1)?;
    let state = call.ctx.state(call.model);
    let output = match parsed.positional.first().filter(|k| k.as_str() != "-") {
        Some(key) => match state.get(key) {
            Some(value) => Output::Text(value.clone()),
            None if parsed.flag("strict") => {
                return Err(ToolError::Run(format!("{key:?} not found")));
            }
            None => Output::Text(String::new()),
        },
        // Juju's context returns a nil map when nothing is stored.
        None if state.is_empty() => Output::Nil,
        None => Output::Value(Value::Object(
            state
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )),
    };
    Ok(output.render(format))
}

pub(super) fn state_set(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FlagSpec::value("file", None)])?;
    let positional = parse_key_values(&parsed.positional)?;
    let mut changes = match parsed.value("file") {
        Some(path) => parse_string_map(&call.file_content(path)?)?,
        None => Default::default(),
    };
    changes.extend(positional);
    for (key, value) in &changes {
        if key.len() > MAX_KEY {
            return Err(ToolError::Run(format!(
                "max allowed key length ({MAX_KEY}) exceeded"
            )));
        }
        if value.len() > MAX_VALUE {
            return Err(ToolError::Run(format!(
                "max allowed value length ({MAX_VALUE}) exceeded"
            )));
        }
    }
    let mut state = call.ctx.state(call.model);
    state.extend(changes);
    call.ctx.set_state(state);
    Ok(Vec::new())
}

pub(super) fn state_delete(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[])?;
    at_most(&parsed, 1)?;
    if let Some(key) = parsed.positional.first() {
        let mut state = call.ctx.state(call.model);
        if state.remove(key).is_some() {
            call.ctx.set_state(state);
        }
    }
    Ok(Vec::new())
}
