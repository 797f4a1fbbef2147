//! The rules a charm package must follow (juju-contract §3), checked on [`CharmContents`]
//! before the pack writes anything and again on an archive read back in the tests. Every
//! broken rule is reported, each naming the file and what is wrong; values of options and
//! parameters are never echoed beyond their key names.
//!
//! Checked: required files; relative, plain paths; `dispatch` 0755 and every other file
//! 0644; `dispatch` is a `#!` script or an ELF binary for the base's architecture needing no
//! newer glibc than the base has; `metadata.yaml` name/summary/description, format v2 (no
//! `series`, `min-juju-version`, `deployment`), at least one container, each container's
//! resource an `oci-image` resource, mounts naming declared storage, container uid/gid
//! outside Juju's reserved 1000-9999, resource types, unique and non-reserved endpoint names
//! with an interface; `manifest.yaml` bases (known OS, channel, supported architectures,
//! including the package's platform) and analysis attributes; `config.yaml` option types and
//! defaults; `actions.yaml` names, keys, `required` lists and no `$ref`/`$schema`.

use std::collections::BTreeSet;
use std::fmt;

use serde_yaml::{Mapping, Value};

use crate::contents::{CharmContents, DISPATCH_MODE, FILE_MODE};
use crate::elf;
use crate::manifest::Base;

/// Files every package of this charm must hold.
pub const REQUIRED_FILES: [&str; 7] = [
    "metadata.yaml",
    "manifest.yaml",
    "config.yaml",
    "actions.yaml",
    "dispatch",
    "icon.svg",
    "README.md",
];

/// Metadata keys of format v1 that format v2 forbids (charm/v12 `meta.go Check`).
const V1_ONLY_KEYS: [&str; 3] = ["series", "min-juju-version", "deployment"];
/// OS names Juju knows for manifest bases.
const KNOWN_OS_NAMES: [&str; 2] = ["ubuntu", "centos"];
/// Architectures Juju supports.
const SUPPORTED_ARCHITECTURES: [&str; 5] = ["amd64", "arm64", "ppc64el", "s390x", "riscv64"];
/// Config option types (charm/v12 `config.go`).
const OPTION_TYPES: [&str; 5] = ["string", "int", "float", "boolean", "secret"];
/// Keys an action may have (charm/v12 `actions.go`).
const ACTION_KEYS: [&str; 7] = [
    "description",
    "title",
    "params",
    "required",
    "additionalProperties",
    "parallel",
    "execution-group",
];
/// Container uids/gids Juju reserves.
const RESERVED_IDS: std::ops::RangeInclusive<i64> = 1000..=9999;

/// One broken rule: the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    /// The package path concerned (`metadata.yaml`, `dispatch`, or `<archive>`).
    pub file: String,
    /// What is wrong, naming the key or entry.
    pub problem: String,
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

/// Every rule a package breaks (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<RuleViolation>);

impl Violations {
    /// How many rules are broken.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no rule is broken.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when a violation concerns `file` and its problem contains `needle`.
    pub fn mentions(&self, file: &str, needle: &str) -> bool {
        self.0
            .iter()
            .any(|v| v.file == file && v.problem.contains(needle))
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, violation) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {violation}")?;
        }
        Ok(())
    }
}

/// Checks every rule on `contents`, a package for `base`.
pub fn check(contents: &CharmContents, base: &Base) -> Result<(), Violations> {
    let mut out = Report::default();
    check_layout(contents, &mut out);
    check_dispatch(contents, base, &mut out);
    if let Some(meta) = out.yaml_mapping(contents, "metadata.yaml") {
        check_metadata(&meta, &mut out);
    }
    if let Some(manifest) = out.yaml_mapping(contents, "manifest.yaml") {
        check_manifest(&manifest, base, &mut out);
    }
    if let Some(config) = out.yaml_mapping(contents, "config.yaml") {
        check_config(&config, &mut out);
    }
    if let Some(actions) = out.yaml_mapping(contents, "actions.yaml") {
        check_actions(&actions, &mut out);
    }
    if out.0.is_empty() {
        Ok(())
    } else {
        Err(Violations(out.0))
    }
}

