//! The package on disk: [`CharmContents`] written as a zip with each file's unix mode in
//! its external attributes (what Juju's `ExpandTo` restores), read back from a zip, and
//! written out as an unpacked charm directory (what `indico-substrate deploy <dir>` stages).
//!
//! Archives are reproducible: entries in path order, every timestamp 1980-01-01 00:00.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::contents::CharmContents;
use crate::error::PackError;

/// Writes `contents` as a zip at `path`. The archive is built beside it and renamed into
/// place, so a failure never leaves a partial package under the final name.
pub fn write(contents: &CharmContents, path: &Path) -> Result<(), PackError> {
    let partial = path.with_extension("charm.partial");
    let zip_error = |source| PackError::Zip {
        path: partial.clone(),
        source,
    };
    let file = std::fs::File::create(&partial).map_err(|e| PackError::io("create", &partial, e))?;
    let mut writer = ZipWriter::new(file);
    for (name, entry) in contents.iter() {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .unix_permissions(entry.mode)
            .last_modified_time(DateTime::default());
        writer.start_file(name, options).map_err(zip_error)?;
        writer
            .write_all(&entry.data)
            .map_err(|e| PackError::io("write", &partial, e))?;
    }
    let file = writer.finish().map_err(zip_error)?;
    file.sync_all()
        .map_err(|e| PackError::io("sync", &partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| PackError::io("rename into place", path, e))
}

/// Reads the zip at `path`. Directories are skipped; an entry that is a symlink, has no
/// unix mode, or whose name is absolute or climbs out with `..` is an error.
pub fn read(path: &Path) -> Result<CharmContents, PackError> {
    let zip_error = |source| PackError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| PackError::io("open", path, e))?;
    let mut archive = ZipArchive::new(file).map_err(zip_error)?;
    let mut contents = CharmContents::default();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        let name = entry.name().to_owned();
        if entry.is_dir() {
            continue;
        }
        if entry.enclosed_name().is_none() {
            return Err(PackError::UnsafeEntry {
                name,
                reason: "absolute or climbing out with ..",
            });
        }
        let Some(mode) = entry.unix_mode() else {
            return Err(PackError::UnsafeEntry {
                name,
                reason: "no unix mode in its external attributes",
            });
        };
        // S_IFMT / S_IFREG: only regular files belong in this charm.
        if mode & 0o170000 != 0o100000 {
            return Err(PackError::UnsafeEntry {
                name,
                reason: "not a regular file",
            });
        }
        let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry
            .read_to_end(&mut data)
            .map_err(|e| PackError::io("read from the archive", path, e))?;
        contents.insert(name, mode & 0o7777, data);
    }
    Ok(contents)
}

/// Writes `contents` as an unpacked charm directory at `dir` (created if missing), each
/// file with its mode: the directory `indico-substrate deploy <dir>` takes as it is.
pub fn write_charm_dir(contents: &CharmContents, dir: &Path) -> Result<(), PackError> {
    for (name, entry) in contents.iter() {
        let relative = Path::new(name);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(PackError::UnsafeEntry {
                name: name.to_owned(),
                reason: "absolute or climbing out with ..",
            });
        }
        let target = dir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PackError::io("create", parent, e))?;
        }
        std::fs::write(&target, &entry.data).map_err(|e| PackError::io("write", &target, e))?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(entry.mode))
            .map_err(|e| PackError::io("chmod", &target, e))?;
    }
    Ok(())
}
