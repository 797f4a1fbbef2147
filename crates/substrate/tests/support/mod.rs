//! What the pod end-to-end tests share: running the substrate's command line from the
//! repository root, and deploying the charm under test.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where the Dockerfiles are).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Runs `indico-substrate <args>` from the repository root, with quick hook retries.
pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_indico-substrate"))
        .args(args)
        .current_dir(repo_root())
        .env("INDICO_SUBSTRATE_RETRY_MIN", "1")
        .output()
        .expect("indico-substrate runs")
}

/// [`cli`] that must succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Deploys the charm under test as `app`: the unpacked `.charm` in `$INDICO_CHARM_DIR`
/// when set (deployed as Juju would, its own `dispatch` and YAML; the images still come
/// from this repository's Dockerfiles), else this repository with the release binary
/// (`$INDICO_CHARM_BINARY`, or built here).
pub fn deploy_charm(app: &str) {
    let repo = repo_root();
    match std::env::var_os("INDICO_CHARM_DIR") {
        Some(charm_dir) => {
            let charm_dir = PathBuf::from(charm_dir);
            assert!(
                charm_dir.join("dispatch").is_file() && charm_dir.join("manifest.yaml").is_file(),
                "INDICO_CHARM_DIR={} is not an unpacked .charm",
                charm_dir.display()
            );
            ok(&[
                "deploy",
                charm_dir.to_str().expect("a UTF-8 path"),
                app,
                "--repo",
                repo.to_str().expect("a UTF-8 path"),
            ]);
        }
        None => {
            let binary = charm_binary(&repo);
            ok(&[
                "deploy",
                ".",
                app,
                "--binary",
                binary.to_str().expect("a UTF-8 path"),
            ]);
        }
    }
}

fn charm_binary(repo: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("INDICO_CHARM_BINARY") {
        return PathBuf::from(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "indico-charm",
            "--bin",
            "indico-charm",
        ])
        .current_dir(repo)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the charm failed");
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo.join("target"), PathBuf::from)
        .join("release")
        .join("indico-charm")
}
