//! `relation-ids`, `relation-list`, `relation-get`, `relation-set`, `relation-model-get`
//! (contract §2.2–2.6), with Juju's access rules: a unit reads and writes its own unit
//! bag; only the leader reads (outside peer relations) and writes its application's bag;
//! remote bags are read-only.

use serde_json::Value;

use super::{
    ALL_FORMATS, BagOwner, Call, FORMAT, FlagSpec, Format, Output, ToolError, at_most, format_of,
    parse_key_values, parse_string_map,
};
use crate::model::app_of;

const RELATION: FlagSpec = FlagSpec::value("relation", Some('r'));
const APP: FlagSpec = FlagSpec::boolean("app", None);

pub(super) fn relation_ids(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    at_most(&parsed, 1)?;
    let endpoint = match parsed.positional.first() {
        Some(ep) => ep.clone(),
        None => call
            .ctx
            .info
            .relation_id
            .and_then(|id| call.model.relations.get(&id))
            .and_then(|r| r.end_of(&call.ctx.app))
            .map(|e| e.endpoint.clone())
            .ok_or_else(|| ToolError::Usage("no endpoint name specified".into()))?,
    };
    let broken = call
        .ctx
        .info
        .broken
        .then_some(call.ctx.info.relation_id)
        .flatten();
    let mut ids: Vec<String> = call
        .model
        .relations
        .values()
        .filter(|r| r.has_end(&call.ctx.app, &endpoint) && Some(r.id) != broken)
        .map(|r| format!("{endpoint}:{}", r.id))
        .collect();
    ids.sort();
    Ok(Output::List(ids).render(format))
}

pub(super) fn relation_list(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, RELATION, APP])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    let id = call.required_relation(&parsed)?;
    at_most(&parsed, 0)?;
    let rel = call
        .model
        .relation(id)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    if parsed.flag("app") {
        let remote = rel.remote_app(&call.ctx.app).unwrap_or_default().to_owned();
        return Ok(Output::Text(remote).render(format));
    }
    let members: Vec<String> = call
        .model
        .unit(&call.ctx.unit)
        .ok()
        .and_then(|u| u.joined.get(&id))
        .map(|set| set.iter().cloned().collect())
        .unwrap_or_default();
    Ok(Output::List(members).render(format))
}

pub(super) fn relation_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, RELATION, APP])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    let id = call.required_relation(&parsed)?;
    at_most(&parsed, 2)?;
    let key = parsed
        .positional
        .first()
        .filter(|k| k.as_str() != "-")
        .cloned();
    let want_app = parsed.flag("app");
    let owner = match parsed.positional.get(1) {
        Some(name) if want_app => BagOwner::App(app_of(name).to_owned()),
        Some(name) => {
            if name.contains('/') {
                BagOwner::Unit(name.clone())
            } else if call.model.applications.contains_key(name) {
                return Err(ToolError::Usage(format!(
                    "expected unit name, got application name {name:?}"
                )));
            } else {
                return Err(ToolError::Usage(format!("invalid unit name {name:?}")));
            }
        }
        None => {
            let info = &call.ctx.info;
            match (&info.remote_unit, &info.remote_app, want_app) {
                (_, Some(app), true) => BagOwner::App(app.clone()),
                (Some(unit), _, false) => BagOwner::Unit(unit.clone()),
                (None, Some(app), false) => BagOwner::App(app.clone()),
                _ => {
                    return Err(ToolError::Usage("no unit or application specified".into()));
                }
            }
        }
    };
    let rel = call
        .model
        .relation(id)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    let is_peer = rel.is_peer();
    match &owner {
        BagOwner::Unit(unit) if unit != &call.ctx.unit => {
            let known = rel.involves(app_of(unit)) && call.model.unit(unit).is_ok();
            let departed_data = rel.unit_bags.contains_key(unit);
            if !known && !departed_data {
                return Err(ToolError::Run(format!("unknown unit {unit}")));
            }
        }
        BagOwner::App(app) if app == &call.ctx.app => {
            let leader = call.ctx.is_leader(call.model);
            if !leader && !is_peer {
                return Err(ToolError::Run("permission denied".into()));
            }
        }
        BagOwner::App(app) => {
            if !rel.involves(app) {
                return Err(ToolError::Run("permission denied".into()));
            }
        }
        BagOwner::Unit(_) => {}
    }
    let bag = call.ctx.bag(call.model, id, &owner);
    let output = match key {
        Some(key) => bag.get(&key).cloned().map_or(Output::Nil, Output::Text),
        None => Output::Value(Value::from(
            bag.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect::<serde_json::Map<_, _>>(),
        )),
    };
    Ok(output.render(format))
}

pub(super) fn relation_set(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, RELATION, APP, FlagSpec::value("file", None)])?;
    if parsed.value("format").is_some() {
        call.warnings
            .extend_from_slice(b"--format flag deprecated for command \"relation-set\"\n");
    }
    let id = call.required_relation(&parsed)?;
    let positional = parse_key_values(&parsed.positional)?;
    let mut changes = match parsed.value("file") {
        Some(path) => parse_string_map(&call.file_content(path)?)?,
        None => Default::default(),
    };
    changes.extend(positional);
    let owner = if parsed.flag("app") {
        if !call.ctx.is_leader(call.model) {
            return Err(ToolError::Run("cannot write relation settings".into()));
        }
        BagOwner::App(call.ctx.app.clone())
    } else {
        BagOwner::Unit(call.ctx.unit.clone())
    };
    let mut bag = call.ctx.bag(call.model, id, &owner);
    for (key, value) in changes {
        if value.is_empty() {
            bag.remove(&key);
        } else {
            bag.insert(key, value);
        }
    }
    call.ctx.set_bag(id, owner, bag);
    Ok(Vec::new())
}

pub(super) fn relation_model_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, RELATION])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    call.required_relation(&parsed)?;
    at_most(&parsed, 0)?;
    Ok(Output::Value(serde_json::json!({ "uuid": call.model.uuid })).render(format))
}
