//! `config-get`, `is-leader`, `juju-log`, `open-port`/`close-port`/`opened-ports`,
//! `network-get`, `goal-state` and `unit-get` (contract §2.1, 2.7, 2.11, 2.12, 2.14, 2.15).

use serde_json::{Value, json};

use super::{
    ALL_FORMATS, Call, FORMAT, FlagSpec, Format, Output, PortChange, ToolError, at_most, format_of,
    unrecognized,
};

/// The address a unit without a pod reports.
const FALLBACK_ADDRESS: &str = "127.0.0.1";

pub(super) fn config_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, FlagSpec::boolean("all", Some('a'))])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    let all = parsed.flag("all");
    if let Some(key) = parsed.positional.first()
        && all
    {
        return Err(ToolError::Usage(format!(
            "cannot use argument --all together with key {key:?}"
        )));
    }
    at_most(&parsed, 1)?;
    let app = call
        .model
        .app(&call.ctx.app)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    let output = match parsed.positional.first() {
        Some(key) => app
            .config
            .get(key)
            .cloned()
            .map_or(Output::Nil, Output::from),
        None => {
            let mut map: serde_json::Map<String, Value> = app
                .config
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if all {
                for key in app.charm.options.keys() {
                    map.entry(key.clone()).or_insert(Value::Null);
                }
            }
            Output::Value(Value::Object(map))
        }
    };
    Ok(output.render(format))
}

pub(super) fn is_leader(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    at_most(&parsed, 0)?;
    let leader = call.ctx.is_leader(call.model);
    Ok(Output::Bool(leader).render(format))
}

pub(super) fn juju_log(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[
        FlagSpec::boolean("debug", None),
        FlagSpec::value("log-level", Some('l')),
    ])?;
    if parsed.positional.is_empty() {
        return Err(ToolError::Usage("no message specified".into()));
    }
    let level = if parsed.flag("debug") {
        "DEBUG".to_owned()
    } else {
        match parsed
            .value("log-level")
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None => "INFO".to_owned(),
            Some("WARN" | "WARNING") => "WARNING".to_owned(),
            Some(l @ ("TRACE" | "DEBUG" | "INFO" | "ERROR" | "CRITICAL")) => l.to_owned(),
            Some(other) => {
                call.ctx.log(
                    "WARNING",
                    format!("unknown log level {other:?}, using INFO"),
                );
                "INFO".to_owned()
            }
        }
    };
    let mut message = parsed.positional.join(" ");
    if let Some(key) = call
        .ctx
        .info
        .relation_id
        .and_then(|id| call.model.relations.get(&id))
        .and_then(|r| r.key_for(&call.ctx.app))
    {
        message = format!("{key}: {message}");
    }
    call.ctx.log(&level, message);
    Ok(Vec::new())
}

/// A port spec normalised as Juju prints it: `80/tcp`, `53/udp`, `icmp`.
pub(crate) fn parse_port(text: &str) -> Result<String, ToolError> {
    let lower = text.to_ascii_lowercase();
    if lower == "icmp" {
        return Ok(lower);
    }
    let (range, protocol) = lower.split_once('/').unwrap_or((lower.as_str(), "tcp"));
    if !["tcp", "udp", "icmp"].contains(&protocol) {
        return Err(ToolError::Usage(format!(
            "invalid protocol {protocol:?}, expected \"tcp\", \"udp\", or \"icmp\""
        )));
    }
    let bounds: Vec<&str> = range.split('-').collect();
    if bounds.len() > 2 {
        return Err(ToolError::Usage(format!("invalid port range {range:?}")));
    }
    let mut numbers = Vec::new();
    for b in &bounds {
        let n: i64 = b.parse().map_err(|_| {
            ToolError::Usage(format!(
                "invalid port {b:?}: strconv.Atoi: parsing {b:?}: invalid syntax"
            ))
        })?;
        numbers.push(n);
    }
    let (from, to) = (numbers[0], *numbers.last().unwrap_or(&numbers[0]));
    if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) {
        return Err(ToolError::Usage(format!(
            "port range bounds must be between 0 and 65535, got {from}-{to}"
        )));
    }
    if from > to {
        return Err(ToolError::Usage(format!(
            "invalid port range {from}-{to}/{protocol}"
        )));
    }
    if from != to {
        return Err(ToolError::Run(
            "port ranges are not supported for k8s applications, please specify a single port"
                .into(),
        ));
    }
    Ok(format!("{from}/{protocol}"))
}

fn port_change(call: &mut Call<'_>, open: bool) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, FlagSpec::value("endpoints", None)])?;
    let Some(spec) = parsed.positional.first() else {
        return Err(ToolError::Usage("no port or range specified".into()));
    };
    if parsed.positional.len() > 1 {
        return Err(unrecognized(&parsed.positional[1..]));
    }
    let port = parse_port(spec)?;
    call.ctx.change_port(if open {
        PortChange::Open(port)
    } else {
        PortChange::Close(port)
    });
    Ok(Vec::new())
}

pub(super) fn open_port(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    port_change(call, true)
}

pub(super) fn close_port(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    port_change(call, false)
}

