//! A charm's declared surface as Juju reads it: `metadata.yaml` (endpoints, containers),
//! `config.yaml` (typed options with defaults) and `actions.yaml` (parameter schemas).
//! Parsing checks what the substrate relies on and names the file and key at fault.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ModelError;

/// Which side of a relation an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `provides:`.
    Provider,
    /// `requires:`.
    Requirer,
    /// `peers:`.
    Peer,
}

/// One relation endpoint of a charm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Provider, requirer or peer.
    pub role: Role,
    /// The interface name, e.g. `postgresql_client`.
    pub interface: String,
    /// How many relations the endpoint accepts (`None`: unlimited).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The type of a config option (`config.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionType {
    /// `string` (also what a missing type means).
    String,
    /// `int`.
    Int,
    /// `float`.
    Float,
    /// `boolean`.
    Boolean,
    /// `secret`: a secret URI string.
    Secret,
}

impl OptionType {
    /// The name as written in `config.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int => "int",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::Secret => "secret",
        }
    }

    /// Parses a value given on the command line (`juju config app key=value`).
    pub fn parse_value(self, key: &str, text: &str) -> Result<Value, ModelError> {
        let bad = || ModelError::InvalidConfigValue {
            key: key.to_owned(),
            expected: self.as_str(),
            value: text.to_owned(),
        };
        Ok(match self {
            Self::String => Value::String(text.to_owned()),
            Self::Secret => {
                if !text.starts_with("secret:") {
                    return Err(bad());
                }
                Value::String(text.to_owned())
            }
            Self::Int => Value::from(text.trim().parse::<i64>().map_err(|_| bad())?),
            Self::Float => {
                let number = text.trim().parse::<f64>().map_err(|_| bad())?;
                serde_json::Number::from_f64(number)
                    .map(Value::Number)
                    .ok_or_else(bad)?
            }
            Self::Boolean => match text.trim() {
                "true" | "True" | "TRUE" | "yes" | "1" => Value::Bool(true),
                "false" | "False" | "FALSE" | "no" | "0" => Value::Bool(false),
                _ => return Err(bad()),
            },
        })
    }

    /// Whether a YAML/JSON value fits this type.
    fn accepts(self, value: &Value) -> bool {
        match self {
            Self::String | Self::Secret => value.is_string(),
            Self::Int => value.is_i64() || value.is_u64(),
            Self::Float => value.is_number(),
            Self::Boolean => value.is_boolean(),
        }
    }
}

/// One config option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigOption {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: OptionType,
    /// Its default (`None`: unset unless configured).
    #[serde(default)]
    pub default: Option<Value>,
}

/// One action: its JSON-schema-like parameter declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec {
    /// Parameters by name: each a schema object (`type`, `default`, ...).
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Parameters that must be given.
    #[serde(default)]
    pub required: Vec<String>,
    /// Whether parameters not in `params` are allowed (Juju's default: true).
    #[serde(default = "default_true")]
    pub additional_properties: bool,
}

fn default_true() -> bool {
    true
}

/// What the substrate knows about a charm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharmMeta {
    /// The charm name.
    pub name: String,
    /// Workload container names, sorted.
    pub containers: Vec<String>,
    /// Relation endpoints by name.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Config options by name.
    pub options: BTreeMap<String, ConfigOption>,
    /// Actions by name.
    pub actions: BTreeMap<String, ActionSpec>,
}

#[derive(Deserialize)]
struct RawMetadata {
    name: String,
    #[serde(default)]
    containers: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    provides: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    requires: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    peers: BTreeMap<String, RawEndpoint>,
}

#[derive(Deserialize)]
struct RawEndpoint {
    interface: String,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    options: BTreeMap<String, RawOption>,
}

#[derive(Deserialize)]
struct RawOption {
    #[serde(rename = "type", default)]
    kind: Option<OptionType>,
    #[serde(default)]
    default: Option<serde_yaml::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAction {
    #[serde(default)]
    params: BTreeMap<String, serde_yaml::Value>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default = "default_true")]
    additional_properties: bool,
}

