//! The pack step's error type: every failure names the file or the command it concerns.

use std::path::PathBuf;

use crate::rules::Violations;

/// Why packing (or reading a package back) failed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// A file could not be read, written or listed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was attempted (`read`, `write`, `create` ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Cargo could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The cargo executable tried.
        program: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The release build failed (cargo printed why on stderr).
    #[error("the release build failed ({status}); cargo's messages are above")]
    BuildFailed {
        /// cargo's exit status.
        status: std::process::ExitStatus,
    },
    /// The release build finished without naming the charm's executable.
    #[error("cargo built no executable named {binary}")]
    NoExecutable {
        /// The binary target looked for.
        binary: String,
    },
    /// The package breaks one or more of Juju's rules.
    #[error("the charm breaks {count} rule(s):\n{0}", count = .0.len())]
    Rules(Violations),
    /// The zip could not be written or read.
    #[error("zip archive {path}: {source}")]
    Zip {
        /// The archive.
        path: PathBuf,
        /// The zip library's error.
        #[source]
        source: zip::result::ZipError,
    },
    /// An archive entry cannot be unpacked safely (absolute path, `..`, not a regular file).
    #[error("archive entry {name:?} cannot be unpacked: {reason}")]
    UnsafeEntry {
        /// The entry's name in the archive.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No repository root (a directory with `metadata.yaml` and `Cargo.toml`) was found.
    #[error("no charm repository (metadata.yaml + Cargo.toml) at or above {0}; pass --repo")]
    NoRepository(PathBuf),
}

impl PackError {
    /// An [`PackError::Io`] for `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
