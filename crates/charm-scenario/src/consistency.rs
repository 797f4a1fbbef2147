//! Refuses a run whose input Juju could never produce, before the charm sees it: an
//! event for a relation, container or secret that metadata or the state does not have;
//! config keys or types config.yaml does not allow; an undeclared action or wrong
//! parameters; duplicate relation ids; relations on undeclared endpoints, with the wrong
//! interface or kind, or beyond the endpoint's limit; undeclared containers.

use std::collections::{BTreeMap, BTreeSet};

use juju_runtime::RelationEventKind;

use crate::event::ScenarioEvent;
use crate::spec::{CharmSpec, OptionType, Role};
use crate::state::{RelationKind, State};

/// One reason the input is impossible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    /// The event names an endpoint metadata.yaml does not declare.
    #[error("event {hook:?}: endpoint {endpoint:?} is not declared in metadata.yaml")]
    UndeclaredEndpoint {
        /// The hook.
        hook: String,
        /// The endpoint.
        endpoint: String,
    },
    /// The event's relation is not in the state.
    #[error("event {hook:?}: relation {endpoint}:{id} is not in the state")]
    RelationNotInState {
        /// The hook.
        hook: String,
        /// The endpoint.
        endpoint: String,
        /// The id.
        id: u64,
    },
    /// The event's remote or departing unit is not a unit of the relation.
    #[error("event {hook:?}: remote unit {unit} is not in relation {endpoint}:{id}")]
    UnitNotInRelation {
        /// The hook.
        hook: String,
        /// The endpoint.
        endpoint: String,
        /// The id.
        id: u64,
        /// The unit number.
        unit: u32,
    },
    /// A joined or departed event without a remote unit.
    #[error("event {hook:?} needs a remote unit")]
    MissingRemoteUnit {
        /// The hook.
        hook: String,
    },
    /// The event names a container metadata.yaml does not declare.
    #[error("event {hook:?}: container {container:?} is not declared in metadata.yaml")]
    UndeclaredContainer {
        /// The hook.
        hook: String,
        /// The container.
        container: String,
    },
    /// The event's container is not in the state.
    #[error("event {hook:?}: container {container:?} is not in the state")]
    ContainerNotInState {
        /// The hook.
        hook: String,
        /// The container.
        container: String,
    },
    /// The state has a container metadata.yaml does not declare.
    #[error("state has container {0:?}, which metadata.yaml does not declare")]
    UnknownContainer(String),
    /// The event's secret is not in the state.
    #[error("event {hook:?}: secret {uri} is not in the state")]
    SecretNotInState {
        /// The hook.
        hook: String,
        /// The URI.
        uri: String,
    },
    /// The action is not in actions.yaml.
    #[error("action {0:?} is not declared in actions.yaml")]
    UndeclaredAction(String),
    /// An action parameter is not declared and additional properties are not allowed.
    #[error("action {action:?}: parameter {param:?} is not declared")]
    UnknownActionParam {
        /// The action.
        action: String,
        /// The parameter.
        param: String,
    },
    /// A required action parameter is missing.
    #[error("action {action:?}: required parameter {param:?} is missing")]
    MissingActionParam {
        /// The action.
        action: String,
        /// The parameter.
        param: String,
    },
    /// An action parameter has the wrong JSON type.
    #[error("action {action:?}: parameter {param:?} must be of type {expected}, got {got}")]
    ActionParamType {
        /// The action.
        action: String,
        /// The parameter.
        param: String,
        /// The schema type.
        expected: String,
        /// The value given.
        got: String,
    },
    /// A config key config.yaml does not declare.
    #[error("config option {0:?} is not declared in config.yaml")]
    UnknownConfigKey(String),
    /// A config value of the wrong type.
    #[error("config option {key:?} must be of type {expected}, got {got}")]
    ConfigType {
        /// The option.
        key: String,
        /// The declared type.
        expected: &'static str,
        /// The value given.
        got: String,
    },
    /// Two relations share an id.
    #[error("relation id {0} is used by more than one relation")]
    DuplicateRelationId(u64),
    /// A relation on an endpoint metadata.yaml does not declare.
    #[error("relation {endpoint}:{id} is on an endpoint metadata.yaml does not declare")]
    RelationOnUndeclaredEndpoint {
        /// The endpoint.
        endpoint: String,
        /// The id.
        id: u64,
    },
    /// A relation whose interface differs from metadata.
    #[error("relation {endpoint}:{id} has interface {got:?}, metadata.yaml says {expected:?}")]
    InterfaceMismatch {
        /// The endpoint.
        endpoint: String,
        /// The id.
        id: u64,
        /// Metadata's interface.
        expected: String,
        /// The relation's.
        got: String,
    },
    /// A peer relation on a non-peer endpoint or the reverse.
    #[error("relation {endpoint}:{id} is {got}, but metadata.yaml declares a {expected} endpoint")]
    RelationKindMismatch {
        /// The endpoint.
        endpoint: String,
        /// The id.
        id: u64,
        /// What metadata says.
        expected: &'static str,
        /// What the relation is.
        got: &'static str,
    },
    /// More relations than the endpoint's limit (Juju refuses to integrate more).
    #[error("endpoint {endpoint:?} has {count} relations, but its limit is {limit}")]
    OverLimit {
        /// The endpoint.
        endpoint: String,
        /// Relations on it.
        count: usize,
        /// The limit.
        limit: u32,
    },
    /// A secret hook for a secret of the wrong side (changed: consumers; the others:
    /// owners).
    #[error("event {hook:?}: secret {uri} is {got}, but Juju sends this hook only to {expected}")]
    SecretHookOwnership {
        /// The hook.
        hook: String,
        /// The URI.
        uri: String,
        /// Who receives the hook.
        expected: &'static str,
        /// Who this unit is.
        got: &'static str,
    },
    /// `leader-settings-changed` on the leader, which Juju never sends.
    #[error("leader-settings-changed is only sent to non-leader units")]
    LeaderSettingsOnLeader,
    /// `leader-elected` on a unit that is not the leader.
    #[error("leader-elected is only sent to the leader")]
    LeaderElectedOnNonLeader,
    /// A regular relation whose remote application name is not a valid Juju name.
    #[error(
        "relation {endpoint}:{id} has remote application {app:?}, which is not a valid application name"
    )]
    InvalidRemoteApp {
        /// The endpoint.
        endpoint: String,
        /// The id.
        id: u64,
        /// The name given.
        app: String,
    },
}

