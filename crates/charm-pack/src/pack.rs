//! The pack: gather the package's files, refuse it if any rule is broken, write the zip.

use std::path::{Path, PathBuf};

use crate::archive;
use crate::contents::CharmContents;
use crate::elf::{self, GlibcVersion};
use crate::error::PackError;
use crate::manifest::Base;
use crate::rules;

/// A written package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// The `.charm` file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The size of `dispatch` (the charm's binary) in bytes.
    pub binary_size: u64,
    /// The highest glibc version the binary needs (`None`: none, e.g. static).
    pub max_glibc: Option<GlibcVersion>,
    /// What was packed.
    pub contents: CharmContents,
}

/// Packs the charm repository at `repo` with `binary` as `dispatch` for `base`, writing
/// `<name>_<base slug>.charm` into `output_dir`. Nothing is written if a rule is broken.
pub fn pack(
    repo: &Path,
    binary: &Path,
    base: &Base,
    output_dir: &Path,
) -> Result<Packed, PackError> {
    let contents = CharmContents::from_repository(repo, binary, base)?;
    rules::check(&contents, base).map_err(PackError::Rules)?;
    // check() passed, so metadata.yaml has a valid name and dispatch is present.
    let name = rules::charm_name(&contents).unwrap_or_else(|| "charm".to_owned());
    let dispatch = contents
        .get("dispatch")
        .map(|e| e.data.as_slice())
        .unwrap_or_default();
    let max_glibc = elf::inspect(dispatch)
        .ok()
        .and_then(|facts| facts.max_glibc);
    let binary_size = dispatch.len() as u64;
    let path = output_dir.join(base.package_file_name(&name));
    archive::write(&contents, &path)?;
    let size = std::fs::metadata(&path)
        .map_err(|e| PackError::io("stat", &path, e))?
        .len();
    Ok(Packed {
        path,
        size,
        binary_size,
        max_glibc,
        contents,
    })
}
