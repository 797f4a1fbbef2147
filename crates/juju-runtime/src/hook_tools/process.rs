//! [`ProcessHookTools`]: the hook tools run as processes, exactly as Juju's contract
//! specifies (`docs/juju-contract.md` §2): `--format=json` wherever the tool accepts
//! it, relation data and state through `--file -` on stdin (closed after writing),
//! secret content through 0600 files (see [`SecretFiles`]), relation ids as
//! `<endpoint>:<id>`, and `--` before free-text messages.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::de::DeserializeOwned;

use super::{
    ActionParams, Bag, ConfigValues, Databag, GoalState, HookToolResult, HookTools, LogLevel,
    NetworkInfo, Port, Scope, SecretAddOptions, SecretContent, SecretGetOptions, SecretInfo,
    SecretRef, SecretSetOptions, Status, StatusReport, classify_failure,
};
use crate::error::HookToolError;
use crate::names::{RelationId, SecretUri};

/// `juju-log` messages longer than this are split, as ops does (`MAX_LOG_LINE_LEN`).
const MAX_LOG_LINE_LEN: usize = 131_071;

/// Runs the hook tools as child processes, from `PATH` (as under Juju) or from a given
/// directory. Stateless: each method is one process (a few write nothing when given
/// nothing to write).
#[derive(Debug, Clone, Default)]
pub struct ProcessHookTools {
    tools_dir: Option<PathBuf>,
}

impl ProcessHookTools {
    /// Tools from `tools_dir`, or from `PATH` when `None` (Juju puts its tools first in
    /// `PATH` for every hook).
    pub fn new(tools_dir: Option<PathBuf>) -> Self {
        Self { tools_dir }
    }

    /// Runs `tool` with `args`; writes `stdin` (then closes it) when given, else stdin
    /// is /dev/null. Returns stdout on exit 0, the classified error otherwise.
    fn run(
        &self,
        tool: &'static str,
        args: &[OsString],
        stdin: Option<&[u8]>,
    ) -> HookToolResult<Vec<u8>> {
        let program = match &self.tools_dir {
            Some(dir) => dir.join(tool),
            None => PathBuf::from(tool),
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let spawn_error = |source| HookToolError::Spawn { tool, source };
        let mut child = command.spawn().map_err(spawn_error)?;
        let output = std::thread::scope(|scope| {
            // Write stdin on its own thread so that a tool which prints before it has
            // read everything cannot deadlock us; dropping the pipe closes stdin, which
            // the jujuc client needs (it reads stdin to EOF).
            let writer = match (stdin, child.stdin.take()) {
                (Some(bytes), Some(mut pipe)) => Some(scope.spawn(move || pipe.write_all(bytes))),
                _ => None,
            };
            let output = child.wait_with_output();
            let written = match writer {
                Some(handle) => handle
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("stdin writer panicked"))),
                None => Ok(()),
            };
            output.and_then(|output| {
                // A tool that exits without reading stdin (e.g. on a usage error) breaks
                // the pipe; its exit status says more than our write error.
                match written {
                    Err(e) if output.status.success() => Err(e),
                    _ => Ok(output),
                }
            })
        })
        .map_err(spawn_error)?;
        tracing::trace!(tool, status = %output.status, "hook tool ran");
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(classify_failure(tool, output.status.code(), &output.stderr))
        }
    }

    /// Runs `tool` and parses its stdout as JSON.
    fn run_json<T: DeserializeOwned>(
        &self,
        tool: &'static str,
        args: &[OsString],
    ) -> HookToolResult<T> {
        let stdout = self.run(tool, args, None)?;
        decode(tool, &stdout)
    }

    /// Runs a tool whose stdout does not matter.
    fn run_quiet(&self, tool: &'static str, args: &[OsString]) -> HookToolResult<()> {
        self.run(tool, args, None).map(drop)
    }
}

