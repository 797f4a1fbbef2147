//! A charm's declared surface as Juju reads it: `metadata.yaml` (endpoints, containers,
//! extra bindings), `config.yaml` (typed options with defaults) and `actions.yaml`
//! (parameter schemas); and how Juju types the `key=value` text a user gives `juju config`
//! and `juju run`.
//!
//! The charm itself never needs this (Juju has already applied it by the time a hook
//! runs); the test harness and the local substrate do, and both read the files through
//! this one parser so that they agree with each other on what a charm declares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Why a charm's YAML files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not YAML of the expected shape, or declares something Juju refuses.
    #[error("{file}: {detail}")]
    Invalid {
        /// Which file (`metadata.yaml`, `config.yaml`, `actions.yaml`).
        file: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// Why `key=value` text from a user does not fit the charm's declarations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// A config value does not fit the option's type.
    #[error("option {key:?} expects a {expected} value, got {value:?}")]
    ConfigValue {
        /// The option.
        key: String,
        /// Its type.
        expected: &'static str,
        /// What was given.
        value: String,
    },
    /// The charm has no such action.
    #[error("charm {charm:?} has no action {action:?}")]
    UnknownAction {
        /// The charm.
        charm: String,
        /// The action asked for.
        action: String,
    },
    /// Action parameters do not match `actions.yaml`.
    #[error("invalid parameters for action {action:?}: {detail}")]
    ActionParams {
        /// The action.
        action: String,
        /// What is wrong.
        detail: String,
    },
}

/// Which side of a relation an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// The type of a config option (`config.yaml` `type:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => Self::String,
            "int" => Self::Int,
            "float" => Self::Float,
            "boolean" => Self::Boolean,
            "secret" => Self::Secret,
            _ => return None,
        })
    }

    /// Whether a typed (YAML/JSON) value is a valid value of this type, as Juju checks
    /// it. An int is a valid float.
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Int => value.is_i64() || value.is_u64(),
            Self::Float => value.is_number(),
            Self::Boolean => value.is_boolean(),
            Self::Secret => value.as_str().is_some_and(|s| s.starts_with("secret:")),
        }
    }

    /// Types a value given as text on the command line (`juju config app key=value`).
    pub fn parse_value(self, key: &str, text: &str) -> Result<Value, InputError> {
        let bad = || InputError::ConfigValue {
            key: key.to_owned(),
            expected: self.as_str(),
            value: text.to_owned(),
        };
        Ok(match self {
            Self::String => Value::String(text.to_owned()),
            Self::Secret if text.starts_with("secret:") => Value::String(text.to_owned()),
            Self::Secret => return Err(bad()),
            Self::Int => Value::from(text.trim().parse::<i64>().map_err(|_| bad())?),
            Self::Float => text
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(bad)?,
            Self::Boolean => match text.trim() {
                "true" | "True" | "TRUE" | "yes" | "1" => Value::Bool(true),
                "false" | "False" | "FALSE" | "no" | "0" => Value::Bool(false),
                _ => return Err(bad()),
            },
        })
    }
}

/// One config option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigOption {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: OptionType,
    /// Its default (`None`: unset unless configured, absent from `config-get`).
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

/// Everything a charm declares that Juju acts on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CharmSpec {
    /// The charm name.
    pub name: String,
    /// Workload container names, sorted.
    pub containers: Vec<String>,
    /// Relation endpoints by name.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Extra bindings (`extra-bindings:`), usable with `network-get`.
    #[serde(default)]
    pub extra_bindings: Vec<String>,
    /// Config options by name.
    pub options: BTreeMap<String, ConfigOption>,
    /// Actions by name.
    pub actions: BTreeMap<String, ActionSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
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
    #[serde(default)]
    extra_bindings: BTreeMap<String, serde_yaml::Value>,
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
    kind: Option<String>,
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

fn invalid(file: &'static str, detail: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        file,
        detail: detail.into(),
    }
}

