//! The secret tools (contract §2.18): `secret-add`, `secret-set`, `secret-get`,
//! `secret-info-get`, `secret-ids`, `secret-grant`, `secret-revoke`, `secret-remove`.
//!
//! Every change is buffered in the context (read-your-writes) and committed with the
//! hook. Content is stored base64-encoded, as Juju stores it; values arrive through
//! `key#file=<path>` files shipped by the client (ops' and our charm's way, so they never
//! appear in argv), `key#base64=<b64>`, `key=value` or `--file`.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{Call, FORMAT, FlagSpec, Format, Output, ToolError, format_of, unrecognized};
use crate::model::{Consumer, Grant, Secret, SecretOwner, new_secret_xid};

/// Largest value (8 KiB) and whole secret (64 KiB) Juju accepts.
const MAX_VALUE: usize = 8 * 1024;
const MAX_CONTENT: usize = 64 * 1024;
const ROTATE_POLICIES: [&str; 7] = [
    "never",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
];
const SECRET_FORMATS: &[Format] = &[Format::Yaml, Format::Json];

fn metadata_flags() -> Vec<FlagSpec> {
    vec![
        FlagSpec::value("label", None),
        FlagSpec::value("description", None),
        FlagSpec::value("expire", None),
        FlagSpec::value("rotate", None),
        FlagSpec::value("owner", None),
        FlagSpec::value("file", None),
    ]
}

/// `^([a-z](?:-?[a-z0-9]){2,})$`
fn valid_content_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    if bytes.len() < 3 || !bytes[0].is_ascii_lowercase() || bytes.ends_with(b"-") {
        return false;
    }
    let mut groups = 0;
    let mut prev_dash = false;
    for b in &bytes[1..] {
        match b {
            b'-' if !prev_dash => prev_dash = true,
            b'a'..=b'z' | b'0'..=b'9' => {
                prev_dash = false;
                groups += 1;
            }
            _ => return false,
        }
    }
    groups >= 2
}

/// Parses content arguments into base64-encoded values.
fn parse_content(
    call: &Call<'_>,
    args: &[String],
    file: Option<&str>,
) -> Result<BTreeMap<String, String>, ToolError> {
    let mut content = BTreeMap::new();
    if let Some(path) = file {
        for (k, v) in super::parse_string_map(&call.file_content(path)?)? {
            content.insert(k, STANDARD.encode(v));
        }
    }
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(ToolError::Usage(format!("key value {arg:?} not valid")));
        };
        let (key, encoded) = if let Some(k) = key.strip_suffix("#base64") {
            if STANDARD.decode(value).is_err() {
                return Err(ToolError::Usage(format!("key value {arg:?} not valid")));
            }
            (k, value.to_owned())
        } else if let Some(k) = key.strip_suffix("#file") {
            let bytes = call.file_content(value).map_err(|_| {
                ToolError::Usage(format!(
                    "reading secret value from file {value:?}: no such file"
                ))
            })?;
            (k, STANDARD.encode(bytes))
        } else {
            (key, STANDARD.encode(value.trim()))
        };
        if !valid_content_key(key) {
            return Err(ToolError::Usage(format!("key {key:?} not valid")));
        }
        if encoded.len() * 3 / 4 > MAX_VALUE {
            return Err(ToolError::Usage(format!(
                "secret content for key {key:?} too large: {} bytes",
                encoded.len() * 3 / 4
            )));
        }
        content.insert(key.to_owned(), encoded);
    }
    let total: usize = content.values().map(|v| v.len() * 3 / 4).sum();
    if total > MAX_CONTENT {
        return Err(ToolError::Usage(format!(
            "secret content too large: {total} bytes"
        )));
    }
    Ok(content)
}

