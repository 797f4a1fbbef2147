//! Recording fake hook tools for process-level tests (feature `testing`).
//!
//! [`FakeToolsDir`] writes one small `/bin/sh` script per Juju hook tool into a
//! temporary directory. Each script records its call (argv NUL-separated, stdin, and the
//! content and mode of any `key#file=<path>` file it was given) and answers with the
//! stdout, stderr and exit code a test chose, by exact argv or as the tool's default.
//! Put [`FakeToolsDir::bin_dir`] first in `PATH` for a charm binary, or hand
//! [`FakeToolsDir::hook_tools`] to code under test.
//!
//! Calls are numbered with `mkdir`, which is atomic, so concurrent calls are all kept.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::hook_tools::ProcessHookTools;

/// Every hook tool name Juju 3.6 provides (plus `relation-model-get`, 3.6.2+).
pub const TOOL_NAMES: &[&str] = &[
    "action-fail",
    "action-get",
    "action-log",
    "action-set",
    "application-version-set",
    "close-port",
    "config-get",
    "credential-get",
    "goal-state",
    "is-leader",
    "juju-log",
    "leader-get",
    "leader-set",
    "network-get",
    "open-port",
    "opened-ports",
    "relation-get",
    "relation-ids",
    "relation-list",
    "relation-model-get",
    "relation-set",
    "resource-get",
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
    "storage-add",
    "storage-get",
    "storage-list",
    "unit-get",
];

/// How a fake tool answers: what it prints and how it exits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeAnswer {
    /// Only answer a call with exactly these arguments (after the tool name); `None`
    /// answers any call that no exact-argv answer matched.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Printed on stdout.
    #[serde(default)]
    pub stdout: String,
    /// Printed on stderr (Juju's errors are `ERROR <message>\n`).
    #[serde(default)]
    pub stderr: String,
    /// The exit code (Juju: 0 success, 1 run error, 2 usage error).
    #[serde(default)]
    pub exit_code: i32,
}

impl FakeAnswer {
    /// Exit 0 printing `stdout`.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Self {
            stdout: stdout.into(),
            ..Self::default()
        }
    }

    /// Exit `exit_code` printing `ERROR <message>\n` on stderr, as Juju does.
    pub fn error(exit_code: i32, message: &str) -> Self {
        Self {
            stderr: format!("ERROR {message}\n"),
            exit_code,
            ..Self::default()
        }
    }

    /// The same answer, only for calls with exactly `args`.
    pub fn for_args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args = Some(args.into_iter().map(Into::into).collect());
        self
    }
}

/// One file a call referenced as `key#file=<path>` (secret content), as it was while
/// the tool ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedFile {
    /// The path given.
    pub path: PathBuf,
    /// The file's bytes.
    pub content: Vec<u8>,
    /// The permission bits, e.g. `0o600`.
    pub mode: u32,
}

/// One recorded hook tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCall {
    /// The tool, e.g. `relation-set`.
    pub tool: String,
    /// The arguments after the tool name.
    pub args: Vec<String>,
    /// Everything written to its stdin.
    pub stdin: Vec<u8>,
    /// Files given as `key#file=<path>`, by key.
    pub files: BTreeMap<String, RecordedFile>,
}

