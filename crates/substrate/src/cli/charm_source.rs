//! Staging a charm for deployment: the unit agent installs `metadata.yaml`,
//! `config.yaml`, `actions.yaml` and an executable `dispatch` from one directory. A
//! charm repository (like this one) has the YAML files and builds the binary to
//! `target/release/indico-charm`; the stage puts that binary in place as `dispatch`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::CliError;

/// Where the charm's binary is found when the source has no `dispatch`.
fn built_binary(source: &Path, name: &str) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("release").join(name));
    }
    candidates.push(source.join("target").join("release").join(name));
    candidates
}

/// Copies the charm in `source` to `dest` with `dispatch` from `binary`, the source's
/// own `dispatch`, or its release build of `<charm name>-charm`/`<charm name>`.
pub fn stage(source: &Path, dest: &Path, binary: Option<&Path>) -> Result<PathBuf, CliError> {
    let metadata = source.join("metadata.yaml");
    if !metadata.is_file() {
        return Err(CliError::Usage(format!(
            "{} has no metadata.yaml: not a charm directory (or name a provider: postgresql, redis)",
            source.display()
        )));
    }
    let meta = crate::model::CharmMeta::load(source)?;
    let dispatch = match binary {
        Some(path) => path.to_path_buf(),
        None if source.join("dispatch").is_file() => source.join("dispatch"),
        None => {
            let names = [format!("{}-charm", meta.name), meta.name.clone()];
            let candidates: Vec<PathBuf> =
                names.iter().flat_map(|n| built_binary(source, n)).collect();
            candidates.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
                CliError::Usage(format!(
                    "no dispatch in {} and no release build of the charm ({}); build it with `cargo build --release`, or pass --binary",
                    source.display(),
                    candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ))
            })?
        }
    };
    std::fs::create_dir_all(dest).map_err(|e| CliError::io("create", dest, e))?;
    for name in ["metadata.yaml", "config.yaml", "actions.yaml"] {
        let from = source.join(name);
        if from.is_file() {
            std::fs::copy(&from, dest.join(name)).map_err(|e| CliError::io("copy", &from, e))?;
        }
    }
    let target = dest.join("dispatch");
    std::fs::copy(&dispatch, &target).map_err(|e| CliError::io("copy", &dispatch, e))?;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| CliError::io("chmod", &target, e))?;
    Ok(dest.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_yaml_and_the_binary_as_dispatch() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("repo");
        std::fs::create_dir_all(source.join("target/release")).unwrap();
        std::fs::write(source.join("metadata.yaml"), "name: thing\n").unwrap();
        std::fs::write(source.join("config.yaml"), "options: {}\n").unwrap();
        let err = stage(&source, &dir.path().join("a"), None).unwrap_err();
        assert!(err.to_string().contains("no release build"), "{err}");
        std::fs::write(source.join("target/release/thing-charm"), "#!/bin/sh\n").unwrap();
        let staged = stage(&source, &dir.path().join("b"), None).unwrap();
        let mode = std::fs::metadata(staged.join("dispatch"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert!(staged.join("config.yaml").is_file() && !staged.join("actions.yaml").exists());
        let err = stage(dir.path(), &dir.path().join("c"), None).unwrap_err();
        assert!(err.to_string().contains("not a charm directory"), "{err}");
    }
}