/// The charm's name from `metadata.yaml`, if it has a valid one.
pub fn charm_name(contents: &CharmContents) -> Option<String> {
    let entry = contents.get("metadata.yaml")?;
    let meta: Value = serde_yaml::from_slice(&entry.data).ok()?;
    let name = meta.get("name")?.as_str()?;
    valid_charm_name(name).then(|| name.to_owned())
}

#[derive(Default)]
struct Report(Vec<RuleViolation>);

impl Report {
    fn add(&mut self, file: &str, problem: impl Into<String>) {
        self.0.push(RuleViolation {
            file: file.to_owned(),
            problem: problem.into(),
        });
    }

    /// The file parsed as a YAML mapping (an empty file is an empty mapping), or `None`
    /// after recording why not (absence is recorded by `check_layout`).
    fn yaml_mapping(&mut self, contents: &CharmContents, file: &str) -> Option<Mapping> {
        let entry = contents.get(file)?;
        match serde_yaml::from_slice::<Value>(&entry.data) {
            Ok(Value::Mapping(mapping)) => Some(mapping),
            Ok(Value::Null) => Some(Mapping::new()),
            Ok(_) => {
                self.add(file, "the top level must be a mapping");
                None
            }
            Err(e) => {
                // serde_yaml's message names a position, never a value.
                self.add(file, format!("not valid YAML: {e}"));
                None
            }
        }
    }
}

fn check_layout(contents: &CharmContents, out: &mut Report) {
    for file in REQUIRED_FILES {
        if contents.get(file).is_none() {
            out.add(file, "required file missing");
        }
    }
    for (path, entry) in contents.iter() {
        if path.is_empty()
            || path.starts_with('/')
            || path
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
        {
            out.add(
                path,
                "path must be relative, without empty, `.` or `..` parts",
            );
        }
        let expected = if path == "dispatch" {
            DISPATCH_MODE
        } else {
            FILE_MODE
        };
        if entry.mode != expected {
            out.add(
                path,
                format!("mode is {:04o}, must be {expected:04o}", entry.mode),
            );
        }
    }
}

fn check_dispatch(contents: &CharmContents, base: &Base, out: &mut Report) {
    let Some(dispatch) = contents.get("dispatch") else {
        return;
    };
    if dispatch.data.starts_with(b"#!") {
        return;
    }
    if !elf::is_elf(&dispatch.data) {
        out.add("dispatch", "neither an ELF executable nor a `#!` script");
        return;
    }
    let facts = match elf::inspect(&dispatch.data) {
        Ok(facts) => facts,
        Err(e) => {
            out.add("dispatch", e.to_string());
            return;
        }
    };
    if facts.juju_architecture() != Some(base.architecture) {
        out.add(
            "dispatch",
            format!(
                "built for ELF machine {} ({}), the package is for {}",
                facts.machine,
                facts.juju_architecture().unwrap_or("unknown"),
                base.architecture
            ),
        );
    }
    if let Some(needed) = facts.max_glibc {
        if (needed.major, needed.minor) > base.glibc {
            out.add(
                "dispatch",
                format!(
                    "needs GLIBC_{needed}, {} {} has glibc {}.{}",
                    base.name, base.channel, base.glibc.0, base.glibc.1
                ),
            );
        }
    }
    if facts.version_needs.iter().any(|n| n == "GLIBC_PRIVATE") {
        out.add(
            "dispatch",
            "needs GLIBC_PRIVATE, which differs between glibc builds",
        );
    }
}