/// Why a fake-tools fixture could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FakeToolsError {
    /// Writing or reading the fake tools' directory failed.
    #[error("fake hook tools: {0}")]
    Io(#[from] io::Error),
    /// The JSON fixture does not have the documented shape.
    #[error("fake hook tools fixture is not valid: {0}")]
    Fixture(#[from] serde_json::Error),
    /// The fixture names a tool Juju does not have.
    #[error("fake hook tools fixture names unknown tool {0:?}")]
    UnknownTool(String),
    /// A recorded call could not be read back.
    #[error("fake hook tools: recorded call {0} is incomplete")]
    Recording(String),
}

/// One answer or a list of answers for a tool, in a JSON fixture.
#[derive(Deserialize)]
#[serde(untagged)]
enum FixtureAnswers {
    One(FakeAnswer),
    Many(Vec<FakeAnswer>),
}

/// A temporary directory of recording fake hook tools. Removed when dropped.
#[derive(Debug)]
pub struct FakeToolsDir {
    root: tempfile::TempDir,
}

impl FakeToolsDir {
    /// Creates a script for every tool in [`TOOL_NAMES`]; each answers exit 0 with no
    /// output until told otherwise.
    pub fn new() -> Result<Self, FakeToolsError> {
        let root = tempfile::Builder::new()
            .prefix("fake-hook-tools-")
            .tempdir()?;
        let this = Self { root };
        let root_text = this
            .root
            .path()
            .to_str()
            .ok_or_else(|| io::Error::other("temporary directory path is not UTF-8"))?;
        if root_text.contains('\'') {
            return Err(io::Error::other("temporary directory path contains a quote").into());
        }
        fs::create_dir(this.bin_dir())?;
        fs::create_dir(this.root.path().join("calls"))?;
        fs::create_dir(this.root.path().join("answers"))?;
        for tool in TOOL_NAMES {
            let path = this.bin_dir().join(tool);
            write_executable(&path, script(root_text, tool).as_bytes())?;
        }
        Ok(this)
    }

    /// Creates the tools and their answers from a JSON fixture: an object from tool name
    /// to one [`FakeAnswer`] or a list of them, e.g.
    /// `{"config-get": {"stdout": "{\"site_url\":\"\"}\n"},
    ///   "relation-get": [{"args": ["--format=json","-r","database:1","--app","-","postgresql"],
    ///                     "stdout": "{}\n"}],
    ///   "is-leader": {"stdout": "true\n"}}`.
    pub fn from_fixture_json(json: &str) -> Result<Self, FakeToolsError> {
        let fixture: BTreeMap<String, FixtureAnswers> = serde_json::from_str(json)?;
        let this = Self::new()?;
        for (tool, answers) in fixture {
            let answers = match answers {
                FixtureAnswers::One(a) => vec![a],
                FixtureAnswers::Many(list) => list,
            };
            for answer in answers {
                this.answer(&tool, answer)?;
            }
        }
        Ok(this)
    }

    /// Sets how `tool` answers: for exactly `answer.args` if set (checked before the
    /// default, in the order given), else as its default (replacing an earlier default).
    pub fn answer(&self, tool: &str, answer: FakeAnswer) -> Result<(), FakeToolsError> {
        if !TOOL_NAMES.contains(&tool) {
            return Err(FakeToolsError::UnknownTool(tool.to_owned()));
        }
        let tool_dir = self.root.path().join("answers").join(tool);
        fs::create_dir_all(&tool_dir)?;
        let dir = match &answer.args {
            None => tool_dir.join("default"),
            Some(_) => {
                let n = fs::read_dir(&tool_dir)?.count();
                tool_dir.join(format!("{n:06}"))
            }
        };
        fs::create_dir_all(&dir)?;
        if let Some(args) = &answer.args {
            fs::write(dir.join("args"), nul_joined(args))?;
        }
        fs::write(dir.join("stdout"), &answer.stdout)?;
        fs::write(dir.join("stderr"), &answer.stderr)?;
        fs::write(dir.join("exit"), answer.exit_code.to_string())?;
        Ok(())
    }

    /// The directory holding the fake tools.
    pub fn bin_dir(&self) -> PathBuf {
        self.root.path().join("bin")
    }

    /// A `PATH` value with [`Self::bin_dir`] first, then this process's `PATH`.
    pub fn path_env(&self) -> OsString {
        let mut path = OsString::from(self.bin_dir());
        if let Some(rest) = std::env::var_os("PATH") {
            path.push(":");
            path.push(rest);
        }
        path
    }

    /// A [`ProcessHookTools`] that runs these fakes.
    pub fn hook_tools(&self) -> ProcessHookTools {
        ProcessHookTools::new(Some(self.bin_dir()))
    }

    /// Every call so far, in the order they were made.
    pub fn calls(&self) -> Result<Vec<RecordedCall>, FakeToolsError> {
        let calls_dir = self.root.path().join("calls");
        let mut dirs: Vec<PathBuf> = fs::read_dir(&calls_dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<_>>()?;
        dirs.sort();
        dirs.iter().map(|dir| read_call(dir)).collect()
    }

    /// Forgets the calls recorded so far.
    pub fn clear_calls(&self) -> Result<(), FakeToolsError> {
        let calls_dir = self.root.path().join("calls");
        fs::remove_dir_all(&calls_dir)?;
        fs::create_dir(&calls_dir)?;
        Ok(())
    }
}

fn nul_joined(args: &[String]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for arg in args {
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    bytes
}

fn read_call(dir: &Path) -> Result<RecordedCall, FakeToolsError> {
    let incomplete = || FakeToolsError::Recording(dir.display().to_string());
    // A call is complete once its `done` marker exists (written after everything else).
    if !dir.join("done").exists() {
        return Err(incomplete());
    }
    let tool = fs::read_to_string(dir.join("tool"))?;
    let args_bytes = fs::read(dir.join("args"))?;
    let args = args_bytes
        .split(|b| *b == 0)
        .collect::<Vec<_>>()
        .split_last()
        .map(|(_, args)| {
            args.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let stdin = fs::read(dir.join("stdin"))?;
    let mut files = BTreeMap::new();
    let files_dir = dir.join("files");
    let entries = match fs::read_dir(&files_dir) {
        Ok(entries) => entries.collect::<io::Result<Vec<_>>>()?,
        // Only calls with `key#file=` arguments have a files directory.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(key) = name.strip_suffix(".content") else {
            continue;
        };
        let mode_text = fs::read_to_string(files_dir.join(format!("{key}.mode")))?;
        let mode = u32::from_str_radix(mode_text.trim(), 8).map_err(|_| incomplete())?;
        let path = fs::read_to_string(files_dir.join(format!("{key}.path")))?;
        files.insert(
            key.to_owned(),
            RecordedFile {
                path: PathBuf::from(path),
                content: fs::read(entry.path())?,
                mode,
            },
        );
    }
    Ok(RecordedCall {
        tool,
        args,
        stdin,
        files,
    })
}

/// The fake tool script for `tool`, recording under and answering from `root`.
/// Writes an executable file (mode 0755) without this process ever holding it open for
/// writing.
///
/// Tests run in threads. If a test writes an executable with `fs::write` while another
/// thread forks a child, the child inherits the open write descriptor until it execs, and
/// executing the file in that window fails with `ETXTBSY` ("Text file busy"). So the bytes
/// go through a short-lived `sh` child that writes and closes the file; tests that write
/// scripts or charm binaries they then execute should use this.
pub fn write_executable(path: &Path, content: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("/bin/sh")
        .args(["-c", "cat > \"$1\" && chmod 0755 \"$1\"", "sh"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no stdin for the writer"))?;
    stdin.write_all(content)?;
    drop(stdin);
    let status = child.wait()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "writing {} failed: {status}",
            path.display()
        )))
    }
}

fn script(root: &str, tool: &str) -> String {
    format!(
        r#"#!/bin/sh
# Fake Juju hook tool '{tool}' (juju_runtime::testing::FakeToolsDir).
# Shell builtins wherever possible: each external command costs a process.
root='{root}'
tool='{tool}'
count() {{ if [ -e "$1" ]; then n=$#; else n=0; fi; }}
count "$root/calls"/*
while ! mkdir "$root/calls/$(printf '%06d' "$n")" 2>/dev/null; do n=$((n + 1)); done
call="$root/calls/$(printf '%06d' "$n")"
printf '%s' "$tool" > "$call/tool"
: > "$call/args"
for a in "$@"; do
  printf '%s\0' "$a" >> "$call/args"
  case "$a" in
    *'#file='*)
      key=${{a%%#file=*}}
      path=${{a#*#file=}}
      [ -d "$call/files" ] || mkdir "$call/files"
      printf '%s' "$path" > "$call/files/$key.path"
      cat "$path" > "$call/files/$key.content" 2>/dev/null
      stat -c '%a' "$path" > "$call/files/$key.mode" 2>/dev/null
      ;;
  esac
done
cat > "$call/stdin"
answer=
for d in "$root/answers/$tool"/*; do
  [ -f "$d/args" ] || continue
  if cmp -s "$d/args" "$call/args"; then answer=$d; break; fi
done
if [ -z "$answer" ] && [ -d "$root/answers/$tool/default" ]; then
  answer="$root/answers/$tool/default"
fi
: > "$call/done"
if [ -n "$answer" ]; then
  [ -s "$answer/stdout" ] && cat "$answer/stdout"
  [ -s "$answer/stderr" ] && cat "$answer/stderr" >&2
  read -r code < "$answer/exit"
  exit "$code"
fi
exit 0
"#
    )
}
