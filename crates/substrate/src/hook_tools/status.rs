//! `status-set`, `status-get` and `application-version-set` (contract §2.9–2.10): all
//! take effect at once, whatever the hook's outcome.

use serde_json::{Value, json};

use super::{
    ALL_FORMATS, Call, FORMAT, FlagSpec, Format, Output, ToolError, format_of, unrecognized,
};
use crate::model::Status;

const SETTABLE: [&str; 4] = ["maintenance", "blocked", "waiting", "active"];

pub(super) fn status_set(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[FlagSpec::boolean("application", None)])?;
    let args = &parsed.positional;
    let Some(status) = args.first() else {
        return Err(ToolError::Usage(
            "invalid args, require <status> [message]".into(),
        ));
    };
    if !SETTABLE.contains(&status.as_str()) {
        return Err(ToolError::Usage(format!(
            "invalid status {status:?}, expected one of [{}]",
            SETTABLE.join(" ")
        )));
    }
    if args.len() > 2 {
        return Err(unrecognized(&args[2..]));
    }
    let message = args.get(1).cloned().unwrap_or_default();
    let new = Status::now(status, &message);
    if parsed.flag("application") {
        if !call.ctx.is_leader(call.model) {
            return Err(ToolError::Run("this unit is not the leader".into()));
        }
        let app = call
            .model
            .app_mut(&call.ctx.app)
            .map_err(|e| ToolError::Run(e.to_string()))?;
        app.status.set(new);
    } else {
        let unit = call
            .model
            .unit_mut(&call.ctx.unit)
            .map_err(|e| ToolError::Run(e.to_string()))?;
        unit.workload.set(new);
    }
    Ok(Vec::new())
}

fn status_json(status: &Status, include_data: bool) -> Value {
    if include_data {
        json!({
            "message": status.message,
            "status": status.status,
            "status-data": status.data,
        })
    } else {
        json!({ "status": status.status })
    }
}

pub(super) fn status_get(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[
        FORMAT,
        FlagSpec::boolean("include-data", None),
        FlagSpec::boolean("application", None),
    ])?;
    let format = format_of(&parsed, Format::Smart, ALL_FORMATS)?;
    if !parsed.positional.is_empty() {
        return Err(unrecognized(&parsed.positional));
    }
    let include_data = parsed.flag("include-data");
    if parsed.flag("application") {
        if !call.ctx.is_leader(call.model) {
            return Err(ToolError::Run(
                "finding application status: this unit is not the leader".into(),
            ));
        }
        let app = call
            .model
            .app(&call.ctx.app)
            .map_err(|e| ToolError::Run(e.to_string()))?;
        let mut app_status = status_json(&app.status.current, include_data);
        let units: serde_json::Map<String, Value> = app
            .units
            .values()
            .map(|u| {
                (
                    u.name.clone(),
                    status_json(&u.workload.current, include_data),
                )
            })
            .collect();
        app_status["units"] = Value::Object(units);
        return Ok(Output::Value(json!({ "application-status": app_status })).render(format));
    }
    let unit = call
        .model
        .unit(&call.ctx.unit)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    let current = &unit.workload.current;
    let output = if !include_data && format == Format::Smart {
        Output::Text(current.status.clone())
    } else {
        Output::Value(status_json(current, include_data))
    };
    Ok(output.render(format))
}

pub(super) fn application_version_set(call: &mut Call<'_>) -> Result<Vec<u8>, ToolError> {
    let parsed = call.parse(&[])?;
    let Some(version) = parsed.positional.first() else {
        return Err(ToolError::Usage("no version specified".into()));
    };
    if parsed.positional.len() > 1 {
        return Err(unrecognized(&parsed.positional[1..]));
    }
    let app = call
        .model
        .app_mut(&call.ctx.app)
        .map_err(|e| ToolError::Run(e.to_string()))?;
    app.workload_version = version.clone();
    Ok(Vec::new())
}
