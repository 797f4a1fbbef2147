//! A unit's bookkeeping around one hook run, as Juju's uniter keeps it: membership
//! (`relation-list`) changes before joined/departed run, the statuses Juju sets before
//! and after install/start/stop/remove, the agent's `executing`/`idle`, and an action's
//! final record (results, `return-code`, captured output, failure message).

use serde_json::Value;

use super::dispatch::DispatchOutcome;
use super::hook::{Hook, HookKind};
use crate::hook_tools::{HookContext, HookInfo};
use crate::model::{Model, Status};

/// Bookkeeping before a hook runs; `None` skips a hook that no longer applies.
pub(super) fn begin_hook(model: &mut Model, unit: &str, hook: &Hook) -> Option<HookInfo> {
    model.unit(unit).ok()?;
    if let Some(rel) = &hook.relation {
        let relation = model.relations.get(&rel.id)?;
        if relation.dying
            && !matches!(
                hook.kind,
                HookKind::RelationDeparted | HookKind::RelationBroken
            )
        {
            return None;
        }
    }
    let u = model.unit_mut(unit).ok()?;
    match (hook.kind, &hook.relation, &hook.remote_unit) {
        // Juju never reports the same member joining twice.
        (HookKind::RelationJoined, Some(rel), Some(remote))
            if !u.joined.entry(rel.id).or_default().insert(remote.clone()) =>
        {
            return None;
        }
        (HookKind::RelationDeparted, Some(rel), Some(remote)) => {
            if let Some(set) = u.joined.get_mut(&rel.id) {
                set.remove(remote);
            }
        }
        _ => {}
    }
    match hook.kind {
        HookKind::Install if u.workload.current.status == "waiting" => {
            u.workload
                .set(Status::now("maintenance", "installing charm software"));
        }
        HookKind::Stop => u
            .workload
            .set(Status::now("maintenance", "stopping charm software")),
        HookKind::Remove => u.workload.set(Status::now(
            "maintenance",
            "cleaning up prior to charm deletion",
        )),
        _ => {}
    }
    if hook.kind != HookKind::UpdateStatus && u.agent.current.status != "error" {
        u.agent.set(Status::now(
            "executing",
            &format!("running {} hook", hook.display_name()),
        ));
    }
    if let Some(action) = &hook.action
        && let Some(record) = model.actions.get_mut(&action.id)
    {
        record.status = "running".into();
    }
    Some(HookInfo {
        hook_name: hook.name(),
        relation_id: hook.relation.as_ref().map(|r| r.id),
        remote_unit: hook.remote_unit.clone(),
        remote_app: hook.relation.as_ref().map(|r| r.remote_app.clone()),
        departing_unit: hook.departing_unit.clone(),
        broken: hook.kind == HookKind::RelationBroken,
        workload: hook.workload.clone(),
        action: hook.action.clone(),
    })
}

/// Bookkeeping after a hook succeeded.
pub(super) fn end_hook(model: &mut Model, unit: &str, hook: &Hook) {
    let Ok(u) = model.unit_mut(unit) else { return };
    match hook.kind {
        HookKind::Install => u.installed = true,
        HookKind::Start => {
            u.started = true;
            let current = &u.workload.current;
            if current.status == "maintenance" && current.message == "installing charm software" {
                u.workload.set(Status::now("unknown", ""));
            }
        }
        HookKind::RelationBroken => {
            if let Some(rel) = &hook.relation {
                u.joined.remove(&rel.id);
            }
        }
        HookKind::Remove => u.workload.set(Status::now("terminated", "")),
        _ => {}
    }
    if hook.kind != HookKind::UpdateStatus || u.agent.current.status == "error" {
        u.agent.set(Status::now("idle", ""));
    }
}

pub(super) fn finish_action(
    model: &mut Model,
    id: u64,
    ctx: &HookContext,
    outcome: &DispatchOutcome,
) {
    let Some(record) = model.actions.get_mut(&id) else {
        return;
    };
    let mut results = ctx.action_results.clone();
    results.insert(
        "return-code".into(),
        Value::from(outcome.code.unwrap_or(-1).to_string()),
    );
    for (key, bytes) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        if bytes.is_empty() {
            continue;
        }
        match String::from_utf8(bytes.clone()) {
            Ok(text) => {
                results.insert(key.into(), Value::from(text));
            }
            Err(_) => {
                use base64::Engine as _;
                let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
                results.insert(key.into(), Value::from(encoded));
                results.insert(format!("{key}-encoding"), Value::from("base64"));
            }
        }
    }
    record.results = results;
    match (&ctx.action_failed, outcome.succeeded()) {
        (Some(message), _) => {
            record.status = "failed".into();
            record.message = message.clone();
        }
        (None, true) => record.status = "completed".into(),
        (None, false) => {
            record.status = "failed".into();
            record.message = outcome.failure();
        }
    }
}