fn to_json(file: &'static str, what: &str, value: &serde_yaml::Value) -> Result<Value, SpecError> {
    serde_json::to_value(value).map_err(|e| {
        invalid(
            file,
            format!("{what}: value cannot be represented as JSON: {e}"),
        )
    })
}

impl CharmSpec {
    /// Reads `metadata.yaml`, and `config.yaml` / `actions.yaml` when present, from a
    /// charm directory.
    pub fn load(dir: &Path) -> Result<Self, SpecError> {
        let read = |name: &str, required: bool| -> Result<Option<String>, SpecError> {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(SpecError::Read { path, source }),
            }
        };
        let metadata = read("metadata.yaml", true)?.unwrap_or_default();
        let config = read("config.yaml", false)?;
        let actions = read("actions.yaml", false)?;
        Self::parse(&metadata, config.as_deref(), actions.as_deref())
    }

    /// Parses the three files' text (`config` and `actions` may be absent).
    pub fn parse(
        metadata: &str,
        config: Option<&str>,
        actions: Option<&str>,
    ) -> Result<Self, SpecError> {
        let meta: RawMetadata =
            serde_yaml::from_str(metadata).map_err(|e| invalid("metadata.yaml", e.to_string()))?;
        let mut endpoints = BTreeMap::new();
        for (role, map) in [
            (Role::Provider, meta.provides),
            (Role::Requirer, meta.requires),
            (Role::Peer, meta.peers),
        ] {
            for (name, raw) in map {
                let endpoint = Endpoint {
                    role,
                    interface: raw.interface,
                    limit: raw.limit,
                };
                if endpoints.insert(name.clone(), endpoint).is_some() {
                    return Err(invalid(
                        "metadata.yaml",
                        format!("endpoint {name:?} is declared more than once"),
                    ));
                }
            }
        }
        Ok(Self {
            name: meta.name,
            containers: meta.containers.into_keys().collect(),
            endpoints,
            extra_bindings: meta.extra_bindings.into_keys().collect(),
            options: config.map(parse_options).transpose()?.unwrap_or_default(),
            actions: actions.map(parse_actions).transpose()?.unwrap_or_default(),
        })
    }

    /// The config a new application starts with: every option's default.
    pub fn default_config(&self) -> BTreeMap<String, Value> {
        self.effective_config(&BTreeMap::new())
    }

    /// The config `config-get` prints for `set` values: the defaults, overridden by what
    /// is set (unset options without a default are absent).
    pub fn effective_config(&self, set: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
        let mut config: BTreeMap<String, Value> = self
            .options
            .iter()
            .filter_map(|(name, option)| Some((name.clone(), option.default.clone()?)))
            .collect();
        config.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
        config
    }

    /// The parameters `action-get` returns: `params` with the schema defaults filled in.
    pub fn effective_action_params(
        &self,
        action: &str,
        params: &BTreeMap<String, Value>,
    ) -> BTreeMap<String, Value> {
        let mut effective = params.clone();
        if let Some(spec) = self.actions.get(action) {
            for (name, schema) in &spec.params {
                if let Some(default) = schema.get("default") {
                    effective
                        .entry(name.clone())
                        .or_insert_with(|| default.clone());
                }
            }
        }
        effective
    }

    /// Checks action parameters given as `key=value` text (`juju run unit action k=v`)
    /// against `actions.yaml` and returns them typed, with defaults filled in, as Juju
    /// does before an action runs.
    pub fn validate_action(
        &self,
        action: &str,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, Value>, InputError> {
        let spec = self
            .actions
            .get(action)
            .ok_or_else(|| InputError::UnknownAction {
                charm: self.name.clone(),
                action: action.to_owned(),
            })?;
        let bad = |detail: String| InputError::ActionParams {
            action: action.to_owned(),
            detail,
        };
        let mut params = BTreeMap::new();
        for (key, text) in given {
            let Some(schema) = spec.params.get(key) else {
                if spec.additional_properties {
                    params.insert(key.clone(), Value::String(text.clone()));
                    continue;
                }
                return Err(bad(format!("additional property {key:?} is not allowed")));
            };
            let kind = schema
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("string");
            let value = match kind {
                "string" => Value::String(text.clone()),
                "integer" => Value::from(
                    text.parse::<i64>()
                        .map_err(|_| bad(format!("{key}: expected integer, given {text:?}")))?,
                ),
                "number" => text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| bad(format!("{key}: expected number, given {text:?}")))?,
                "boolean" => match text.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(bad(format!("{key}: expected boolean, given {text:?}"))),
                },
                "array" | "object" => serde_json::from_str(text)
                    .ok()
                    .filter(|v: &Value| (kind == "array") == v.is_array())
                    .ok_or_else(|| bad(format!("{key}: expected {kind} (as JSON)")))?,
                other => return Err(bad(format!("{key}: unsupported type {other:?}"))),
            };
            params.insert(key.clone(), value);
        }
        let params = self.effective_action_params(action, &params);
        if let Some(missing) = spec.required.iter().find(|key| !params.contains_key(*key)) {
            return Err(bad(format!("{missing:?} is required")));
        }
        Ok(params)
    }
}

