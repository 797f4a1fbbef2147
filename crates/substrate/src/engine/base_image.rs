//! The base image every workload image builds on, made without a registry:
//! `debootstrap --variant=minbase` then `podman import` (with `PATH` set, which an
//! imported image otherwise lacks). Cached: nothing happens when the image exists.

use std::process::{Command, Stdio};

use super::podman::{run_captured, stderr_tail};
use super::{Engine, EngineError};

/// The base image reference the substrate builds and passes as `BASE` build argument.
pub const BASE_IMAGE: &str = "localhost/debian:bookworm";

/// Environment variable overriding the Debian mirror debootstrap uses.
const MIRROR_ENV: &str = "INDICO_SUBSTRATE_DEBIAN_MIRROR";

/// How to make the base image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// The image reference to create.
    pub reference: String,
    /// The Debian suite.
    pub suite: String,
    /// The Debian mirror URL.
    pub mirror: String,
}

impl Default for BaseImage {
    /// Debian bookworm from `$INDICO_SUBSTRATE_DEBIAN_MIRROR` or `http://deb.debian.org/debian`.
    fn default() -> Self {
        let mirror = std::env::var(MIRROR_ENV)
            .ok()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "http://deb.debian.org/debian".to_owned());
        Self {
            reference: BASE_IMAGE.to_owned(),
            suite: "bookworm".to_owned(),
            mirror,
        }
    }
}

impl BaseImage {
    /// Makes the image unless it exists. Returns `true` when it was built now.
    pub fn ensure(&self, engine: &Engine) -> Result<bool, EngineError> {
        if engine
            .podman()
            .check(["image", "exists", self.reference.as_str()])?
        {
            tracing::debug!(image = %self.reference, "base image present");
            return Ok(false);
        }
        let rootfs = engine.state().builds_dir().join("base-rootfs");
        remove_dir_if_present(&rootfs)?;
        tracing::info!(suite = %self.suite, mirror = %self.mirror, "debootstrapping the base image");
        let mut debootstrap = Command::new("debootstrap");
        debootstrap
            .arg("--variant=minbase")
            .arg(&self.suite)
            .arg(&rootfs)
            .arg(&self.mirror)
            .stdin(Stdio::null());
        run_captured(
            &mut debootstrap,
            &format!(
                "debootstrap --variant=minbase {} {}",
                self.suite,
                rootfs.display()
            ),
        )?;
        let imported = self.import(engine, &rootfs);
        remove_dir_if_present(&rootfs)?;
        imported?;
        Ok(true)
    }

    /// `tar -C rootfs -c . | podman import --change ... - <reference>`.
    fn import(&self, engine: &Engine, rootfs: &std::path::Path) -> Result<(), EngineError> {
        let mut tar = Command::new("tar")
            .arg("-C")
            .arg(rootfs)
            // Package caches and lists: every image build runs `apt-get update` anyway.
            .args([
                "--exclude=./var/cache/apt/archives/*.deb",
                "--exclude=./var/lib/apt/lists/*",
            ])
            .args(["-c", "."])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| EngineError::Spawn {
                program: "tar".into(),
                source,
            })?;
        let Some(tar_stdout) = tar.stdout.take() else {
            // Invariant: stdout was configured as piped just above.
            unreachable!("tar spawned without a stdout pipe");
        };
        let import = engine
            .podman()
            .command()
            .arg("import")
            .args([
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ])
            .args(["--change", "CMD [\"/bin/bash\"]"])
            .arg("-")
            .arg(&self.reference)
            .stdin(tar_stdout)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|source| EngineError::Spawn {
                program: "podman".into(),
                source,
            })?;
        let tar_out = tar
            .wait_with_output()
            .map_err(|source| EngineError::Spawn {
                program: "tar".into(),
                source,
            })?;
        if !tar_out.status.success() {
            return Err(EngineError::CommandFailed {
                command: format!("tar -C {} -c .", rootfs.display()),
                status: tar_out.status,
                stderr: stderr_tail(&tar_out.stderr),
            });
        }
        if !import.status.success() {
            return Err(EngineError::CommandFailed {
                command: format!("podman import - {}", self.reference),
                status: import.status,
                stderr: stderr_tail(&import.stderr),
            });
        }
        Ok(())
    }
}

fn remove_dir_if_present(dir: &std::path::Path) -> Result<(), EngineError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(EngineError::io("remove", dir, source)),
    }
}
