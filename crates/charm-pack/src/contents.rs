//! What goes into the package: each file's archive path, unix mode and bytes, gathered from
//! the repository and the release binary. The same type holds a package read back from a
//! zip, so the rules check both the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::PackError;
use crate::manifest::Base;

/// Mode of `dispatch`: Juju runs it with `exec.LookPath`, so it must be executable.
pub const DISPATCH_MODE: u32 = 0o755;
/// Mode of every other file in the package.
pub const FILE_MODE: u32 = 0o644;

/// The repository files copied into the package: (path in the repository, path in the package).
pub const REPOSITORY_FILES: [(&str, &str); 5] = [
    ("metadata.yaml", "metadata.yaml"),
    ("config.yaml", "config.yaml"),
    ("actions.yaml", "actions.yaml"),
    ("charm/icon.svg", "icon.svg"),
    ("README.md", "README.md"),
];

/// One file of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unix permission bits (`0o755`, `0o644`), without the file-type bits.
    pub mode: u32,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// The files of a charm package, by archive path (sorted, so archives are reproducible).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CharmContents {
    entries: BTreeMap<String, Entry>,
}

impl CharmContents {
    /// The package for `base` from the charm repository at `repo` and the release `binary`
    /// (which becomes `dispatch`). Nothing is checked here: see [`crate::rules::check`].
    pub fn from_repository(repo: &Path, binary: &Path, base: &Base) -> Result<Self, PackError> {
        let mut contents = Self::default();
        for (source, archive_path) in REPOSITORY_FILES {
            let path = repo.join(source);
            let data = std::fs::read(&path).map_err(|e| PackError::io("read", &path, e))?;
            contents.insert(archive_path, FILE_MODE, data);
        }
        contents.insert(
            "manifest.yaml",
            FILE_MODE,
            base.manifest_yaml().into_bytes(),
        );
        let dispatch = std::fs::read(binary).map_err(|e| PackError::io("read", binary, e))?;
        contents.insert("dispatch", DISPATCH_MODE, dispatch);
        Ok(contents)
    }

    /// Adds or replaces the file at `path`.
    pub fn insert(&mut self, path: impl Into<String>, mode: u32, data: Vec<u8>) {
        self.entries.insert(path.into(), Entry { mode, data });
    }

    /// Removes the file at `path`, returning it.
    pub fn remove(&mut self, path: &str) -> Option<Entry> {
        self.entries.remove(path)
    }

    /// The file at `path`.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// The file at `path`, for changing it in place.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Entry> {
        self.entries.get_mut(path)
    }

    /// Every file, by path in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries
            .iter()
            .map(|(path, entry)| (path.as_str(), entry))
    }

    /// The archive paths, sorted.
    pub fn paths(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }
}

/// The charm repository at or above `start`: the first directory holding both
/// `metadata.yaml` and `Cargo.toml`.
pub fn find_repository(start: &Path) -> Result<PathBuf, PackError> {
    start
        .ancestors()
        .find(|dir| dir.join("metadata.yaml").is_file() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| PackError::NoRepository(start.to_path_buf()))
}