fn parse_options(text: &str) -> Result<BTreeMap<String, ConfigOption>, SpecError> {
    const FILE: &str = "config.yaml";
    let raw: RawConfig = serde_yaml::from_str(text).map_err(|e| invalid(FILE, e.to_string()))?;
    let mut options = BTreeMap::new();
    for (name, option) in raw.options {
        let kind = match option.kind.as_deref() {
            None => OptionType::String,
            Some(text) => OptionType::from_name(text).ok_or_else(|| {
                invalid(FILE, format!("option {name:?} has unknown type {text:?}"))
            })?,
        };
        let default = match option.default {
            None | Some(serde_yaml::Value::Null) => None,
            Some(value) => {
                let value = to_json(FILE, &name, &value)?;
                if !kind.accepts(&value) {
                    return Err(invalid(
                        FILE,
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
    Ok(options)
}

fn parse_actions(text: &str) -> Result<BTreeMap<String, ActionSpec>, SpecError> {
    const FILE: &str = "actions.yaml";
    let raw: Option<BTreeMap<String, RawAction>> =
        serde_yaml::from_str(text).map_err(|e| invalid(FILE, e.to_string()))?;
    let mut actions = BTreeMap::new();
    for (name, action) in raw.unwrap_or_default() {
        let params = action
            .params
            .iter()
            .map(|(param, schema)| {
                Ok((
                    param.clone(),
                    to_json(FILE, &format!("{name}.{param}"), schema)?,
                ))
            })
            .collect::<Result<BTreeMap<_, _>, SpecError>>()?;
        if let Some(required) = action.required.iter().find(|r| !params.contains_key(*r)) {
            return Err(invalid(
                FILE,
                format!("action {name:?} requires undeclared parameter {required:?}"),
            ));
        }
        actions.insert(
            name,
            ActionSpec {
                params,
                required: action.required,
                additional_properties: action.additional_properties,
            },
        );
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "name: app\ncontainers:\n  web: {resource: img}\npeers:\n  p: {interface: x}\nrequires:\n  db: {interface: pg, limit: 1}\nextra-bindings:\n  admin: {}\n";
    const CONFIG: &str = "options:\n  port: {type: int, default: 80}\n  name: {type: string}\n  on: {type: boolean, default: false}\n  colour: {default: red}\n";
    const ACTIONS: &str = "go:\n  params:\n    n: {type: integer, default: 3}\n    who: {type: string}\n  required: [who]\n  additionalProperties: false\n";

    #[test]
    fn reads_endpoints_containers_bindings_options_and_actions() {
        let spec = CharmSpec::parse(META, Some(CONFIG), Some(ACTIONS)).unwrap();
        assert_eq!(spec.name, "app");
        assert_eq!(spec.containers, ["web"]);
        assert_eq!(spec.extra_bindings, ["admin"]);
        assert_eq!(spec.endpoints["db"].role, Role::Requirer);
        assert_eq!(spec.endpoints["db"].limit, Some(1));
        assert_eq!(spec.endpoints["p"].role, Role::Peer);
        assert_eq!(spec.options["name"].kind, OptionType::String);
        // A missing type means string, as in Juju.
        assert_eq!(spec.options["colour"].kind, OptionType::String);
        let config = spec.default_config();
        assert_eq!(config.get("port"), Some(&Value::from(80)));
        assert!(!config.contains_key("name"));
        let set = BTreeMap::from([("port".to_owned(), Value::from(81))]);
        assert_eq!(spec.effective_config(&set)["port"], Value::from(81));
        assert_eq!(
            spec.effective_action_params("go", &BTreeMap::new())["n"],
            Value::from(3)
        );
    }

    #[test]
    fn refuses_what_juju_refuses_naming_file_and_key() {
        let err = CharmSpec::parse(META, Some("options: {x: {type: list}}"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config.yaml: option \"x\" has unknown type \"list\""
        );
        let err = CharmSpec::parse(META, Some("options: {p: {type: int, default: x}}"), None)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("option \"p\": default \"x\" is not a int"),
            "{err}"
        );
        let err = CharmSpec::parse(META, None, Some("a: {required: [z]}")).unwrap_err();
        assert!(
            err.to_string().contains("undeclared parameter \"z\""),
            "{err}"
        );
        let twice = "name: a\nrequires: {db: {interface: x}}\nprovides: {db: {interface: y}}\n";
        let err = CharmSpec::parse(twice, None, None).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"db\" is declared more than once"),
            "{err}"
        );
        assert!(matches!(
            CharmSpec::parse(": not yaml [", None, None),
            Err(SpecError::Invalid {
                file: "metadata.yaml",
                ..
            })
        ));
    }

    #[test]
    fn action_params_are_typed_defaulted_and_checked() {
        let spec = CharmSpec::parse(META, None, Some(ACTIONS)).unwrap();
        let given = BTreeMap::from([("who".to_owned(), "me".to_owned())]);
        let params = spec.validate_action("go", &given).unwrap();
        assert_eq!(params["n"], Value::from(3));
        assert_eq!(params["who"], "me");
        let err = spec.validate_action("go", &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("\"who\" is required"), "{err}");
        let bad = BTreeMap::from([
            ("who".to_owned(), "me".to_owned()),
            ("n".to_owned(), "x".to_owned()),
        ]);
        let err = spec.validate_action("go", &bad).unwrap_err();
        assert!(err.to_string().contains("expected integer"), "{err}");
        let extra = BTreeMap::from([
            ("who".to_owned(), "me".to_owned()),
            ("z".to_owned(), "1".to_owned()),
        ]);
        assert!(spec.validate_action("go", &extra).is_err());
        assert!(matches!(
            spec.validate_action("nope", &given),
            Err(InputError::UnknownAction { .. })
        ));
    }

    #[test]
    fn config_text_is_typed_by_option_type() {
        assert_eq!(
            OptionType::Int.parse_value("p", " 8").unwrap(),
            Value::from(8)
        );
        assert!(OptionType::Int.parse_value("p", "x").is_err());
        assert_eq!(
            OptionType::Boolean.parse_value("b", "true").unwrap(),
            Value::Bool(true)
        );
        assert!(OptionType::Boolean.parse_value("b", "maybe").is_err());
        assert!(OptionType::Float.parse_value("f", "NaN").is_err());
        assert!(OptionType::Secret.parse_value("s", "nope").is_err());
        assert!(OptionType::Secret.parse_value("s", "secret:abc").is_ok());
    }

    #[test]
    fn types_accept_what_juju_accepts() {
        assert!(OptionType::Float.accepts(&Value::from(1)));
        assert!(!OptionType::Int.accepts(&Value::from(1.5)));
        assert!(!OptionType::Secret.accepts(&Value::from("plain")));
    }

    #[test]
    fn the_spec_round_trips_through_json() {
        let spec = CharmSpec::parse(META, Some(CONFIG), Some(ACTIONS)).unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<CharmSpec>(&json).unwrap(), spec);
    }
}