/// Parses JSON output. The error keeps only the kind and position of the problem, never
/// the output (it may be relation data or secret content).
fn decode<T: DeserializeOwned>(tool: &'static str, stdout: &[u8]) -> HookToolResult<T> {
    serde_json::from_slice(stdout).map_err(|e| HookToolError::Decode {
        tool,
        reason: format!(
            "not the JSON expected ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// Serialises a map for `--file -` (JSON is YAML, which the tools read).
fn encode_map(tool: &'static str, map: &BTreeMap<String, String>) -> HookToolResult<Vec<u8>> {
    serde_json::to_vec(map).map_err(|e| HookToolError::InvalidArgument {
        tool,
        reason: format!("cannot encode as JSON: {:?} error", e.classify()),
    })
}

/// Builds an argv from string-like pieces.
fn argv<I: IntoIterator<Item = S>, S: Into<OsString>>(items: I) -> Vec<OsString> {
    items.into_iter().map(Into::into).collect()
}

/// `-r <endpoint>:<id>`.
fn relation_flag(relation: &RelationId) -> [OsString; 2] {
    ["-r".into(), relation.to_string().into()]
}

/// `null` (Go's nil map or slice) or a value.
fn or_default<T: Default>(value: Option<T>) -> T {
    value.unwrap_or_default()
}

/// Whether `key` is a valid `action-set` key: dot-separated parts, each matching
/// `^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`.
fn is_valid_action_key(key: &str) -> bool {
    key.split('.').all(|part| {
        let bytes = part.as_bytes();
        !bytes.is_empty()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-')
    })
}

/// The keys `action-set` refuses because dispatch output uses them.
const RESERVED_ACTION_KEYS: [&str; 4] = ["stdout", "stdout-encoding", "stderr", "stderr-encoding"];

/// Secret content as files for `key#file=<path>` arguments.
///
/// Juju 3.6 does not read secret content from stdin: `secret-add`/`secret-set` `--file`
/// is read with `os.ReadFile` on the path (`core/secrets/createsecret.go
/// ReadSecretData`, reached from `worker/uniter/runner/jujuc/secret-add.go`
/// `secretUpsertCommand.Init`; there is no `-` case), and `key#file=<path>` likewise
/// (`CreateSecretData`). So, as ops does, each value goes into a file that only this
/// user can read (0600, in a 0700 directory) and the argument carries only the path.
/// The directory and files are removed when this value is dropped, right after the tool
/// has run (the tool reads them synchronously while it runs).
struct SecretFiles {
    /// Held only so that dropping `SecretFiles` removes the directory and its files.
    _dir: tempfile::TempDir,
    args: Vec<OsString>,
}

impl SecretFiles {
    fn write(tool: &'static str, content: &SecretContent) -> HookToolResult<Self> {
        let io_error = |source| HookToolError::SecretFiles { tool, source };
        let dir = tempfile::Builder::new()
            .prefix("juju-secret-")
            .tempdir()
            .map_err(io_error)?;
        let mut args = Vec::new();
        for (index, (key, value)) in content.iter().enumerate() {
            // The file name is an index, not the key: keys are not secret, but a name
            // that cannot clash is simpler to reason about.
            let path = dir.path().join(index.to_string());
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io_error)?;
            file.write_all(value.as_bytes()).map_err(io_error)?;
            let mut arg = OsString::from(format!("{key}#file="));
            arg.push(path.as_os_str());
            args.push(arg);
        }
        Ok(Self { _dir: dir, args })
    }
}

/// The metadata flags shared by `secret-add` and `secret-set`.
fn secret_metadata_flags(
    label: Option<&str>,
    description: Option<&str>,
    expire: Option<&str>,
    rotate: Option<&str>,
) -> Vec<OsString> {
    [
        ("--label", label),
        ("--description", description),
        ("--expire", expire),
        ("--rotate", rotate),
    ]
    .into_iter()
    .filter_map(|(flag, value)| value.map(|v| OsString::from(format!("{flag}={v}"))))
    .collect()
}

impl HookTools for ProcessHookTools {
    fn config_get(&self) -> HookToolResult<ConfigValues> {
        self.run_json::<Option<ConfigValues>>("config-get", &argv(["--format=json"]))
            .map(or_default)
    }

    fn relation_ids(&self, endpoint: &str) -> HookToolResult<Vec<RelationId>> {
        const TOOL: &str = "relation-ids";
        let ids: Option<Vec<String>> = self.run_json(TOOL, &argv(["--format=json", endpoint]))?;
        or_default(ids)
            .iter()
            .map(|id| {
                id.parse()
                    .map_err(|e: crate::names::InvalidName| HookToolError::Decode {
                        tool: TOOL,
                        reason: e.to_string(),
                    })
            })
            .collect()
    }

    fn relation_list(&self, relation: &RelationId) -> HookToolResult<Vec<String>> {
        let mut args = argv(["--format=json"]);
        args.extend(relation_flag(relation));
        self.run_json::<Option<Vec<String>>>("relation-list", &args)
            .map(or_default)
    }

    fn relation_remote_app(&self, relation: &RelationId) -> HookToolResult<Option<String>> {
        let mut args = argv(["--format=json"]);
        args.extend(relation_flag(relation));
        args.push("--app".into());
        let app: Option<String> = self.run_json("relation-list", &args)?;
        Ok(app.filter(|a| !a.is_empty()))
    }

    fn relation_get(&self, relation: &RelationId, bag: &Bag) -> HookToolResult<Databag> {
        let mut args = argv(["--format=json"]);
        args.extend(relation_flag(relation));
        let name = match bag {
            Bag::Unit(unit) => unit,
            Bag::App(app) => {
                args.push("--app".into());
                app
            }
        };
        args.extend(argv(["-", name.as_str()]));
        self.run_json::<Option<Databag>>("relation-get", &args)
            .map(or_default)
    }

    fn relation_set(
        &self,
        relation: &RelationId,
        scope: Scope,
        data: &Databag,
    ) -> HookToolResult<()> {
        const TOOL: &str = "relation-set";
        if data.is_empty() {
            // Nothing to merge: save a process.
            return Ok(());
        }
        let mut args: Vec<OsString> = relation_flag(relation).into();
        if scope == Scope::App {
            args.push("--app".into());
        }
        args.extend(argv(["--file", "-"]));
        let stdin = encode_map(TOOL, data)?;
        self.run(TOOL, &args, Some(&stdin)).map(drop)
    }

    fn is_leader(&self) -> HookToolResult<bool> {
        self.run_json("is-leader", &argv(["--format=json"]))
    }

    fn status_set(&self, scope: Scope, status: &Status) -> HookToolResult<()> {
        let application = match scope {
            Scope::Unit => "--application=False",
            Scope::App => "--application=True",
        };
        let mut args = argv([application, status.name()]);
        if !status.message().is_empty() {
            args.extend(argv(["--", status.message()]));
        }
        self.run_quiet("status-set", &args)
    }

    fn status_get(&self, scope: Scope) -> HookToolResult<StatusReport> {
        const TOOL: &str = "status-get";
        #[derive(serde::Deserialize)]
        struct AppStatus {
            #[serde(rename = "application-status")]
            application_status: StatusReport,
        }
        match scope {
            Scope::Unit => self.run_json(
                TOOL,
                &argv(["--include-data", "--format=json", "--application=false"]),
            ),
            Scope::App => self
                .run_json::<AppStatus>(
                    TOOL,
                    &argv(["--include-data", "--format=json", "--application=true"]),
                )
                .map(|s| s.application_status),
        }
    }

    fn application_version_set(&self, version: &str) -> HookToolResult<()> {
        self.run_quiet("application-version-set", &argv(["--", version]))
    }

    fn open_port(&self, port: Port) -> HookToolResult<()> {
        self.run_quiet("open-port", &argv([port.to_string()]))
    }

    fn close_port(&self, port: Port) -> HookToolResult<()> {
        self.run_quiet("close-port", &argv([port.to_string()]))
    }

    fn opened_ports(&self) -> HookToolResult<Vec<Port>> {
        const TOOL: &str = "opened-ports";
        let ports: Option<Vec<String>> = self.run_json(TOOL, &argv(["--format=json"]))?;
        or_default(ports)
            .iter()
            .map(|p| {
                p.parse()
                    .map_err(|reason| HookToolError::Decode { tool: TOOL, reason })
            })
            .collect()
    }

    fn juju_log(&self, level: LogLevel, message: &str) -> HookToolResult<()> {
        for chunk in split_log_message(message) {
            self.run_quiet(
                "juju-log",
                &argv(["--log-level", level.as_str(), "--", chunk]),
            )?;
        }
        Ok(())
    }

    fn action_get(&self) -> HookToolResult<ActionParams> {
        self.run_json::<Option<BTreeMap<String, serde_json::Value>>>(
            "action-get",
            &argv(["--format=json"]),
        )
        .map(|params| ActionParams::new(or_default(params)))
    }

    fn action_set(&self, results: &BTreeMap<String, String>) -> HookToolResult<()> {
        const TOOL: &str = "action-set";
        if results.is_empty() {
            return Ok(());
        }
        for key in results.keys() {
            if !is_valid_action_key(key) {
                return Err(HookToolError::InvalidArgument {
                    tool: TOOL,
                    reason: format!(
                        "key {key:?} must be dot-separated parts of lower-case letters, digits and inner hyphens"
                    ),
                });
            }
            let top = key.split('.').next().unwrap_or(key);
            if RESERVED_ACTION_KEYS.contains(&top) {
                return Err(HookToolError::InvalidArgument {
                    tool: TOOL,
                    reason: format!("key {key:?} is reserved for dispatch output"),
                });
            }
        }
        let args = argv(results.iter().map(|(k, v)| format!("{k}={v}")));
        self.run_quiet(TOOL, &args)
    }

    fn action_fail(&self, message: &str) -> HookToolResult<()> {
        self.run_quiet("action-fail", &argv(["--", message]))
    }

    fn action_log(&self, message: &str) -> HookToolResult<()> {
        self.run_quiet("action-log", &argv(["--", message]))
    }

    fn state_get(&self, key: &str) -> HookToolResult<Option<String>> {
        const TOOL: &str = "state-get";
        refuse_flag_like(TOOL, key)?;
        match self.run_json::<Option<String>>(TOOL, &argv(["--format=json", "--strict", key])) {
            Ok(value) => Ok(value),
            // `--strict` makes a missing key `ERROR "<key>" not found` (exit 1).
            Err(HookToolError::Failed {
                exit_code: Some(1),
                message,
                ..
            }) if message.ends_with("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn state_get_all(&self) -> HookToolResult<BTreeMap<String, String>> {
        // Juju prints `null` when nothing is stored (a nil map).
        self.run_json::<Option<BTreeMap<String, String>>>("state-get", &argv(["--format=json"]))
            .map(or_default)
    }

    fn state_set(&self, values: &BTreeMap<String, String>) -> HookToolResult<()> {
        const TOOL: &str = "state-set";
        if values.is_empty() {
            return Ok(());
        }
        // state-set's --file is a juju/cmd FileVar with SetStdin, so `-` is stdin
        // (worker/uniter/runner/jujuc/state-set.go); relation-set's is the same.
        let stdin = encode_map(TOOL, values)?;
        self.run(TOOL, &argv(["--file", "-"]), Some(&stdin))
            .map(drop)
    }

    fn state_delete(&self, key: &str) -> HookToolResult<()> {
        const TOOL: &str = "state-delete";
        refuse_flag_like(TOOL, key)?;
        self.run_quiet(TOOL, &argv([key]))
    }

    fn secret_add(
        &self,
        content: &SecretContent,
        options: &SecretAddOptions,
    ) -> HookToolResult<SecretUri> {
        const TOOL: &str = "secret-add";
        if content.is_empty() {
            return Err(HookToolError::InvalidArgument {
                tool: TOOL,
                reason: "a secret needs at least one key".to_owned(),
            });
        }
        let files = SecretFiles::write(TOOL, content)?;
        let mut args = argv([format!("--owner={}", options.owner.as_str())]);
        args.extend(secret_metadata_flags(
            options.label.as_deref(),
            options.description.as_deref(),
            options.expire.as_deref(),
            options.rotate.map(|r| r.as_str()),
        ));
        args.extend(files.args.iter().cloned());
        let stdout = self.run(TOOL, &args, None)?;
        // The files must outlive the tool; remove them now that it has exited.
        drop(files);
        let text = String::from_utf8_lossy(&stdout);
        text.trim()
            .parse()
            .map_err(|e: crate::names::InvalidName| HookToolError::Decode {
                tool: TOOL,
                reason: e.to_string(),
            })
    }

    fn secret_get(
        &self,
        secret: &SecretRef,
        options: SecretGetOptions,
    ) -> HookToolResult<SecretContent> {
        const TOOL: &str = "secret-get";
        if options.peek && options.refresh {
            return Err(HookToolError::InvalidArgument {
                tool: TOOL,
                reason: "peek and refresh cannot both be set".to_owned(),
            });
        }
        let mut args = argv(["--format=json"]);
        args.push(secret_ref_arg(secret));
        if options.peek {
            args.push("--peek".into());
        }
        if options.refresh {
            args.push("--refresh".into());
        }
        self.run_json::<BTreeMap<String, String>>(TOOL, &args)
            .map(SecretContent::from_juju)
    }

    fn secret_set(
        &self,
        uri: &SecretUri,
        content: &SecretContent,
        options: &SecretSetOptions,
    ) -> HookToolResult<()> {
        const TOOL: &str = "secret-set";
        let files = SecretFiles::write(TOOL, content)?;
        let mut args = argv([uri.as_str()]);
        args.extend(secret_metadata_flags(
            options.label.as_deref(),
            options.description.as_deref(),
            options.expire.as_deref(),
            options.rotate.map(|r| r.as_str()),
        ));
        args.extend(files.args.iter().cloned());
        let result = self.run(TOOL, &args, None).map(drop);
        drop(files);
        result
    }

    fn secret_info_get(&self, secret: &SecretRef) -> HookToolResult<SecretInfo> {
        const TOOL: &str = "secret-info-get";
        let mut args = argv(["--format=json"]);
        args.push(secret_ref_arg(secret));
        let infos: BTreeMap<String, SecretInfo> = self.run_json(TOOL, &args)?;
        let mut entries = infos.into_iter();
        match (entries.next(), entries.next()) {
            (Some((id, mut info)), None) => {
                info.id = id;
                Ok(info)
            }
            _ => Err(HookToolError::Decode {
                tool: TOOL,
                reason: "expected exactly one secret in the output".to_owned(),
            }),
        }
    }

    fn secret_grant(
        &self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> HookToolResult<()> {
        self.run_quiet("secret-grant", &grant_args(uri, relation, unit))
    }

    fn secret_revoke(
        &self,
        uri: &SecretUri,
        relation: &RelationId,
        unit: Option<&str>,
    ) -> HookToolResult<()> {
        self.run_quiet("secret-revoke", &grant_args(uri, relation, unit))
    }

    fn secret_remove(&self, uri: &SecretUri, revision: Option<u64>) -> HookToolResult<()> {
        let mut args = argv([uri.as_str()]);
        if let Some(revision) = revision {
            args.push(format!("--revision={revision}").into());
        }
        self.run_quiet("secret-remove", &args)
    }

    fn secret_ids(&self) -> HookToolResult<Vec<String>> {
        // A nil list prints `null`.
        self.run_json::<Option<Vec<String>>>("secret-ids", &argv(["--format=json"]))
            .map(or_default)
    }

    fn network_get(
        &self,
        binding: &str,
        relation: Option<&RelationId>,
    ) -> HookToolResult<NetworkInfo> {
        const TOOL: &str = "network-get";
        refuse_flag_like(TOOL, binding)?;
        let mut args = argv(["--format=json"]);
        if let Some(relation) = relation {
            args.extend(relation_flag(relation));
        }
        args.push(binding.into());
        self.run_json(TOOL, &args)
    }

    fn goal_state(&self) -> HookToolResult<GoalState> {
        self.run_json("goal-state", &argv(["--format=json"]))
    }
}

/// A positional argument must not look like a flag (the tool would parse it as one).
fn refuse_flag_like(tool: &'static str, arg: &str) -> HookToolResult<()> {
    if arg.is_empty() || arg.starts_with('-') {
        return Err(HookToolError::InvalidArgument {
            tool,
            reason: format!("{arg:?} is empty or starts with '-'"),
        });
    }
    Ok(())
}

/// `<uri>` or `--label=<label>`.
fn secret_ref_arg(secret: &SecretRef) -> OsString {
    match secret {
        SecretRef::Uri(uri) => uri.as_str().into(),
        SecretRef::Label(label) => format!("--label={label}").into(),
    }
}

/// `<uri> -r <id> [--unit=<unit>]`.
fn grant_args(uri: &SecretUri, relation: &RelationId, unit: Option<&str>) -> Vec<OsString> {
    let mut args = argv([uri.as_str()]);
    args.extend(relation_flag(relation));
    if let Some(unit) = unit {
        args.push(format!("--unit={unit}").into());
    }
    args
}

/// Splits a log message into chunks of at most [`MAX_LOG_LINE_LEN`] bytes, on char
/// boundaries. An empty message is one empty chunk (juju-log refuses no message, but an
/// empty argument after `--` is a message).
pub(crate) fn split_log_message(message: &str) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = message;
    while rest.len() > MAX_LOG_LINE_LEN {
        let mut cut = MAX_LOG_LINE_LEN;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        chunks.push(head);
        rest = tail;
    }
    chunks.push(rest);
    chunks
}