impl CharmMeta {
    /// Reads `metadata.yaml`, and `config.yaml`/`actions.yaml` when present, from a charm
    /// directory.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let read = |name: &str, required: bool| -> Result<Option<String>, ModelError> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(err) if !required && err.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(ModelError::Io {
                    action: "read",
                    path,
                    source,
                }),
            }
        };
        let metadata = read("metadata.yaml", true)?.unwrap_or_default();
        let config = read("config.yaml", false)?;
        let actions = read("actions.yaml", false)?;
        Self::parse(&metadata, config.as_deref(), actions.as_deref())
    }

    /// Parses the three files' contents.
    pub fn parse(
        metadata: &str,
        config: Option<&str>,
        actions: Option<&str>,
    ) -> Result<Self, ModelError> {
        let bad = |file: &'static str, detail: String| ModelError::InvalidCharm { file, detail };
        let raw: RawMetadata =
            serde_yaml::from_str(metadata).map_err(|e| bad("metadata.yaml", e.to_string()))?;
        let mut endpoints = BTreeMap::new();
        for (role, map) in [
            (Role::Provider, raw.provides),
            (Role::Requirer, raw.requires),
            (Role::Peer, raw.peers),
        ] {
            for (name, ep) in map {
                let endpoint = Endpoint {
                    role,
                    interface: ep.interface,
                    limit: ep.limit,
                };
                if endpoints.insert(name.clone(), endpoint).is_some() {
                    return Err(bad(
                        "metadata.yaml",
                        format!("relation name {name:?} is declared twice"),
                    ));
                }
            }
        }
        let mut options = BTreeMap::new();
        if let Some(text) = config {
            let raw: RawConfig =
                serde_yaml::from_str(text).map_err(|e| bad("config.yaml", e.to_string()))?;
            for (name, option) in raw.options {
                let kind = option.kind.unwrap_or(OptionType::String);
                let default = match option.default {
                    None | Some(serde_yaml::Value::Null) => None,
                    Some(value) => {
                        let value: Value = serde_json::to_value(&value)
                            .map_err(|e| bad("config.yaml", format!("{name}: {e}")))?;
                        if !kind.accepts(&value) {
                            return Err(bad(
                                "config.yaml",
                                format!(
                                    "option {name:?}: default {value} is not a {}",
                                    kind.as_str()
                                ),
                            ));
                        }
                        Some(value)
                    }
                };
                options.insert(name, ConfigOption { kind, default });
            }
        }
        let mut action_specs = BTreeMap::new();
        if let Some(text) = actions {
            let raw: Option<BTreeMap<String, RawAction>> =
                serde_yaml::from_str(text).map_err(|e| bad("actions.yaml", e.to_string()))?;
            for (name, action) in raw.unwrap_or_default() {
                let params = action
                    .params
                    .into_iter()
                    .map(|(k, v)| {
                        serde_json::to_value(&v)
                            .map(|v| (k.clone(), v))
                            .map_err(|e| bad("actions.yaml", format!("{name}.{k}: {e}")))
                    })
                    .collect::<Result<_, _>>()?;
                action_specs.insert(
                    name,
                    ActionSpec {
                        params,
                        required: action.required,
                        additional_properties: action.additional_properties,
                    },
                );
            }
        }
        Ok(Self {
            name: raw.name,
            containers: raw.containers.into_keys().collect(),
            endpoints,
            options,
            actions: action_specs,
        })
    }

    /// The config a new application starts with: every option's default.
    pub fn default_config(&self) -> BTreeMap<String, Value> {
        self.options
            .iter()
            .filter_map(|(k, o)| o.default.clone().map(|d| (k.clone(), d)))
            .collect()
    }

    /// Checks action parameters given as `key=value` text against `actions.yaml` and
    /// returns them typed, with defaults filled in (as Juju does before an action runs).
    pub fn validate_action(
        &self,
        action: &str,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, Value>, ModelError> {
        let spec = self
            .actions
            .get(action)
            .ok_or_else(|| ModelError::UnknownAction {
                charm: self.name.clone(),
                action: action.to_owned(),
            })?;
        let invalid = |detail: String| ModelError::InvalidActionParams {
            action: action.to_owned(),
            detail,
        };
        let mut params = BTreeMap::new();
        for (key, text) in given {
            let schema = spec.params.get(key);
            let Some(schema) = schema else {
                if spec.additional_properties {
                    params.insert(key.clone(), Value::String(text.clone()));
                    continue;
                }
                return Err(invalid(format!(
                    "additional property {key:?} is not allowed"
                )));
            };
            let kind = schema
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("string");
            let value = match kind {
                "string" => Value::String(text.clone()),
                "integer" => Value::from(
                    text.parse::<i64>()
                        .map_err(|_| invalid(format!("{key}: expected integer, given {text:?}")))?,
                ),
                "number" => text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| invalid(format!("{key}: expected number, given {text:?}")))?,
                "boolean" => match text.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(invalid(format!("{key}: expected boolean, given {text:?}"))),
                },
                "array" | "object" => serde_json::from_str(text)
                    .ok()
                    .filter(|v: &Value| (kind == "array") == v.is_array())
                    .ok_or_else(|| invalid(format!("{key}: expected {kind} (as JSON)")))?,
                other => return Err(invalid(format!("{key}: unsupported type {other:?}"))),
            };
            params.insert(key.clone(), value);
        }
        for (key, schema) in &spec.params {
            if !params.contains_key(key)
                && let Some(default) = schema.get("default")
            {
                params.insert(key.clone(), default.clone());
            }
        }
        for key in &spec.required {
            if !params.contains_key(key) {
                return Err(invalid(format!("{key:?} is required")));
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "name: app\ncontainers:\n  web: {resource: img}\npeers:\n  p: {interface: x}\nrequires:\n  db: {interface: pg, limit: 1}\n";
    const CONFIG: &str = "options:\n  port: {type: int, default: 80}\n  name: {type: string}\n  on: {type: boolean, default: false}\n";
    const ACTIONS: &str = "go:\n  params:\n    n: {type: integer, default: 3}\n    who: {type: string}\n  required: [who]\n  additionalProperties: false\n";

    #[test]
    fn parses_the_three_files() {
        let meta = CharmMeta::parse(META, Some(CONFIG), Some(ACTIONS)).unwrap();
        assert_eq!(meta.containers, ["web"]);
        assert_eq!(meta.endpoints["db"].role, Role::Requirer);
        assert_eq!(meta.endpoints["db"].limit, Some(1));
        assert_eq!(meta.endpoints["p"].role, Role::Peer);
        assert_eq!(meta.default_config().len(), 2);
        assert_eq!(meta.options["name"].kind, OptionType::String);
    }

    #[test]
    fn bad_defaults_name_the_option() {
        let err = CharmMeta::parse(META, Some("options:\n  p: {type: int, default: x}\n"), None)
            .unwrap_err();
        assert!(err.to_string().contains("option \"p\""), "{err}");
    }

    #[test]
    fn action_params_are_typed_defaulted_and_checked() {
        let meta = CharmMeta::parse(META, None, Some(ACTIONS)).unwrap();
        let given = BTreeMap::from([("who".to_owned(), "me".to_owned())]);
        let params = meta.validate_action("go", &given).unwrap();
        assert_eq!(params["n"], Value::from(3));
        let err = meta.validate_action("go", &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("\"who\" is required"), "{err}");
        let bad = BTreeMap::from([
            ("who".to_owned(), "me".to_owned()),
            ("n".to_owned(), "x".to_owned()),
        ]);
        assert!(
            meta.validate_action("go", &bad)
                .unwrap_err()
                .to_string()
                .contains("expected integer")
        );
        let extra = BTreeMap::from([
            ("who".to_owned(), "me".to_owned()),
            ("z".to_owned(), "1".to_owned()),
        ]);
        assert!(meta.validate_action("go", &extra).is_err());
        assert!(matches!(
            meta.validate_action("nope", &given),
            Err(ModelError::UnknownAction { .. })
        ));
    }

    #[test]
    fn config_values_parse_by_type() {
        assert_eq!(
            OptionType::Int.parse_value("p", "8").unwrap(),
            Value::from(8)
        );
        assert!(OptionType::Int.parse_value("p", "x").is_err());
        assert_eq!(
            OptionType::Boolean.parse_value("b", "true").unwrap(),
            Value::Bool(true)
        );
        assert!(OptionType::Secret.parse_value("s", "nope").is_err());
    }
}
