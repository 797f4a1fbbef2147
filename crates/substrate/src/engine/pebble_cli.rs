//! Driving a workload container's Pebble from the host with the real `pebble` CLI
//! (`PEBBLE_SOCKET=<host path of the socket>`), for bring-up checks before the charm
//! exists and for tests. The charm itself talks HTTP to the same socket.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::EngineError;
use super::podman::run_captured;

/// The `pebble` CLI pointed at one container's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PebbleCli {
    binary: PathBuf,
    socket: PathBuf,
}

impl PebbleCli {
    /// The CLI `binary` (the same static Pebble the pods run) for `socket`.
    pub fn new(binary: &Path, socket: &Path) -> Self {
        Self {
            binary: binary.to_path_buf(),
            socket: socket.to_path_buf(),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command.env("PEBBLE_SOCKET", &self.socket);
        command
    }

    fn run(&self, args: &[&str]) -> Result<String, EngineError> {
        let description = format!(
            "pebble {} (socket {})",
            args.join(" "),
            self.socket.display()
        );
        let out = run_captured(self.command().args(args), &description)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Adds a layer (`pebble add --combine <label>`). The YAML may carry secrets in service
    /// environments, so it goes through a 0600 file in `scratch_dir`, removed afterwards.
    pub fn add_layer(
        &self,
        label: &str,
        layer_yaml: &str,
        scratch_dir: &Path,
    ) -> Result<(), EngineError> {
        let path = scratch_dir.join(format!("layer-{label}.yaml"));
        write_private(&path, layer_yaml.as_bytes())?;
        let path_text = path.to_string_lossy().into_owned();
        let result = self.run(&["add", "--combine", label, &path_text]);
        let _ = std::fs::remove_file(&path);
        result.map(drop)
    }

    /// `pebble replan`: starts or restarts services to match the plan.
    pub fn replan(&self) -> Result<(), EngineError> {
        self.run(&["replan"]).map(drop)
    }

    /// Pushes `content` to `remote` in the container (parents created), via a 0600 file
    /// in `scratch_dir`.
    pub fn push(
        &self,
        content: &[u8],
        remote: &str,
        mode: &str,
        scratch_dir: &Path,
    ) -> Result<(), EngineError> {
        let path = scratch_dir.join("push.tmp");
        write_private(&path, content)?;
        let path_text = path.to_string_lossy().into_owned();
        let mode_arg = format!("-m={mode}");
        let result = self.run(&["push", "-p", &mode_arg, &path_text, remote]);
        let _ = std::fs::remove_file(&path);
        result.map(drop)
    }

    /// Whether `pebble health --level=<level>` reports healthy. An unreachable Pebble, or
    /// any failure to ask, is "not healthy".
    pub fn is_healthy(&self, level: &str) -> bool {
        let level_arg = format!("--level={level}");
        self.command()
            .args(["health", &level_arg])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `pebble services` output (a table: Service, Startup, Current, Since).
    pub fn services(&self) -> Result<String, EngineError> {
        self.run(&["services"])
    }

    /// The `Current` column for `service` (`active`, `backoff`, `error`, `inactive`), if listed.
    pub fn service_state(&self, service: &str) -> Result<Option<String>, EngineError> {
        let table = self.services()?;
        Ok(table.lines().skip(1).find_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some(service)).then(|| fields.nth(1).unwrap_or_default().to_owned())
        }))
    }
}

/// Writes a file only its owner can read.
pub(crate) fn write_private(path: &Path, content: &[u8]) -> Result<(), EngineError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| EngineError::io("create", path, source))?;
    file.write_all(content)
        .map_err(|source| EngineError::io("write", path, source))
}
