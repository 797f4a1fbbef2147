//! What the fuzz targets share: decoding a fuzz input into the shape the charm receives it in
//! (a process environment, `config-get` JSON, relation bags as `relation-get` prints them),
//! and the invariant checks more than one target makes.
//!
//! Inputs that Juju could never produce (invalid UTF-8, a databag value that is not a
//! string) are skipped rather than fed in: the parsers under test never see them, because
//! the hook-tool layer rejects them first.

use std::collections::BTreeMap;
use std::fmt::Debug;

use indico_charm::interfaces::{Databag, RelationSnapshot};
use juju_runtime::{JujuContext, RelationId};
use serde_json::{Map, Value};

pub mod structured_env;

/// A process environment in the `/proc/<pid>/environ` form: `KEY=VALUE` entries separated
/// by NUL bytes. An entry without `=`, or that is not UTF-8, is skipped (the charm's
/// `JujuContext::from_env` skips non-UTF-8 variables too). A real hook's environment,
/// captured from `/proc`, is a valid input as it is.
pub fn environ(data: &[u8]) -> Vec<(String, String)> {
    data.split(|b| *b == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .filter_map(|entry| entry.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The environment back in the `environ` form (for writing seeds).
pub fn to_environ(vars: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in vars {
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

/// Parses a hook environment and checks what must hold for any input:
///
/// - a parsed context re-exported with `JujuContext::env_vars` (what the scenario harness
///   and the substrate's unit agent hand a dispatch) parses back to the same context;
/// - an error names the variable at fault;
/// - the charm's model proxy settings, read from the same environment, never show the
///   proxy credentials in `Debug` and never echo a value in an error.
pub fn check_hook_environment(vars: &[(String, String)]) {
    match JujuContext::from_vars(vars.iter().cloned()) {
        Ok(context) => {
            let exported: Vec<(String, String)> = context
                .env_vars()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            let again = JujuContext::from_vars(exported);
            assert_eq!(
                again.as_ref(),
                Ok(&context),
                "the exported environment of a parsed context must parse back to it"
            );
        }
        Err(error) => {
            let var = match &error {
                juju_runtime::ContextError::Missing { var }
                | juju_runtime::ContextError::Malformed { var, .. } => *var,
            };
            assert!(var.starts_with("JUJU_"), "{error:?}");
            assert!(error.to_string().contains(var), "{error}");
        }
    }
    let env: BTreeMap<&str, &str> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    check_proxy_settings(&env);
}

fn check_proxy_settings(env: &BTreeMap<&str, &str>) {
    use indico_charm::proxy::{HTTP_PROXY_VAR, HTTPS_PROXY_VAR, ProxyError, ProxySettings};
    let read = |env: &BTreeMap<&str, &str>| {
        ProxySettings::from_env(|name| env.get(name).map(|v| (*v).to_owned()))
    };
    match read(env) {
        Ok(settings) => {
            // The Debug output must not depend on the credentials in a proxy URL: the same
            // URLs with other credentials print the same.
            let mut other = env.clone();
            let mut replaced = Vec::new();
            for var in [HTTP_PROXY_VAR, HTTPS_PROXY_VAR] {
                if let Some(value) = env.get(var).and_then(|v| with_other_credentials(v)) {
                    replaced.push((var, value));
                }
            }
            if !replaced.is_empty() {
                for (var, value) in &replaced {
                    other.insert(var, value);
                }
                let other = read(&other).expect("other credentials keep a proxy URL valid");
                assert_eq!(
                    format!("{settings:?}"),
                    format!("{other:?}"),
                    "proxy credentials reach Debug output"
                );
            }
            for (name, value) in settings.environment() {
                if name.eq_ignore_ascii_case("no_proxy") {
                    assert_eq!(value.split(',').count(), settings.no_proxy.len());
                } else {
                    assert!(url::Url::parse(&value).is_ok(), "{name} is not a URL");
                }
            }
        }
        Err(ProxyError::InvalidUrl { variable, reason }) => {
            // The reason is either ours or the URL parser's, which describes the problem
            // without quoting the input (that may hold credentials).
            let value = env.get(variable).map(|v| v.trim()).unwrap_or_default();
            let parser_reason = url::Url::parse(value).err().map(|e| e.to_string());
            assert!(
                matches!(
                    reason.as_str(),
                    "the scheme must be http or https" | "a host is required"
                ) || Some(&reason) == parser_reason.as_ref(),
                "unexpected proxy error reason {reason:?}"
            );
        }
        Err(ProxyError::InvalidNoProxy { position, .. }) => assert!(position >= 1),
    }
}

/// `value` (a valid proxy URL) with other credentials, when it has any.
fn with_other_credentials(value: &str) -> Option<String> {
    let mut url = url::Url::parse(value.trim()).ok()?;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let user = if url.username() == "fuzzuser" {
        "other"
    } else {
        "fuzzuser"
    };
    let password = if url.password() == Some("fuzzpass") {
        "other"
    } else {
        "fuzzpass"
    };
    url.set_username(user).ok()?;
    url.set_password(Some(password)).ok()?;
    Some(url.to_string())
}

/// The relation bags of one relation as the charm reads them with `relation-get`, plus the
/// content of a secret the bags may name. The fuzz input is this JSON object:
///
/// ```json
/// {"app": {"key": "value"}, "units": {"postgresql-k8s/0": {"key": "value"}},
///  "local": {}, "remote_app": "postgresql-k8s", "secret": {"password": "..."}}
/// ```
///
/// Every member is optional; a value that is not a string skips the input.
#[derive(Clone, Debug)]
pub struct RelationInput {
    /// The relation as gather builds it.
    pub snapshot: RelationSnapshot,
    /// The content of the secret named in the bags (`secret-user`, `password_id`).
    pub secret: Databag,
}

impl RelationInput {
    /// Decodes the JSON form above; `None` for anything else.
    pub fn from_json(data: &[u8], endpoint: &str, id: u64) -> Option<Self> {
        let Value::Object(root) = serde_json::from_slice(data).ok()? else {
            return None;
        };
        let mut snapshot = RelationSnapshot::new(RelationId::new(endpoint, id));
        snapshot.app_data = bag(root.get("app"))?;
        snapshot.local_app_data = bag(root.get("local"))?;
        snapshot.remote_app = match root.get("remote_app") {
            None | Some(Value::Null) => None,
            Some(Value::String(app)) => Some(app.clone()),
            Some(_) => return None,
        };
        if let Some(units) = root.get("units") {
            let Value::Object(units) = units else {
                return None;
            };
            for (unit, data) in units {
                snapshot.units.insert(unit.clone(), bag(Some(data))?);
            }
        }
        Some(Self {
            snapshot,
            secret: bag(root.get("secret"))?,
        })
    }

    /// Several relations of one endpoint (logging): a JSON list of the objects above.
    pub fn list_from_json(data: &[u8], endpoint: &str) -> Option<Vec<Self>> {
        let Value::Array(items) = serde_json::from_slice(data).ok()? else {
            return None;
        };
        items
            .iter()
            .enumerate()
            .map(|(id, item)| {
                let json = serde_json::to_vec(item).ok()?;
                Self::from_json(&json, endpoint, id as u64)
            })
            .collect()
    }

    /// The same relation with `key` of the application bag set to `value`.
    pub fn with_app_value(&self, key: &str, value: &str) -> Self {
        let mut other = self.clone();
        other
            .snapshot
            .app_data
            .insert(key.to_owned(), value.to_owned());
        other
    }

    /// The same relation with another secret at `key` of the application bag, when the bag
    /// holds a non-empty value there: what a parser makes of both must print the same.
    pub fn with_other_app_secret(&self, key: &str) -> Option<Self> {
        let value = self.snapshot.app_data.get(key).filter(|v| !v.is_empty())?;
        Some(self.with_app_value(key, other_secret(value)))
    }
}

/// A databag: absent is empty; an object of strings; anything else is `None`.
fn bag(value: Option<&Value>) -> Option<Databag> {
    match value {
        None | Some(Value::Null) => Some(Databag::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        Some(_) => None,
    }
}

/// `config-get --format=json` output: a JSON object, or `None`.
pub fn config_map(data: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(data).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Asserts that two values print the same in `Debug`: used with the same input parsed twice,
/// once with a secret replaced, to show the secret does not reach `Debug` output (or logs).
pub fn assert_same_debug<T: Debug>(a: &T, b: &T, what: &str) {
    assert_eq!(
        format!("{a:?}"),
        format!("{b:?}"),
        "{what} changes the Debug output"
    );
}

/// A replacement secret that differs from `value` and passes every parser's checks on
/// secrets (non-empty, no whitespace, no `,` or `=`).
pub fn other_secret(value: &str) -> &'static str {
    if value == "Fuzz0ther5ecret" {
        "An0therFuzz5ecret"
    } else {
        "Fuzz0ther5ecret"
    }
}