/// Sort key: tcp, then udp, then icmp; by port number within a protocol.
fn port_order(port: &str) -> (u8, u32) {
    match port.split_once('/') {
        Some((n, "tcp")) => (0, n.parse().unwrap_or(0)),
        Some((n, _)) => (1, n.parse().unwrap_or(0)),
        None => (2, 0),
    }
}

pub(super) fn opened_ports(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT, FlagSpec::boolean("endpoints", None)])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    at_most(&parsed, 0)?;
    let unit = call
        .model
        .unit(&call.ctx.unit)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    let mut ports: Vec<String> = unit.ports.iter().cloned().collect();
    ports.sort_by_key(|p| port_order(p));
    if parsed.flag("endpoints") {
        ports = ports.into_iter().map(|p| format!("{p} (*)")).collect();
    }
    Ok(Output::List(ports).render(format))
}

fn unit_address(call: &Call<'_>) -> String {
    call.model
        .unit(&call.ctx.unit)
        .ok()
        .and_then(|u| u.address.clone())
        .unwrap_or_else(|| FALLBACK_ADDRESS.to_owned())
}

pub(super) fn network_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[
        FORMAT,
        FlagSpec::value("relation", Some('r')),
        FlagSpec::boolean("bind-address", None),
        FlagSpec::boolean("ingress-address", None),
        FlagSpec::boolean("egress-subnets", None),
        FlagSpec::boolean("primary-address", None),
    ])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    call.relation_flag(&parsed)?;
    let Some(binding) = parsed.positional.first() else {
        return Err(ToolError::Usage("no arguments specified".into()));
    };
    at_most(&parsed, 1)?;
    let selectors: Vec<&str> = ["bind-address", "ingress-address", "egress-subnets"]
        .into_iter()
        .filter(|f| parsed.flag(f))
        .collect();
    if parsed.flag("primary-address") && !selectors.is_empty() {
        return Err(ToolError::Run(
            "--primary-address must be the only flag specified".into(),
        ));
    }
    let app = call
        .model
        .app(&call.ctx.app)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    if !app.charm.endpoints.contains_key(binding) {
        return Err(ToolError::Run(format!(
            "undefined for unit charm: endpoint {binding:?} not valid"
        )));
    }
    let address = unit_address(call);
    let subnet = format!("{address}/32");
    if parsed.flag("primary-address") {
        return Ok(Output::Text(address).render(format));
    }
    let value_of = |flag: &str| match flag {
        "bind-address" | "ingress-address" => Value::String(address.clone()),
        _ => json!([subnet]),
    };
    let output = match selectors.as_slice() {
        [] => Output::Value(json!({
            "bind-addresses": [{
                "mac-address": "",
                "interface-name": "eth0",
                "addresses": [{"hostname": "", "value": address, "cidr": subnet}],
            }],
            "egress-subnets": [subnet],
            "ingress-addresses": [address],
        })),
        [one] => Output::from(value_of(one)),
        many => Output::Value(Value::Object(
            many.iter()
                .map(|f| ((*f).to_owned(), value_of(f)))
                .collect(),
        )),
    };
    Ok(output.render(format))
}

/// `2006-01-02 15:04:05Z` from a status time.
fn goal_since(since_ms: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(since_ms);
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace('T', " ")
}

pub(super) fn goal_state(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT])?;
    let format = format_of(&parsed, Format::Yaml, &[Format::Yaml, Format::Json])?;
    at_most(&parsed, 0)?;
    let app = call
        .model
        .app(&call.ctx.app)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    let unit_goal = |u: &crate::model::Unit| {
        let status = if u.dying {
            "dying"
        } else {
            match u.workload.current.status.as_str() {
                s @ ("active" | "waiting" | "blocked" | "error") => s,
                _ => "waiting",
            }
        };
        json!({"status": status, "since": goal_since(u.workload.current.since_ms)})
    };
    let units: serde_json::Map<String, Value> = app
        .units
        .values()
        .map(|u| (u.name.clone(), unit_goal(u)))
        .collect();
    let mut relations = serde_json::Map::new();
    for rel in call
        .model
        .relations
        .values()
        .filter(|r| r.involves(&app.name))
    {
        let (Some(end), Some(remote)) = (rel.end_of(&app.name), rel.remote_app(&app.name)) else {
            continue;
        };
        let entry = relations
            .entry(end.endpoint.clone())
            .or_insert_with(|| Value::Object(Default::default()));
        let since = goal_since(crate::model::now_ms());
        let joined = json!({"status": if rel.dying { "broken" } else { "joined" }, "since": since});
        if let Value::Object(map) = entry {
            map.insert(remote.to_owned(), joined);
            if let Ok(remote_app) = call.model.app(remote) {
                for u in remote_app
                    .units
                    .values()
                    .filter(|u| u.name != call.ctx.unit)
                {
                    map.insert(u.name.clone(), unit_goal(u));
                }
            }
        }
    }
    Ok(Output::Value(json!({"units": units, "relations": relations})).render(format))
}

pub(super) fn unit_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FORMAT])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    let Some(key) = parsed.positional.first() else {
        return Err(ToolError::Usage("no setting specified".into()));
    };
    at_most(&parsed, 1)?;
    if key != "private-address" && key != "public-address" {
        return Err(ToolError::Usage(format!("unknown setting {key:?}")));
    }
    Ok(Output::Text(unit_address(call)).render(format))
}
