//! The hook tools (Juju's jujuc commands), agent side: every flag, output format, exit
//! code and error text of `docs/juju-contract.md` §2, as pure functions of a
//! [`HookContext`] and the [`Model`]. No process or socket is involved here, so the whole
//! contract is unit-testable; [`server`] carries requests from the `jujuc` binary in the
//! charm container to [`run_tool`].
//!
//! Rules shared by every tool: usage errors (flag parsing, argument checks) exit 2 and
//! run errors exit 1, both with `ERROR <message>\n` on stderr; a successful call prints
//! only its output. An injected [`crate::model::Fault`] makes the next call of a tool
//! fail with exit 1, as a lost controller connection would.
//!
//! Not offered: `leader-get`/`leader-set` (removed in Juju 4), storage, payloads,
//! metrics, podspec and `credential-get` (which Juju 3.6 refuses on Kubernetes), and
//! `-o/--output`.

mod actions;
mod context;
mod flags;
mod format;
mod misc;
mod protocol;
mod relations;
mod secrets;
pub mod server;
mod state;
mod status;

pub use context::{ActionInfo, BagOwner, CommitReport, HookContext, HookInfo, LogLine, PortChange};
pub use flags::{FlagSpec, Parsed, parse};
pub use format::{Format, Output};
pub use protocol::{ToolRequest, ToolResponse};

use crate::model::Model;

/// The tool names the substrate answers to (the `jujuc` symlinks in the tools dir).
pub const TOOL_NAMES: &[&str] = &[
    "action-fail",
    "action-get",
    "action-log",
    "action-set",
    "application-version-set",
    "close-port",
    "config-get",
    "goal-state",
    "is-leader",
    "juju-log",
    "network-get",
    "open-port",
    "opened-ports",
    "relation-get",
    "relation-ids",
    "relation-list",
    "relation-model-get",
    "relation-set",
    "secret-add",
    "secret-get",
    "secret-grant",
    "secret-ids",
    "secret-info-get",
    "secret-remove",
    "secret-revoke",
    "secret-set",
    "state-delete",
    "state-get",
    "state-set",
    "status-get",
    "status-set",
    "unit-get",
];

/// A failed tool call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// Bad flags or arguments (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The command failed while running (exit 1).
    #[error("{0}")]
    Run(String),
}

impl ToolError {
    /// The exit code Juju gives this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            Self::Run(_) => 1,
        }
    }
}

/// What one call printed and returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolOutput {
    /// Exit code.
    pub code: i32,
    /// Standard output bytes.
    pub stdout: Vec<u8>,
    /// Standard error bytes.
    pub stderr: Vec<u8>,
}

impl ToolOutput {
    /// A failure: `ERROR <msg>\n` and its exit code.
    pub fn error(err: &ToolError) -> Self {
        Self {
            code: err.exit_code(),
            stdout: Vec::new(),
            stderr: format!("ERROR {err}\n").into_bytes(),
        }
    }

    /// Standard output as text (for tests and logs).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// One call being served: the request, the hook's context, the live model, and the
/// warnings the tool prints on stderr even when it succeeds.
pub(crate) struct Call<'a> {
    pub req: &'a ToolRequest,
    pub ctx: &'a mut HookContext,
    pub model: &'a mut Model,
    pub warnings: Vec<u8>,
}

type ToolFn = fn(&mut Call<'_>) -> Result<Vec<u8>, ToolError>;

fn lookup(tool: &str) -> Option<ToolFn> {
    Some(match tool {
        "action-fail" => actions::action_fail,
        "action-get" => actions::action_get,
        "action-log" => actions::action_log,
        "action-set" => actions::action_set,
        "application-version-set" => status::application_version_set,
        "close-port" => misc::close_port,
        "config-get" => misc::config_get,
        "goal-state" => misc::goal_state,
        "is-leader" => misc::is_leader,
        "juju-log" => misc::juju_log,
        "network-get" => misc::network_get,
        "open-port" => misc::open_port,
        "opened-ports" => misc::opened_ports,
        "relation-get" => relations::relation_get,
        "relation-ids" => relations::relation_ids,
        "relation-list" => relations::relation_list,
        "relation-model-get" => relations::relation_model_get,
        "relation-set" => relations::relation_set,
        "secret-add" => secrets::secret_add,
        "secret-get" => secrets::secret_get,
        "secret-grant" => secrets::secret_grant,
        "secret-ids" => secrets::secret_ids,
        "secret-info-get" => secrets::secret_info_get,
        "secret-remove" => secrets::secret_remove,
        "secret-revoke" => secrets::secret_revoke,
        "secret-set" => secrets::secret_set,
        "state-delete" => state::state_delete,
        "state-get" => state::state_get,
        "state-set" => state::state_set,
        "status-get" => status::status_get,
        "status-set" => status::status_set,
        "unit-get" => misc::unit_get,
        _ => return None,
    })
}

/// Runs one hook tool call against the context and the live model: immediate effects
/// (status, application version, logs, action log) land in `model` at once, buffered ones
/// in `ctx` until [`HookContext::commit`].
pub fn run_tool(ctx: &mut HookContext, model: &mut Model, req: &ToolRequest) -> ToolOutput {
    let Some(tool) = lookup(&req.tool) else {
        return ToolOutput::error(&ToolError::Run(format!(
            "bad request: unknown command: {}",
            req.tool
        )));
    };
    if model.take_fault(&req.tool, &ctx.unit) {
        return ToolOutput::error(&ToolError::Run(format!("injected fault: {}", req.tool)));
    }
    let mut call = Call {
        req,
        ctx,
        model,
        warnings: Vec::new(),
    };
    match tool(&mut call) {
        Ok(stdout) => ToolOutput {
            code: 0,
            stdout,
            stderr: call.warnings,
        },
        Err(err) => {
            let mut out = ToolOutput::error(&err);
            let mut stderr = call.warnings;
            stderr.extend(out.stderr);
            out.stderr = stderr;
            out
        }
    }
}

// ---- helpers shared by the tools ----

impl Call<'_> {
    /// Parses the arguments against `specs`; a failure is a usage error.
    pub fn parse(&self, specs: &[FlagSpec]) -> Result<Parsed, ToolError> {
        flags::parse(specs, &self.req.args).map_err(ToolError::Usage)
    }

    /// Reads `--file` content: stdin for `-`, else a file the client shipped.
    pub fn file_content(&self, path: &str) -> Result<Vec<u8>, ToolError> {
        if path == "-" {
            return Ok(self.req.stdin.clone().unwrap_or_default());
        }
        self.req
            .file(path)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| ToolError::Run(format!("open {path}: no such file or directory")))
    }

    /// The relation for `-r`, or the hook's relation; `None` when neither.
    pub fn relation_flag(&self, parsed: &Parsed) -> Result<Option<u64>, ToolError> {
        let Some((text, spelled)) = parsed.value_spelled("relation") else {
            return Ok(self.ctx.info.relation_id);
        };
        let bad = |why: &str| {
            ToolError::Usage(format!(
                "invalid value {text:?} for option {spelled}: {why}"
            ))
        };
        let id_text = text.rsplit_once(':').map_or(text, |(_, id)| id);
        let id: u64 = id_text.parse().map_err(|_| bad("invalid relation id"))?;
        match self.model.relations.get(&id) {
            Some(rel) if rel.involves(&self.ctx.app) => Ok(Some(id)),
            _ => Err(bad("relation not found")),
        }
    }

    /// Like [`Call::relation_flag`], but the relation is required.
    pub fn required_relation(&self, parsed: &Parsed) -> Result<u64, ToolError> {
        self.relation_flag(parsed)?
            .ok_or_else(|| ToolError::Usage("no relation id specified".into()))
    }
}