fn check_metadata(meta: &Mapping, out: &mut Report) {
    const FILE: &str = "metadata.yaml";
    match meta.get("name").and_then(Value::as_str) {
        Some(name) if valid_charm_name(name) => {}
        Some(name) => out.add(FILE, format!("name {name:?} is not a valid charm name")),
        None => out.add(FILE, "name missing (a string is required)"),
    }
    for key in ["summary", "description"] {
        if meta
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            out.add(FILE, format!("{key} missing or empty"));
        }
    }
    for key in V1_ONLY_KEYS {
        if meta.contains_key(key) {
            out.add(
                FILE,
                format!("{key} is a format v1 key; format v2 (manifest bases) forbids it"),
            );
        }
    }

    let resources = mapping_at(meta, "resources", FILE, out);
    for (name, resource) in &resources {
        let name = key_name(name);
        match resource.get("type").and_then(Value::as_str) {
            Some("oci-image" | "file") => {}
            _ => out.add(
                FILE,
                format!("resource {name}: type must be oci-image or file"),
            ),
        }
    }
    let storage = mapping_at(meta, "storage", FILE, out);
    let containers = mapping_at(meta, "containers", FILE, out);
    if containers.is_empty() {
        out.add(FILE, "no containers: a sidecar charm declares at least one");
    }
    for (name, container) in &containers {
        check_container(&key_name(name), container, &resources, &storage, out);
    }

    let mut endpoints = BTreeSet::new();
    for kind in ["provides", "requires", "peers"] {
        for (name, relation) in &mapping_at(meta, kind, FILE, out) {
            let name = key_name(name);
            if name == "juju" || name.starts_with("juju-") {
                out.add(
                    FILE,
                    format!("{kind}.{name}: endpoint names juju and juju-* are reserved"),
                );
            }
            if !endpoints.insert(name.clone()) {
                out.add(FILE, format!("{kind}.{name}: endpoint name used twice"));
            }
            if relation.get("interface").and_then(Value::as_str).is_none() {
                out.add(FILE, format!("{kind}.{name}: interface missing"));
            }
        }
    }
}

fn check_container(
    name: &str,
    container: &Value,
    resources: &Mapping,
    storage: &Mapping,
    out: &mut Report,
) {
    const FILE: &str = "metadata.yaml";
    match container.get("resource").and_then(Value::as_str) {
        None => out.add(
            FILE,
            format!("container {name}: no resource (each container needs an oci-image resource)"),
        ),
        Some(resource) => match resources.get(resource) {
            None => out.add(
                FILE,
                format!("container {name}: referenced resource {resource:?} not found"),
            ),
            Some(declared) if declared.get("type").and_then(Value::as_str) != Some("oci-image") => {
                out.add(
                    FILE,
                    format!(
                        "container {name}: referenced resource {resource:?} is not a oci-image"
                    ),
                )
            }
            Some(_) => {}
        },
    }
    if let Some(mounts) = container.get("mounts") {
        let Some(mounts) = mounts.as_sequence() else {
            out.add(FILE, format!("container {name}: mounts must be a list"));
            return;
        };
        for mount in mounts {
            match mount.get("storage").and_then(Value::as_str) {
                None => out.add(FILE, format!("container {name}: a mount has no storage")),
                Some(s) if !storage.contains_key(s) => out.add(
                    FILE,
                    format!("container {name}: mount storage {s:?} is not declared"),
                ),
                Some(_) => {}
            }
            if mount.get("location").and_then(Value::as_str).is_none() {
                out.add(FILE, format!("container {name}: a mount has no location"));
            }
        }
    }
    for key in ["uid", "gid"] {
        if let Some(id) = container.get(key) {
            match id.as_i64() {
                Some(id) if RESERVED_IDS.contains(&id) => out.add(
                    FILE,
                    format!("container {name}: {key} {id} is in Juju's reserved range 1000-9999"),
                ),
                Some(_) => {}
                None => out.add(FILE, format!("container {name}: {key} must be an integer")),
            }
        }
    }
}

fn check_manifest(manifest: &Mapping, base: &Base, out: &mut Report) {
    check_manifest_bases(manifest, base, out);
    check_manifest_analysis(manifest, out);
}

