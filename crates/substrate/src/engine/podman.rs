//! Running podman as a subprocess with the substrate's configuration.
//!
//! Podman is the engine; this module only builds command lines, exports
//! `CONTAINERS_CONF`/`CONTAINERS_STORAGE_CONF`, and turns failures into typed errors
//! carrying podman's own stderr.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::{EngineError, StateDir};

/// How many trailing lines of a failed command's stderr an error keeps.
const STDERR_TAIL_LINES: usize = 20;

/// A podman runner bound to one state directory's configuration.
#[derive(Debug, Clone)]
pub struct Podman {
    program: PathBuf,
    containers_conf: PathBuf,
    storage_conf: PathBuf,
}

/// What a successful podman call printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodmanOutput {
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text (podman prints progress there).
    pub stderr: String,
}

impl Podman {
    /// A runner for `state`'s configuration, using `podman` from `PATH`.
    pub fn new(state: &StateDir) -> Self {
        Self {
            program: PathBuf::from("podman"),
            containers_conf: state.containers_conf(),
            storage_conf: state.storage_conf(),
        }
    }

    /// The environment every engine call needs (also right for `buildah`).
    pub fn env(&self) -> [(&'static str, &std::path::Path); 2] {
        [
            ("CONTAINERS_CONF", self.containers_conf.as_path()),
            ("CONTAINERS_STORAGE_CONF", self.storage_conf.as_path()),
        ]
    }

    /// A `podman` command with the substrate's environment and no arguments yet.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.envs(self.env());
        command.stdin(Stdio::null());
        command
    }

    /// Runs `podman <args>` and returns its output; a non-zero exit is
    /// [`EngineError::CommandFailed`] with podman's stderr.
    pub fn run<I, S>(&self, args: I) -> Result<PodmanOutput, EngineError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let mut command = self.command();
        command.args(&args);
        let output = run_captured(&mut command, &describe("podman", &args))?;
        Ok(PodmanOutput {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs `podman <args>` feeding `stdin` to it (the way to hand podman, or a command it
    /// runs, a secret: never in argv). Errors as [`Podman::run`].
    pub fn run_with_stdin<I, S>(&self, args: I, stdin: &[u8]) -> Result<PodmanOutput, EngineError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use std::io::Write;
        let args: Vec<OsString> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let description = describe("podman", &args);
        let spawn_error = |source| EngineError::Spawn {
            program: "podman".into(),
            source,
        };
        let mut child = self
            .command()
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        if let Some(mut pipe) = child.stdin.take() {
            // A command that exits without reading its input closes the pipe early; its
            // exit status below is what tells success from failure.
            let _ = pipe.write_all(stdin);
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        if !output.status.success() {
            return Err(EngineError::CommandFailed {
                command: description,
                status: output.status,
                stderr: stderr_tail(&output.stderr),
            });
        }
        Ok(PodmanOutput {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs a podman query whose answer is its exit status (`image exists`,
    /// `network exists`, `pod exists`, ...): 0 is `true`, 1 is `false`, anything else an error.
    pub fn check<I, S>(&self, args: I) -> Result<bool, EngineError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args
            .into_iter()
            .map(|a| a.as_ref().to_os_string())
            .collect();
        let description = describe("podman", &args);
        let output = self
            .command()
            .args(&args)
            .stdout(Stdio::null())
            .output()
            .map_err(|source| EngineError::Spawn {
                program: "podman".into(),
                source,
            })?;
        match output.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(EngineError::CommandFailed {
                command: description,
                status: output.status,
                stderr: stderr_tail(&output.stderr),
            }),
        }
    }
}

/// Runs `command` capturing stdout and stderr; non-zero exit becomes an error.
pub(crate) fn run_captured(
    command: &mut Command,
    description: &str,
) -> Result<Output, EngineError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| EngineError::Spawn { program, source })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(EngineError::CommandFailed {
            command: description.to_owned(),
            status: output.status,
            stderr: stderr_tail(&output.stderr),
        })
    }
}

/// A printable command line.
pub(crate) fn describe(program: &str, args: &[OsString]) -> String {
    let mut line = program.to_owned();
    for arg in args {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// The last lines of a command's stderr, trimmed.
pub(crate) fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    let tail = lines[start..].join("\n");
    if tail.is_empty() {
        "(no output on stderr)".to_owned()
    } else {
        tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_tail_keeps_the_last_lines() {
        let long: String = (0..50).map(|i| format!("line {i}\n")).collect();
        let tail = stderr_tail(long.as_bytes());
        assert!(tail.starts_with("line 30"), "{tail}");
        assert!(tail.ends_with("line 49"), "{tail}");
        assert_eq!(stderr_tail(b""), "(no output on stderr)");
    }

    #[test]
    fn failed_command_error_names_command_and_stderr() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo boom >&2; exit 3"]);
        let err = run_captured(&mut command, "sh -c boom").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("sh -c boom"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert!(text.contains('3'), "{text}");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let mut command = Command::new("/nonexistent/podman");
        let err = run_captured(&mut command, "x").unwrap_err();
        assert!(matches!(err, EngineError::Spawn { .. }), "{err:?}");
    }
}