fn check_metadata(parsed: &super::Parsed) -> Result<(), ToolError> {
    if let Some(rotate) = parsed.value("rotate")
        && !ROTATE_POLICIES.contains(&rotate)
    {
        return Err(ToolError::Usage(format!(
            "rotate policy {rotate:?} not valid"
        )));
    }
    if let Some(expire) = parsed.value("expire") {
        if let Some(stripped) = expire.strip_prefix('-')
            && humantime::parse_duration(stripped).is_ok()
        {
            return Err(ToolError::Usage(format!(
                "negative expire duration {expire:?} not valid"
            )));
        }
        let ok = humantime::parse_duration(expire).is_ok()
            || humantime::parse_rfc3339_weak(expire).is_ok();
        if !ok {
            return Err(ToolError::Usage(format!(
                "expire time or duration {expire:?} not valid"
            )));
        }
    }
    Ok(())
}

/// Parses `secret:<xid>` or `secret://<uuid>/<xid>` into the xid.
fn parse_uri(text: &str) -> Result<String, ToolError> {
    let xid = text
        .strip_prefix("secret://")
        .and_then(|rest| rest.rsplit_once('/').map(|(_, x)| x))
        .or_else(|| text.strip_prefix("secret:"))
        .unwrap_or(text);
    let valid = xid.len() == 20
        && xid
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    if valid {
        Ok(xid.to_owned())
    } else {
        Err(ToolError::Usage(format!("secret URI {text:?} not valid")))
    }
}

/// The secret this unit may manage (owner, and leader for application-owned ones).
fn managed_secret(call: &mut Call<'_>, uri: &str) -> Result<Secret, ToolError> {
    let xid = parse_uri(uri)?;
    let secrets = call.ctx.secrets(call.model);
    let secret = secrets
        .get(&xid)
        .filter(|s| s.is_owned_by(&call.ctx.unit, &call.ctx.app))
        .cloned()
        .ok_or_else(|| ToolError::Run(format!("secret {xid:?} not found")))?;
    if matches!(secret.owner, SecretOwner::Application(_)) && !call.ctx.is_leader(call.model) {
        return Err(ToolError::Run("this unit is not the leader".into()));
    }
    Ok(secret)
}

pub(super) fn secret_add(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&metadata_flags())?;
    check_metadata(&parsed)?;
    let owner = match parsed.value("owner").unwrap_or("application") {
        "application" => SecretOwner::Application(call.ctx.app.clone()),
        "unit" => SecretOwner::Unit(call.ctx.unit.clone()),
        other => {
            return Err(ToolError::Usage(format!(
                "secret owner {other:?} not valid"
            )));
        }
    };
    if parsed.positional.is_empty() && parsed.value("file").is_none() {
        return Err(ToolError::Usage("missing secret value or filename".into()));
    }
    let content = parse_content(call, &parsed.positional, parsed.value("file"))?;
    if content.is_empty() {
        return Err(ToolError::Run("empty secret value not valid".into()));
    }
    if matches!(owner, SecretOwner::Application(_)) && !call.ctx.is_leader(call.model) {
        return Err(ToolError::Run("this unit is not the leader".into()));
    }
    let label = parsed.value("label").map(str::to_owned);
    if let Some(label) = &label {
        let taken = call
            .ctx
            .secrets(call.model)
            .values()
            .any(|s| s.owner == owner && s.label.as_ref() == Some(label));
        if taken {
            return Err(ToolError::Run(format!(
                "secret with label {label:?} already exists"
            )));
        }
    }
    let xid = new_secret_xid();
    let secret = Secret {
        xid: xid.clone(),
        owner,
        label,
        description: parsed.value("description").map(str::to_owned),
        rotate: parsed.value("rotate").map(str::to_owned),
        expire: parsed.value("expire").map(str::to_owned),
        revisions: BTreeMap::from([(1, content)]),
        grants: Vec::new(),
        consumers: BTreeMap::new(),
    };
    call.ctx.put_secret(&xid, Some(secret));
    Ok(format!("{}\n", call.model.secret_uri(&xid)).into_bytes())
}

