//! The charm's declared surface, read from its `metadata.yaml`, `config.yaml` and
//! `actions.yaml`: endpoints (with role, interface and limit), containers, config
//! options with their types and defaults, and actions with their parameter schemas.
//!
//! The harness uses it to fill in what Juju fills in (config defaults, action parameter
//! defaults) and to refuse inputs Juju could never produce (see
//! [`crate::consistency`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

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
    /// A file is not valid YAML of the expected shape.
    #[error("{file} is not valid: {source}")]
    Yaml {
        /// Which file (`metadata.yaml`, `config.yaml`, `actions.yaml`).
        file: &'static str,
        /// The parse error.
        #[source]
        source: serde_yaml::Error,
    },
    /// A file parses but declares something Juju would refuse.
    #[error("{file}: {reason}")]
    Invalid {
        /// Which file.
        file: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Which side of a relation an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointRole {
    /// `requires:`.
    Requires,
    /// `provides:`.
    Provides,
    /// `peers:`.
    Peer,
}

/// One relation endpoint from metadata.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// `requires`, `provides` or `peers`.
    pub role: EndpointRole,
    /// The interface name.
    pub interface: String,
    /// `limit:` when declared.
    pub limit: Option<u32>,
}

/// The type of a config option (config.yaml `type:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptionType {
    /// `string`.
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
    /// The name used in config.yaml.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int => "int",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::Secret => "secret",
        }
    }

    /// Whether `value` is a valid value of this type, as Juju checks it.
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Int => value.is_i64() || value.is_u64(),
            Self::Float => value.is_number(),
            Self::Boolean => value.is_boolean(),
            Self::Secret => value.as_str().is_some_and(|s| s.starts_with("secret:")),
        }
    }
}

/// One config option.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionSpec {
    /// Its type.
    pub option_type: OptionType,
    /// Its default (`None`: unset by default, absent from `config-get`).
    pub default: Option<serde_json::Value>,
}

/// One action from actions.yaml.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSpec {
    /// Parameter name to its JSON-schema (as JSON).
    pub params: BTreeMap<String, serde_json::Value>,
    /// Names listed in `required:`.
    pub required: Vec<String>,
    /// `additionalProperties:` (Juju's default is true).
    pub additional_properties: bool,
}

/// Everything the harness knows about the charm under test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CharmSpec {
    /// The charm's name from metadata.yaml.
    pub name: String,
    /// Endpoints by name.
    pub endpoints: BTreeMap<String, EndpointSpec>,
    /// Container names (`containers:`).
    pub containers: Vec<String>,
    /// Extra bindings (`extra-bindings:`), usable with `network-get`.
    pub extra_bindings: Vec<String>,
    /// Config options by name.
    pub options: BTreeMap<String, OptionSpec>,
    /// Actions by name.
    pub actions: BTreeMap<String, ActionSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMetadata {
    name: String,
    #[serde(default)]
    requires: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    provides: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    peers: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    containers: BTreeMap<String, serde_yaml::Value>,
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
    #[serde(rename = "type")]
    option_type: String,
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
    #[serde(default)]
    additional_properties: Option<bool>,
}

fn yaml_to_json(
    file: &'static str,
    value: serde_yaml::Value,
) -> Result<serde_json::Value, SpecError> {
    serde_json::to_value(value).map_err(|e| SpecError::Invalid {
        file,
        reason: format!("value cannot be represented as JSON: {e}"),
    })
}

