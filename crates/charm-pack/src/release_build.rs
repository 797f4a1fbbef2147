//! The release build of the charm's binary: `cargo build --release --locked --bin
//! indico-charm` in the repository, with the `cargo` that runs us (`$CARGO`) and whatever
//! `CARGO_TARGET_DIR` is set. The executable's path comes from cargo's own JSON messages,
//! so no target-directory layout is guessed.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::PackError;

/// The charm's binary target, which becomes `dispatch`.
pub const CHARM_BINARY: &str = "indico-charm";

/// Builds the release binary of the charm in `repo` and returns its path. cargo's progress
/// and diagnostics go to our stderr.
pub fn build_release_binary(repo: &Path) -> Result<PathBuf, PackError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut child = Command::new(&cargo)
        .args(["build", "--release", "--locked", "--bin", CHARM_BINARY])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(repo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| PackError::Spawn {
            program: cargo.clone(),
            source,
        })?;
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(|e| PackError::io("read cargo's output", repo, e))?;
            if let Some(path) = executable_in_message(&line, CHARM_BINARY) {
                executable = Some(path);
            }
        }
    }
    let status = child.wait().map_err(|source| PackError::Spawn {
        program: cargo,
        source,
    })?;
    if !status.success() {
        return Err(PackError::BuildFailed { status });
    }
    executable.ok_or_else(|| PackError::NoExecutable {
        binary: CHARM_BINARY.to_owned(),
    })
}

/// The executable path in one cargo JSON message, if it is the `compiler-artifact` of
/// binary `binary`.
fn executable_in_message(line: &str, binary: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message.get("reason")?.as_str()? != "compiler-artifact" {
        return None;
    }
    let target = message.get("target")?;
    let is_bin = target
        .get("kind")?
        .as_array()?
        .iter()
        .any(|kind| kind.as_str() == Some("bin"));
    if !is_bin || target.get("name")?.as_str()? != binary {
        return None;
    }
    message.get("executable")?.as_str().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_binary_artifact_only() {
        let bin = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"indico-charm"},"executable":"/t/release/indico-charm"}"#;
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"indico-charm"},"executable":null}"#;
        let other = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"other"},"executable":"/t/release/other"}"#;
        assert_eq!(
            executable_in_message(bin, "indico-charm"),
            Some(PathBuf::from("/t/release/indico-charm"))
        );
        assert_eq!(executable_in_message(lib, "indico-charm"), None);
        assert_eq!(executable_in_message(other, "indico-charm"), None);
        assert_eq!(executable_in_message("not json", "indico-charm"), None);
    }
}