pub(super) fn secret_set(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&metadata_flags())?;
    check_metadata(&parsed)?;
    let Some((uri, rest)) = parsed.positional.split_first() else {
        return Err(ToolError::Usage("missing secret URI".into()));
    };
    let content = parse_content(call, rest, parsed.value("file"))?;
    let mut secret = managed_secret(call, uri)?;
    if !content.is_empty() {
        let latest = secret.latest();
        if secret.revisions.get(&latest) != Some(&content) {
            secret.revisions.insert(latest + 1, content);
        }
    }
    for (flag, slot) in [
        ("label", &mut secret.label),
        ("description", &mut secret.description),
        ("rotate", &mut secret.rotate),
        ("expire", &mut secret.expire),
    ] {
        if let Some(value) = parsed.value(flag) {
            *slot = Some(value.to_owned());
        }
    }
    let xid = secret.xid.clone();
    call.ctx.put_secret(&xid, Some(secret));
    Ok(Vec::new())
}

pub(super) fn secret_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[
        FORMAT,
        FlagSpec::value("label", None),
        FlagSpec::boolean("peek", None),
        FlagSpec::boolean("refresh", None),
    ])?;
    let format = format_of(&parsed, Format::Yaml, SECRET_FORMATS)?;
    if parsed.flag("peek") && parsed.flag("refresh") {
        return Err(ToolError::Usage(
            "specify one of --peek or --refresh but not both".into(),
        ));
    }
    let label = parsed.value("label");
    let (uri, key) = match parsed.positional.as_slice() {
        [] => (None, None),
        [one] if one.starts_with("secret:") => (Some(one.clone()), None),
        [one] if label.is_some() => (None, Some(one.clone())),
        [one] => (Some(one.clone()), None),
        [uri, key] => (Some(uri.clone()), Some(key.clone())),
        [_, _, extra @ ..] => return Err(unrecognized(extra)),
    };
    if uri.is_none() && label.is_none() {
        return Err(ToolError::Usage(
            "require either a secret URI or label".into(),
        ));
    }
    let unit = call.ctx.unit.clone();
    let app = call.ctx.app.clone();
    let secrets = call.ctx.secrets(call.model);
    let mut secret = match &uri {
        Some(uri) => {
            let xid = parse_uri(uri)?;
            secrets
                .get(&xid)
                .cloned()
                .ok_or_else(|| ToolError::Run(format!("secret {uri:?} not found")))?
        }
        None => {
            let label = label.unwrap_or_default();
            secrets
                .values()
                .find(|s| {
                    (s.is_owned_by(&unit, &app) && s.label.as_deref() == Some(label))
                        || s.consumers.get(&unit).and_then(|c| c.label.as_deref()) == Some(label)
                })
                .cloned()
                .ok_or_else(|| ToolError::Run(format!("secret with label {label:?} not found")))?
        }
    };
    if !secret.can_read(&unit, &app) {
        return Err(ToolError::Run("permission denied".into()));
    }
    let owner = secret.is_owned_by(&unit, &app);
    let latest = secret.latest();
    let before = secret.clone();
    let revision = if owner || parsed.flag("peek") {
        latest
    } else {
        let consumer = secret.consumers.entry(unit.clone()).or_insert(Consumer {
            tracked: latest,
            label: None,
        });
        if parsed.flag("refresh") {
            consumer.tracked = latest;
        }
        consumer.tracked
    };
    if let (Some(_), Some(label)) = (&uri, label) {
        if owner {
            secret.label = Some(label.to_owned());
        } else if let Some(consumer) = secret.consumers.get_mut(&unit) {
            consumer.label = Some(label.to_owned());
        }
    }
    if secret != before {
        let xid = secret.xid.clone();
        call.ctx.put_secret(&xid, Some(secret.clone()));
    }
    let content = secret.revisions.get(&revision).cloned().unwrap_or_default();
    let output = match key {
        Some(key) => {
            let (name, raw) = match key.strip_suffix("#base64") {
                Some(name) => (name.to_owned(), true),
                None => (key.clone(), false),
            };
            let encoded = content
                .get(&name)
                .ok_or_else(|| ToolError::Run(format!("secret key value {name:?} not found")))?;
            if raw {
                Output::Text(encoded.clone())
            } else {
                Output::Text(decode(encoded))
            }
        }
        None => Output::Value(Value::Object(
            content
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(decode(v))))
                .collect(),
        )),
    };
    Ok(output.render(format))
}