/// The `--format` flag of a tool.
pub(crate) const FORMAT: FlagSpec = FlagSpec::value("format", None);

/// The format chosen with `--format` (default `default`), among `allowed`.
pub(crate) fn format_of(
    parsed: &Parsed,
    default: Format,
    allowed: &[Format],
) -> Result<Format, ToolError> {
    match parsed.value_spelled("format") {
        None => Ok(default),
        Some((text, spelled)) => Format::parse(text, allowed).map_err(|why| {
            ToolError::Usage(format!(
                "invalid value {text:?} for option {spelled}: {why}"
            ))
        }),
    }
}

/// All three formats.
pub(crate) const ALL_FORMATS: &[Format] = &[Format::Smart, Format::Json, Format::Yaml];

/// `unrecognized args: ["a" "b"]` (Go's `%q` of a string slice).
pub(crate) fn unrecognized(args: &[String]) -> ToolError {
    let quoted: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    ToolError::Usage(format!("unrecognized args: [{}]", quoted.join(" ")))
}

/// Fails when more than `max` positional arguments were given.
pub(crate) fn at_most(parsed: &Parsed, max: usize) -> Result<(), ToolError> {
    if parsed.positional.len() > max {
        return Err(unrecognized(&parsed.positional[max..]));
    }
    Ok(())
}

/// juju/utils `keyvalues.Parse(args, allowEmpty=true)`: split at the first `=`, both
/// sides trimmed, empty key or missing `=` and repeated keys are errors.
pub(crate) fn parse_key_values(
    args: &[String],
) -> Result<std::collections::BTreeMap<String, String>, ToolError> {
    let mut map = std::collections::BTreeMap::new();
    for arg in args {
        let Some((key, value)) = arg.split_once('=') else {
            return Err(ToolError::Usage(format!(
                "expected \"key=value\", got {arg:?}"
            )));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ToolError::Usage(format!(
                "expected \"key=value\", got {arg:?}"
            )));
        }
        if map
            .insert(key.to_owned(), value.trim().to_owned())
            .is_some()
        {
            return Err(ToolError::Usage(format!(
                "key {key:?} specified more than once"
            )));
        }
    }
    Ok(map)
}

/// A YAML (or JSON) map of strings from `--file` content; errors exit 1.
pub(crate) fn parse_string_map(
    content: &[u8],
) -> Result<std::collections::BTreeMap<String, String>, ToolError> {
    if content.iter().all(u8::is_ascii_whitespace) {
        return Ok(std::collections::BTreeMap::new());
    }
    let value: serde_yaml::Value =
        serde_yaml::from_slice(content).map_err(|e| ToolError::Run(format!("yaml: {e}")))?;
    if value.is_null() {
        return Ok(std::collections::BTreeMap::new());
    }
    let serde_yaml::Value::Mapping(map) = value else {
        return Err(ToolError::Run(
            "yaml: unmarshal errors: cannot unmarshal into map[string]string".into(),
        ));
    };
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in map {
        let text = |v: &serde_yaml::Value| match v {
            serde_yaml::Value::String(s) => Some(s.clone()),
            serde_yaml::Value::Number(n) => Some(n.to_string()),
            serde_yaml::Value::Bool(b) => Some(b.to_string()),
            serde_yaml::Value::Null => Some(String::new()),
            _ => None,
        };
        match (text(&k), text(&v)) {
            (Some(k), Some(v)) => {
                out.insert(k, v);
            }
            _ => {
                return Err(ToolError::Run(
                    "yaml: unmarshal errors: cannot unmarshal !!seq or !!map into string".into(),
                ));
            }
        }
    }
    Ok(out)
}
