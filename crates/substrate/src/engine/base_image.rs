//! The base image every workload image builds on, made without a registry:
//! `debootstrap --variant=minbase` then `podman import` (with `PATH` set, which an
//! imported image otherwise lacks). Its apt sources name the suite, `-updates` and
//! `-security`, as Debian's official image does, so image builds get security fixes.
//! Cached: nothing happens when an image made from the same recipe exists (the recipe's
//! hash is a label on the image).

use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::podman::{run_captured, stderr_tail};
use super::{Engine, EngineError};

/// The base image reference the substrate builds and passes as `BASE` build argument.
pub const BASE_IMAGE: &str = "localhost/debian:bookworm";

/// Environment variable overriding the Debian mirror debootstrap uses.
const MIRROR_ENV: &str = "INDICO_SUBSTRATE_DEBIAN_MIRROR";
/// Label holding the hash of the recipe an imported base image was made from.
const RECIPE_LABEL: &str = "org.indico-substrate.base-recipe";
/// Bumped whenever the way the base image is made changes.
const RECIPE_VERSION: &str = "2";

/// How to make the base image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// The image reference to create.
    pub reference: String,
    /// The Debian suite.
    pub suite: String,
    /// The Debian mirror URL.
    pub mirror: String,
    /// The Debian security mirror URL.
    pub security_mirror: String,
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
            security_mirror: "http://deb.debian.org/debian-security".to_owned(),
        }
    }
}

impl BaseImage {
    /// The apt sources (deb822) the image gets.
    pub fn apt_sources(&self) -> String {
        format!(
            "Types: deb\nURIs: {mirror}\nSuites: {suite} {suite}-updates\nComponents: main\n\
             Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n\
             Types: deb\nURIs: {security}\nSuites: {suite}-security\nComponents: main\n\
             Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
            mirror = self.mirror,
            security = self.security_mirror,
            suite = self.suite,
        )
    }

    /// The hash of everything the image is made from.
    pub fn recipe_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            RECIPE_VERSION,
            &self.suite,
            &self.mirror,
            &self.apt_sources(),
        ] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        format!("{:x}", hasher.finalize())
    }

    /// Makes the image unless one from the same recipe exists. Returns `true` when it
    /// was built now.
    pub fn ensure(&self, engine: &Engine) -> Result<bool, EngineError> {
        let recipe = self.recipe_hash();
        if engine
            .podman()
            .check(["image", "exists", self.reference.as_str()])?
        {
            let format = format!("{{{{index .Labels \"{RECIPE_LABEL}\"}}}}");
            let label = engine.podman().run([
                "image",
                "inspect",
                "--format",
                format.as_str(),
                self.reference.as_str(),
            ])?;
            if label.stdout.trim() == recipe {
                tracing::debug!(image = %self.reference, "base image present");
                return Ok(false);
            }
            tracing::info!(image = %self.reference, "base image recipe changed: remaking it");
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
        let imported = self
            .write_apt_sources(&rootfs)
            .and_then(|()| self.import(engine, &rootfs, &recipe));
        remove_dir_if_present(&rootfs)?;
        imported?;
        Ok(true)
    }

    /// Replaces debootstrap's one-line `sources.list` with [`BaseImage::apt_sources`].
    fn write_apt_sources(&self, rootfs: &std::path::Path) -> Result<(), EngineError> {
        let apt = rootfs.join("etc/apt");
        let list = apt.join("sources.list");
        match std::fs::remove_file(&list) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EngineError::io("remove", list, source)),
        }
        let sources = apt.join("sources.list.d/debian.sources");
        std::fs::write(&sources, self.apt_sources())
            .map_err(|source| EngineError::io("write", sources, source))
    }

    /// `tar -C rootfs -c . | podman import --change ... - <reference>`.
    fn import(
        &self,
        engine: &Engine,
        rootfs: &std::path::Path,
        recipe: &str,
    ) -> Result<(), EngineError> {
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
            .arg("--change")
            .arg(format!("LABEL {RECIPE_LABEL}={recipe}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_updates_and_security() {
        let base = BaseImage::default();
        let sources = base.apt_sources();
        assert!(
            sources.contains("Suites: bookworm bookworm-updates\n"),
            "{sources}"
        );
        assert!(sources.contains("Suites: bookworm-security\n"), "{sources}");
        assert!(
            sources.contains("URIs: http://deb.debian.org/debian-security\n"),
            "{sources}"
        );
    }

    #[test]
    fn recipe_hash_follows_the_recipe() {
        let base = BaseImage::default();
        let mut other = base.clone();
        other.mirror = "http://mirror.example/debian".into();
        assert_eq!(base.recipe_hash(), base.clone().recipe_hash());
        assert_ne!(base.recipe_hash(), other.recipe_hash());
    }
}