fn decode(encoded: &str) -> String {
    STANDARD
        .decode(encoded)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

pub(super) fn secret_info_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, FlagSpec::value("label", None)])?;
    let format = format_of(&parsed, Format::Yaml, SECRET_FORMATS)?;
    let label = parsed.value("label");
    let uri = parsed.positional.first();
    if parsed.positional.len() > 1 {
        return Err(unrecognized(&parsed.positional[1..]));
    }
    let wanted = match (uri, label) {
        (Some(_), Some(_)) => {
            return Err(ToolError::Usage(
                "specify either a secret URI or label but not both".into(),
            ));
        }
        (None, None) => {
            return Err(ToolError::Usage(
                "require either a secret URI or label".into(),
            ));
        }
        (Some(uri), None) => parse_uri(uri)?,
        (None, Some(label)) => label.to_owned(),
    };
    let (unit, app) = (call.ctx.unit.clone(), call.ctx.app.clone());
    let secrets = call.ctx.secrets(call.model);
    let secret = secrets
        .values()
        .filter(|s| s.is_owned_by(&unit, &app))
        .find(|s| match label {
            Some(l) => s.label.as_deref() == Some(l),
            None => s.xid == wanted,
        })
        .ok_or_else(|| ToolError::Run(format!("secret {wanted:?} not found")))?;
    let mut info = serde_json::Map::new();
    info.insert("revision".into(), json!(secret.latest()));
    if let Some(l) = &secret.label {
        info.insert("label".into(), json!(l));
    }
    info.insert("owner".into(), json!(secret.owner.kind()));
    if let Some(d) = &secret.description {
        info.insert("description".into(), json!(d));
    }
    if let Some(r) = &secret.rotate {
        info.insert("rotation".into(), json!(r));
    }
    if let Some(e) = &secret.expire {
        info.insert("expiry".into(), json!(e));
    }
    if !secret.grants.is_empty() {
        let access: Vec<Value> = secret
            .grants
            .iter()
            .map(|g| {
                let kind = if g.target.contains('/') {
                    "unit"
                } else {
                    "application"
                };
                json!({
                    "target": format!("{kind}-{}", g.target.replace('/', "-")),
                    "scope": format!("relation-{}", g.relation_id),
                    "role": "view",
                })
            })
            .collect();
        info.insert("access".into(), Value::Array(access));
    }
    let out = json!({ secret.xid.clone(): Value::Object(info) });
    Ok(Output::Value(out).render(format))
}

pub(super) fn secret_ids(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT])?;
    let format = format_of(&parsed, Format::Smart, super::ALL_FORMATS)?;
    super::at_most(&parsed, 0)?;
    let (unit, app) = (call.ctx.unit.clone(), call.ctx.app.clone());
    let ids: Vec<String> = call
        .ctx
        .secrets(call.model)
        .values()
        .filter(|s| s.is_owned_by(&unit, &app))
        .map(|s| s.xid.clone())
        .collect();
    let output = if ids.is_empty() {
        Output::Nil
    } else {
        Output::List(ids)
    };
    Ok(output.render(format))
}