fn check_manifest_bases(manifest: &Mapping, base: &Base, out: &mut Report) {
    const FILE: &str = "manifest.yaml";
    let bases = manifest.get("bases").and_then(Value::as_sequence);
    let Some(bases) = bases.filter(|b| !b.is_empty()) else {
        out.add(FILE, "bases missing or empty (format v2 needs them)");
        return;
    };
    let mut covers_platform = false;
    for (i, entry) in bases.iter().enumerate() {
        let name = entry.get("name").and_then(Value::as_str);
        if !name.is_some_and(|n| KNOWN_OS_NAMES.contains(&n)) {
            out.add(
                FILE,
                format!("bases[{i}].name must be one of {KNOWN_OS_NAMES:?}"),
            );
        }
        let channel = entry.get("channel").and_then(Value::as_str);
        if channel.is_none_or(str::is_empty) {
            out.add(
                FILE,
                format!("bases[{i}].channel must be a string such as \"24.04\""),
            );
        }
        let architectures: Vec<&str> = entry
            .get("architectures")
            .and_then(Value::as_sequence)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if architectures.is_empty() {
            out.add(FILE, format!("bases[{i}].architectures missing or empty"));
        }
        for arch in &architectures {
            if !SUPPORTED_ARCHITECTURES.contains(arch) {
                out.add(
                    FILE,
                    format!("bases[{i}]: architecture {arch:?} is not supported"),
                );
            }
        }
        if name == Some(base.name)
            && channel == Some(base.channel)
            && architectures.contains(&base.architecture)
        {
            covers_platform = true;
        }
    }
    if !covers_platform {
        out.add(
            FILE,
            format!(
                "no base covers the package's platform {} {} {}",
                base.name, base.channel, base.architecture
            ),
        );
    }
}

fn check_manifest_analysis(manifest: &Mapping, out: &mut Report) {
    const FILE: &str = "manifest.yaml";
    let attributes = manifest
        .get("analysis")
        .and_then(|a| a.get("attributes"))
        .and_then(Value::as_sequence);
    match attributes {
        None => out.add(FILE, "analysis.attributes missing"),
        Some(attributes) => {
            for (i, attribute) in attributes.iter().enumerate() {
                if attribute.get("name").and_then(Value::as_str).is_none()
                    || attribute.get("result").and_then(Value::as_str).is_none()
                {
                    out.add(
                        FILE,
                        format!("analysis.attributes[{i}] needs a name and a result"),
                    );
                }
            }
        }
    }
}

fn check_config(config: &Mapping, out: &mut Report) {
    const FILE: &str = "config.yaml";
    let options = mapping_at(config, "options", FILE, out);
    for (name, option) in &options {
        let name = key_name(name);
        let Some(option) = option.as_mapping() else {
            out.add(FILE, format!("option {name} must be a mapping"));
            continue;
        };
        let kind = match option.get("type") {
            None => "string",
            Some(Value::String(kind)) if OPTION_TYPES.contains(&kind.as_str()) => kind.as_str(),
            Some(_) => {
                out.add(
                    FILE,
                    format!("option {name}: type must be one of {OPTION_TYPES:?}"),
                );
                continue;
            }
        };
        if let Some(default) = option.get("default") {
            let fits = match kind {
                "string" | "secret" => default.is_string(),
                "int" => default.is_i64() || default.is_u64(),
                "float" => default.is_number(),
                "boolean" => default.is_bool(),
                _ => false,
            };
            if !fits && !default.is_null() {
                out.add(FILE, format!("option {name}: default is not a {kind}"));
            }
        }
        if option.get("description").is_some_and(|d| !d.is_string()) {
            out.add(FILE, format!("option {name}: description must be a string"));
        }
    }
}