impl CharmSpec {
    /// Reads `metadata.yaml`, and `config.yaml` / `actions.yaml` when present, from a charm
    /// directory.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, SpecError> {
        let dir = dir.as_ref();
        let read = |name: &str, required: bool| -> Result<Option<String>, SpecError> {
            let path = dir.join(name);
            match fs::read_to_string(&path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(SpecError::Read { path, source }),
            }
        };
        let metadata = read("metadata.yaml", true)?.unwrap_or_default();
        let config = read("config.yaml", false)?;
        let actions = read("actions.yaml", false)?;
        Self::from_yaml(&metadata, config.as_deref(), actions.as_deref())
    }

    /// Parses the three files' text (`config` and `actions` may be absent).
    pub fn from_yaml(
        metadata: &str,
        config: Option<&str>,
        actions: Option<&str>,
    ) -> Result<Self, SpecError> {
        let meta: RawMetadata =
            serde_yaml::from_str(metadata).map_err(|source| SpecError::Yaml {
                file: "metadata.yaml",
                source,
            })?;
        let mut endpoints = BTreeMap::new();
        for (role, map) in [
            (EndpointRole::Requires, meta.requires),
            (EndpointRole::Provides, meta.provides),
            (EndpointRole::Peer, meta.peers),
        ] {
            for (name, raw) in map {
                let spec = EndpointSpec {
                    role,
                    interface: raw.interface,
                    limit: raw.limit,
                };
                if endpoints.insert(name.clone(), spec).is_some() {
                    return Err(SpecError::Invalid {
                        file: "metadata.yaml",
                        reason: format!("endpoint {name:?} is declared more than once"),
                    });
                }
            }
        }
        let mut options = BTreeMap::new();
        if let Some(text) = config {
            let raw: RawConfig = serde_yaml::from_str(text).map_err(|source| SpecError::Yaml {
                file: "config.yaml",
                source,
            })?;
            for (name, option) in raw.options {
                let option_type = match option.option_type.as_str() {
                    "string" => OptionType::String,
                    "int" => OptionType::Int,
                    "float" => OptionType::Float,
                    "boolean" => OptionType::Boolean,
                    "secret" => OptionType::Secret,
                    other => {
                        return Err(SpecError::Invalid {
                            file: "config.yaml",
                            reason: format!("option {name:?} has unknown type {other:?}"),
                        });
                    }
                };
                let default = option
                    .default
                    .filter(|v| !v.is_null())
                    .map(|v| yaml_to_json("config.yaml", v))
                    .transpose()?;
                if let Some(value) = &default {
                    // Juju accepts an int default for a float option.
                    if !option_type.accepts(value) {
                        return Err(SpecError::Invalid {
                            file: "config.yaml",
                            reason: format!(
                                "option {name:?}: default {value} is not a {}",
                                option_type.as_str()
                            ),
                        });
                    }
                }
                options.insert(
                    name,
                    OptionSpec {
                        option_type,
                        default,
                    },
                );
            }
        }
        let mut action_specs = BTreeMap::new();
        if let Some(text) = actions {
            let raw: Option<BTreeMap<String, RawAction>> =
                serde_yaml::from_str(text).map_err(|source| SpecError::Yaml {
                    file: "actions.yaml",
                    source,
                })?;
            for (name, action) in raw.unwrap_or_default() {
                let mut params = BTreeMap::new();
                for (param, schema) in action.params {
                    params.insert(param, yaml_to_json("actions.yaml", schema)?);
                }
                for required in &action.required {
                    if !params.contains_key(required) {
                        return Err(SpecError::Invalid {
                            file: "actions.yaml",
                            reason: format!(
                                "action {name:?} requires undeclared parameter {required:?}"
                            ),
                        });
                    }
                }
                action_specs.insert(
                    name,
                    ActionSpec {
                        params,
                        required: action.required,
                        additional_properties: action.additional_properties.unwrap_or(true),
                    },
                );
            }
        }
        Ok(Self {
            name: meta.name,
            endpoints,
            containers: meta.containers.into_keys().collect(),
            extra_bindings: meta.extra_bindings.into_keys().collect(),
            options,
            actions: action_specs,
        })
    }

    /// The config `config-get` prints for `set` values: the defaults, overridden by
    /// what is set (unset options without a default are absent).
    pub fn effective_config(
        &self,
        set: &BTreeMap<String, serde_json::Value>,
    ) -> BTreeMap<String, serde_json::Value> {
        let mut config: BTreeMap<String, serde_json::Value> = self
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
        params: &BTreeMap<String, serde_json::Value>,
    ) -> BTreeMap<String, serde_json::Value> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "name: demo\nrequires:\n  db: {interface: pgsql, limit: 1}\npeers:\n  p: {interface: demo-peer}\ncontainers:\n  web: {resource: img}\n";

    #[test]
    fn reads_endpoints_containers_options_and_actions() {
        let spec = CharmSpec::from_yaml(
            META,
            Some("options:\n  port: {type: int, default: 80}\n  name: {type: string}\n"),
            Some("hello:\n  params:\n    who: {type: string, default: world}\n  required: []\n"),
        )
        .unwrap();
        assert_eq!(spec.name, "demo");
        assert_eq!(spec.endpoints["db"].limit, Some(1));
        assert_eq!(spec.endpoints["p"].role, EndpointRole::Peer);
        assert_eq!(spec.containers, ["web"]);
        let config = spec.effective_config(&BTreeMap::new());
        assert_eq!(config.get("port"), Some(&serde_json::json!(80)));
        assert!(!config.contains_key("name"));
        let params = spec.effective_action_params("hello", &BTreeMap::new());
        assert_eq!(params["who"], "world");
    }

    #[test]
    fn refuses_unknown_option_types_and_bad_defaults() {
        let err = CharmSpec::from_yaml(META, Some("options: {x: {type: list}}"), None).unwrap_err();
        assert!(err.to_string().contains("unknown type \"list\""), "{err}");
        let err = CharmSpec::from_yaml(META, Some("options: {x: {type: int, default: abc}}"), None)
            .unwrap_err();
        assert!(err.to_string().contains("is not a int"), "{err}");
    }
}