pub(super) fn secret_grant(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[
        FlagSpec::value("relation", Some('r')),
        FlagSpec::value("unit", None),
    ])?;
    let Some(uri) = parsed.positional.first() else {
        return Err(ToolError::Usage("missing secret URI".into()));
    };
    super::at_most(&parsed, 1)?;
    let relation = call.required_relation(&parsed)?;
    let remote = call
        .model
        .relation(relation)
        .ok()
        .and_then(|r| r.remote_app(&call.ctx.app))
        .unwrap_or_default()
        .to_owned();
    let target = match parsed.value("unit") {
        Some(unit) if crate::model::app_of(unit) != remote => {
            return Err(ToolError::Usage(format!(
                "cannot specify unit {unit:?} in relation to application {remote:?}"
            )));
        }
        Some(unit) => unit.to_owned(),
        None => remote,
    };
    let mut secret = managed_secret(call, uri)?;
    if !secret
        .grants
        .iter()
        .any(|g| g.target == target && g.relation_id == relation)
    {
        secret.grants.push(Grant {
            target,
            relation_id: relation,
        });
    }
    let xid = secret.xid.clone();
    call.ctx.put_secret(&xid, Some(secret));
    Ok(Vec::new())
}

pub(super) fn secret_revoke(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[
        FlagSpec::value("relation", Some('r')),
        FlagSpec::value("app", None),
        FlagSpec::value("application", None),
        FlagSpec::value("unit", None),
    ])?;
    let Some(uri) = parsed.positional.first() else {
        return Err(ToolError::Usage("missing secret URI".into()));
    };
    super::at_most(&parsed, 1)?;
    let app = parsed.value("app").or(parsed.value("application"));
    let unit = parsed.value("unit");
    let relation = call
        .relation_flag(&parsed)?
        .filter(|_| parsed.value("relation").is_some());
    if app.is_some() && unit.is_some() {
        return Err(ToolError::Usage(
            "specify only one of application or unit".into(),
        ));
    }
    if relation.is_some() && app.is_some() {
        return Err(ToolError::Usage(
            "do not specify both relation and app".into(),
        ));
    }
    let target = match (relation, app, unit) {
        (_, _, Some(unit)) => unit.to_owned(),
        (_, Some(app), None) => app.to_owned(),
        (Some(id), None, None) => call
            .model
            .relation(id)
            .ok()
            .and_then(|r| r.remote_app(&call.ctx.app))
            .unwrap_or_default()
            .to_owned(),
        (None, None, None) => {
            return Err(ToolError::Usage(
                "missing relation or application or unit".into(),
            ));
        }
    };
    let mut secret = managed_secret(call, uri)?;
    secret.grants.retain(|g| g.target != target);
    let xid = secret.xid.clone();
    call.ctx.put_secret(&xid, Some(secret));
    Ok(Vec::new())
}

pub(super) fn secret_remove(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FlagSpec::value("revision", None)])?;
    let Some(uri) = parsed.positional.first() else {
        return Err(ToolError::Usage("missing secret URI".into()));
    };
    super::at_most(&parsed, 1)?;
    let revision = match parsed.value_spelled("revision") {
        Some((text, spelled)) => Some(text.parse::<u32>().map_err(|_| {
            ToolError::Usage(format!(
                "invalid value {text:?} for option {spelled}: strconv.Atoi: parsing {text:?}: invalid syntax"
            ))
        })?),
        None => None,
    };
    let mut secret = managed_secret(call, uri)?;
    let xid = secret.xid.clone();
    match revision {
        Some(rev) => {
            secret.revisions.remove(&rev);
            let remaining = if secret.revisions.is_empty() {
                None
            } else {
                Some(secret)
            };
            call.ctx.put_secret(&xid, remaining);
        }
        None => call.ctx.put_secret(&xid, None),
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keys_follow_juju() {
        for good in ["password", "secret-key", "abc", "a1b"] {
            assert!(valid_content_key(good), "{good}");
        }
        for bad in ["ab", "Password", "a--b", "1abc", "abc-", "a_b"] {
            assert!(!valid_content_key(bad), "{bad}");
        }
    }

    #[test]
    fn uris_in_both_forms() {
        let xid = "cn7gu0mdsd8c7ag2nmv0";
        assert_eq!(parse_uri(&format!("secret:{xid}")).unwrap(), xid);
        assert_eq!(parse_uri(&format!("secret://8f3c/{xid}")).unwrap(), xid);
        assert!(parse_uri("secret:nope").is_err());
    }
}