fn check_actions(actions: &Mapping, out: &mut Report) {
    const FILE: &str = "actions.yaml";
    for (name, action) in actions {
        let name = key_name(name);
        if !valid_action_name(&name) {
            out.add(
                FILE,
                format!("action name {name:?} must match ^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
            );
        }
        if name == "juju" || name.starts_with("juju-") {
            out.add(
                FILE,
                format!("action {name}: names juju and juju-* are reserved"),
            );
        }
        let Some(action) = action.as_mapping() else {
            if !action.is_null() {
                out.add(FILE, format!("action {name} must be a mapping"));
            }
            continue;
        };
        for key in action.keys() {
            let key = key_name(key);
            if !ACTION_KEYS.contains(&key.as_str()) {
                out.add(FILE, format!("action {name}: unknown key {key:?}"));
            }
        }
        if contains_schema_reference(&Value::Mapping(action.clone())) {
            out.add(
                FILE,
                format!("action {name}: $ref and $schema are prohibited"),
            );
        }
        let params = match action.get("params") {
            None | Some(Value::Null) => Mapping::new(),
            Some(Value::Mapping(params)) => params.clone(),
            Some(_) => {
                out.add(FILE, format!("action {name}: params must be a mapping"));
                Mapping::new()
            }
        };
        if let Some(required) = action.get("required") {
            match required.as_sequence() {
                None => out.add(FILE, format!("action {name}: required must be a list")),
                Some(required) => {
                    for param in required {
                        match param.as_str() {
                            Some(p) if params.contains_key(p) => {}
                            Some(p) => out.add(
                                FILE,
                                format!("action {name}: required parameter {p:?} is not in params"),
                            ),
                            None => out.add(
                                FILE,
                                format!("action {name}: required entries must be strings"),
                            ),
                        }
                    }
                }
            }
        }
        for (key, check) in [
            ("parallel", Value::is_bool as fn(&Value) -> bool),
            ("additionalProperties", Value::is_bool),
            ("execution-group", Value::is_string),
            ("description", Value::is_string),
        ] {
            if action.get(key).is_some_and(|v| !check(v)) {
                out.add(FILE, format!("action {name}: {key} has the wrong type"));
            }
        }
    }
}

/// The mapping under `key` (absent or null: empty; another type: a violation).
fn mapping_at(parent: &Mapping, key: &str, file: &str, out: &mut Report) -> Mapping {
    match parent.get(key) {
        None | Some(Value::Null) => Mapping::new(),
        Some(Value::Mapping(mapping)) => mapping.clone(),
        Some(_) => {
            out.add(file, format!("{key} must be a mapping"));
            Mapping::new()
        }
    }
}

/// A mapping key as text (YAML keys may be numbers or booleans).
fn key_name(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
    }
}

fn contains_schema_reference(value: &Value) -> bool {
    match value {
        Value::Mapping(mapping) => mapping.iter().any(|(key, value)| {
            matches!(key.as_str(), Some("$ref" | "$schema")) || contains_schema_reference(value)
        }),
        Value::Sequence(items) => items.iter().any(contains_schema_reference),
        _ => false,
    }
}

/// charm/v12's charm name rule: `^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$`.
pub fn valid_charm_name(name: &str) -> bool {
    let mut parts = name.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let lower_alnum = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    first.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && lower_alnum(first)
        && parts.all(|part| lower_alnum(part) && part.bytes().any(|b| b.is_ascii_lowercase()))
}

/// charm/v12's action name rule: `^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`.
pub fn valid_action_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charm_names() {
        for good in ["indico", "a", "postgresql-k8s", "my-charm2", "a-1b"] {
            assert!(valid_charm_name(good), "{good}");
        }
        for bad in ["", "Indico", "1abc", "a--b", "a-1", "a_b", "-a", "a-"] {
            assert!(!valid_charm_name(bad), "{bad}");
        }
    }

    #[test]
    fn action_names() {
        for good in ["add-admin", "a", "1", "x9"] {
            assert!(valid_action_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", "Add", "add_admin", "a b"] {
            assert!(!valid_action_name(bad), "{bad}");
        }
    }
}
