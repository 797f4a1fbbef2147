//! Which hooks follow from a change, per unit: the joined/changed pairs a unit runs for
//! each member of a relation, `relation-changed` for the units that see a changed bag,
//! `secret-changed` for consumers of a new revision, and departed/broken when a relation
//! goes. Pure functions of the model.

use std::collections::BTreeSet;

use super::hook::{Hook, HookKind, RelationRef};
use crate::hook_tools::BagOwner;
use crate::model::{Model, app_of};

/// `relation-changed` for the units that see each changed bag.
pub(super) fn changed_hooks(
    model: &Model,
    changed: &BTreeSet<(u64, BagOwner)>,
) -> Vec<(String, Hook)> {
    let mut work = Vec::new();
    for (id, owner) in changed {
        let Some(rel) = model.relations.get(id) else {
            continue;
        };
        if rel.dying {
            continue;
        }
        let (writer_app, writer_unit) = match owner {
            BagOwner::Unit(u) => (app_of(u).to_owned(), Some(u.clone())),
            BagOwner::App(a) => (a.clone(), None),
        };
        let Some(target_app) = rel.remote_app(&writer_app) else {
            continue;
        };
        let Ok(target) = model.app(target_app) else {
            continue;
        };
        if !target.is_charm() {
            continue;
        }
        let Some(end) = rel.end_of(target_app) else {
            continue;
        };
        let leader = target.leader.clone();
        for unit in target.units.values().filter(|u| !u.dying) {
            let sees = match &writer_unit {
                Some(w) => w != &unit.name && unit.joined.get(id).is_some_and(|s| s.contains(w)),
                // A peer app bag is written by the leader, who is not told about it.
                None => !(rel.is_peer() && leader.as_deref() == Some(unit.name.as_str())),
            };
            if sees {
                let relation = RelationRef {
                    id: *id,
                    endpoint: end.endpoint.clone(),
                    remote_app: writer_app.clone(),
                };
                work.push((
                    unit.name.clone(),
                    Hook::relation(HookKind::RelationChanged, relation, writer_unit.clone()),
                ));
            }
        }
    }
    work
}

/// `secret-changed` for the consumers tracking an older revision.
pub(super) fn secret_changed_hooks(
    model: &Model,
    new_revisions: &BTreeSet<String>,
) -> Vec<(String, Hook)> {
    let mut work = Vec::new();
    for xid in new_revisions {
        let Some(secret) = model.secrets.get(xid) else {
            continue;
        };
        for (unit, consumer) in &secret.consumers {
            if consumer.tracked < secret.latest() {
                let mut hook = Hook::plain(HookKind::SecretChanged);
                hook.secret = Some((
                    model.secret_uri(xid),
                    consumer.label.clone().unwrap_or_default(),
                ));
                work.push((unit.clone(), hook));
            }
        }
    }
    work
}

/// The joined/changed hooks `unit` runs for relation `id` with every remote member.
pub(super) fn join_hooks(model: &Model, unit: &str, id: u64) -> Vec<Hook> {
    let app = app_of(unit);
    let Some(rel) = model.relations.get(&id) else {
        return Vec::new();
    };
    let (Some(end), Some(remote_app)) = (rel.end_of(app), rel.remote_app(app)) else {
        return Vec::new();
    };
    let relation = RelationRef {
        id,
        endpoint: end.endpoint.clone(),
        remote_app: remote_app.to_owned(),
    };
    let mut hooks = Vec::new();
    if let Ok(remote) = model.app(remote_app) {
        for r in remote.units.values().filter(|r| r.name != unit && !r.dying) {
            hooks.push(Hook::relation(
                HookKind::RelationJoined,
                relation.clone(),
                Some(r.name.clone()),
            ));
            hooks.push(Hook::relation(
                HookKind::RelationChanged,
                relation.clone(),
                Some(r.name.clone()),
            ));
        }
    }
    let app_bag_has_data = rel.app_bags.get(remote_app).is_some_and(|b| !b.is_empty());
    if !rel.is_peer() && app_bag_has_data {
        hooks.push(Hook::relation(HookKind::RelationChanged, relation, None));
    }
    hooks
}

pub(super) fn relation_ref(model: &Model, unit: &str, id: u64) -> Option<RelationRef> {
    let app = app_of(unit);
    let rel = model.relations.get(&id)?;
    Some(RelationRef {
        id,
        endpoint: rel.end_of(app)?.endpoint.clone(),
        remote_app: rel.remote_app(app)?.to_owned(),
    })
}

/// Departed hooks for every member, then broken, on every charm unit in relation `id`.
pub(super) fn departure_hooks(model: &Model, id: u64) -> Vec<(String, Hook)> {
    let Some(rel) = model.relations.get(&id) else {
        return Vec::new();
    };
    let mut work = Vec::new();
    for end in &rel.ends {
        let Ok(app) = model.app(&end.application) else {
            continue;
        };
        if !app.is_charm() {
            continue;
        }
        for unit in app.units.values() {
            let Some(r) = relation_ref(model, &unit.name, id) else {
                continue;
            };
            for member in unit.joined.get(&id).into_iter().flatten() {
                work.push((
                    unit.name.clone(),
                    Hook::relation(HookKind::RelationDeparted, r.clone(), Some(member.clone())),
                ));
            }
            work.push((
                unit.name.clone(),
                Hook::relation(HookKind::RelationBroken, r, None),
            ));
        }
    }
    work
}