fn json_type(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
    .to_owned()
}

fn schema_accepts(schema_type: &str, value: &serde_json::Value) -> bool {
    match schema_type {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// Every inconsistency of running `event` on `state` for the charm `spec` (empty: the
/// input is possible).
pub fn check(spec: &CharmSpec, event: &ScenarioEvent, state: &State) -> Vec<Inconsistency> {
    let mut found = Vec::new();
    check_config(spec, state, &mut found);
    check_relations(spec, state, &mut found);
    for name in state.containers.keys() {
        if !spec.containers.contains(name) {
            found.push(Inconsistency::UnknownContainer(name.clone()));
        }
    }
    check_event(spec, event, state, &mut found);
    found
}

fn check_config(spec: &CharmSpec, state: &State, found: &mut Vec<Inconsistency>) {
    for (key, value) in &state.config {
        match spec.options.get(key) {
            None => found.push(Inconsistency::UnknownConfigKey(key.clone())),
            Some(option) if !option.kind.accepts(value) => {
                found.push(Inconsistency::ConfigType {
                    key: key.clone(),
                    expected: option.kind.as_str(),
                    got: if option.kind == OptionType::Secret && value.is_string() {
                        format!("{value} (not a secret URI)")
                    } else {
                        json_type(value)
                    },
                });
            }
            Some(_) => {}
        }
    }
}

fn check_relations(spec: &CharmSpec, state: &State, found: &mut Vec<Inconsistency>) {
    let mut seen = BTreeSet::new();
    let mut per_endpoint: BTreeMap<&str, usize> = BTreeMap::new();
    for relation in &state.relations {
        if !seen.insert(relation.id) {
            found.push(Inconsistency::DuplicateRelationId(relation.id));
        }
        *per_endpoint.entry(&relation.endpoint).or_default() += 1;
        if relation.kind == RelationKind::Regular
            && !juju_runtime::names::is_valid_application_name(&relation.remote_app)
        {
            found.push(Inconsistency::InvalidRemoteApp {
                endpoint: relation.endpoint.clone(),
                id: relation.id,
                app: relation.remote_app.clone(),
            });
        }
        let Some(endpoint) = spec.endpoints.get(&relation.endpoint) else {
            found.push(Inconsistency::RelationOnUndeclaredEndpoint {
                endpoint: relation.endpoint.clone(),
                id: relation.id,
            });
            continue;
        };
        if let Some(interface) = &relation.interface {
            if interface != &endpoint.interface {
                found.push(Inconsistency::InterfaceMismatch {
                    endpoint: relation.endpoint.clone(),
                    id: relation.id,
                    expected: endpoint.interface.clone(),
                    got: interface.clone(),
                });
            }
        }
        let is_peer_endpoint = endpoint.role == Role::Peer;
        if is_peer_endpoint != (relation.kind == RelationKind::Peer) {
            let name = |peer: bool| if peer { "peer" } else { "non-peer" };
            found.push(Inconsistency::RelationKindMismatch {
                endpoint: relation.endpoint.clone(),
                id: relation.id,
                expected: name(is_peer_endpoint),
                got: name(relation.kind == RelationKind::Peer),
            });
        }
    }
    for (endpoint, count) in per_endpoint {
        if let Some(limit) = spec.endpoints.get(endpoint).and_then(|e| e.limit) {
            if count > limit as usize {
                found.push(Inconsistency::OverLimit {
                    endpoint: endpoint.to_owned(),
                    count,
                    limit,
                });
            }
        }
    }
}

fn check_event(
    spec: &CharmSpec,
    event: &ScenarioEvent,
    state: &State,
    found: &mut Vec<Inconsistency>,
) {
    let hook = event.hook_name();
    match event {
        ScenarioEvent::Simple(name) => {
            if name == "leader-settings-changed" && state.leader {
                found.push(Inconsistency::LeaderSettingsOnLeader);
            }
            if name == "leader-elected" && !state.leader {
                found.push(Inconsistency::LeaderElectedOnNonLeader);
            }
        }
        ScenarioEvent::Relation {
            kind,
            endpoint,
            id,
            remote_unit,
            departing_unit,
        } => {
            if !spec.endpoints.contains_key(endpoint) {
                found.push(Inconsistency::UndeclaredEndpoint {
                    hook,
                    endpoint: endpoint.clone(),
                });
                return;
            }
            let Some(relation) = state.relation(*id).filter(|r| &r.endpoint == endpoint) else {
                found.push(Inconsistency::RelationNotInState {
                    hook,
                    endpoint: endpoint.clone(),
                    id: *id,
                });
                return;
            };
            if matches!(
                kind,
                RelationEventKind::Joined | RelationEventKind::Departed
            ) && remote_unit.is_none()
            {
                found.push(Inconsistency::MissingRemoteUnit { hook: hook.clone() });
            }
            for unit in [remote_unit, departing_unit].into_iter().flatten() {
                if !relation.remote_units_data.contains_key(unit) {
                    found.push(Inconsistency::UnitNotInRelation {
                        hook: hook.clone(),
                        endpoint: endpoint.clone(),
                        id: *id,
                        unit: *unit,
                    });
                }
            }
        }
        ScenarioEvent::Workload { container, .. } => {
            if !spec.containers.contains(container) {
                found.push(Inconsistency::UndeclaredContainer {
                    hook,
                    container: container.clone(),
                });
            } else if !state.containers.contains_key(container) {
                found.push(Inconsistency::ContainerNotInState {
                    hook,
                    container: container.clone(),
                });
            }
        }
        ScenarioEvent::Secret {
            hook: kind, uri, ..
        } => match state.secret_by_uri(uri) {
            None => found.push(Inconsistency::SecretNotInState {
                hook,
                uri: uri.to_string(),
            }),
            Some(secret) => {
                let owned = secret.owner.is_some();
                let for_owner = !matches!(kind, crate::event::SecretHook::Changed);
                if owned != for_owner {
                    let side = |owner: bool| if owner { "owner" } else { "consumer" };
                    found.push(Inconsistency::SecretHookOwnership {
                        hook,
                        uri: uri.to_string(),
                        expected: side(for_owner),
                        got: side(owned),
                    });
                }
            }
        },
        ScenarioEvent::Action { name, params } => {
            let Some(action) = spec.actions.get(name) else {
                found.push(Inconsistency::UndeclaredAction(name.clone()));
                return;
            };
            for (param, value) in params {
                match action.params.get(param) {
                    None if !action.additional_properties => {
                        found.push(Inconsistency::UnknownActionParam {
                            action: name.clone(),
                            param: param.clone(),
                        });
                    }
                    None => {}
                    Some(schema) => {
                        if let Some(expected) = schema.get("type").and_then(|t| t.as_str()) {
                            if !schema_accepts(expected, value) {
                                found.push(Inconsistency::ActionParamType {
                                    action: name.clone(),
                                    param: param.clone(),
                                    expected: expected.to_owned(),
                                    got: json_type(value),
                                });
                            }
                        }
                    }
                }
            }
            for required in &action.required {
                if !params.contains_key(required) {
                    found.push(Inconsistency::MissingActionParam {
                        action: name.clone(),
                        param: required.clone(),
                    });
                }
            }
        }
    }
}
