//! The engine's configuration files: `containers.conf` with this host's fixes and a
//! private `storage.conf`, exported to every podman and buildah call.

use std::path::{Path, PathBuf};

use super::{EngineError, StateDir};

/// `containers.conf` for the substrate.
///
/// Every setting answers a fact of this kind of host (see `docs/pods-facts.md`):
/// crun refuses the hybrid cgroup layout (runc works), there is no systemd (cgroupfs,
/// file events logger), podman's default `nofile` limit needs `CAP_SYS_RESOURCE` we do not
/// have, and netavark is the network backend (needs iptables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainersConf {
    /// Podman's `tmp_dir` (reboot detection, events log).
    pub tmp_dir: PathBuf,
    /// Where the substrate's network definitions live.
    pub network_config_dir: PathBuf,
    /// Default `nofile` ulimit (soft = hard).
    pub nofile: u32,
    /// Default `nproc` ulimit (soft = hard).
    pub nproc: u32,
}

impl ContainersConf {
    /// The configuration for a state directory.
    pub fn for_state(state: &StateDir) -> Self {
        Self {
            tmp_dir: state.run_root().join("libpod-tmp"),
            network_config_dir: state.network_config_dir(),
            nofile: 20_000,
            nproc: 32_768,
        }
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        format!(
            "# Written by indico-substrate; rewritten whenever it differs.\n\
             [containers]\n\
             default_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n\
             \n\
             [engine]\n\
             runtime = \"runc\"\n\
             cgroup_manager = \"cgroupfs\"\n\
             events_logger = \"file\"\n\
             tmp_dir = {tmp_dir}\n\
             \n\
             [network]\n\
             network_backend = \"netavark\"\n\
             network_config_dir = {network_dir}\n",
            nofile = self.nofile,
            nproc = self.nproc,
            tmp_dir = toml_string(&self.tmp_dir),
            network_dir = toml_string(&self.network_config_dir),
        )
    }
}

/// `storage.conf` for the substrate: a private image store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConf {
    /// Image and container layers.
    pub graph_root: PathBuf,
    /// Runtime state.
    pub run_root: PathBuf,
}

impl StorageConf {
    /// The configuration for a state directory.
    pub fn for_state(state: &StateDir) -> Self {
        Self {
            graph_root: state.graph_root(),
            run_root: state.run_root(),
        }
    }

    /// The TOML text.
    pub fn render(&self) -> String {
        format!(
            "# Written by indico-substrate; rewritten whenever it differs.\n\
             [storage]\n\
             driver = \"overlay\"\n\
             graphroot = {graph}\n\
             runroot = {run}\n",
            graph = toml_string(&self.graph_root),
            run = toml_string(&self.run_root),
        )
    }
}

/// A TOML basic string holding a path.
fn toml_string(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Writes `content` to `path` unless the file already holds exactly that.
pub(crate) fn write_if_changed(path: &Path, content: &str) -> Result<bool, EngineError> {
    match std::fs::read_to_string(path) {
        Ok(existing) if existing == content => return Ok(false),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(EngineError::io("read", path, source)),
    }
    std::fs::write(path, content).map_err(|source| EngineError::io("write", path, source))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_conf_carries_every_host_fix() {
        let state = StateDir::new(PathBuf::from("/srv/sub"));
        let text = ContainersConf::for_state(&state).render();
        for line in [
            "runtime = \"runc\"",
            "cgroup_manager = \"cgroupfs\"",
            "events_logger = \"file\"",
            "network_backend = \"netavark\"",
            "default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]",
            "network_config_dir = \"/srv/sub/networks\"",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in:\n{text}"
            );
        }
    }

    #[test]
    fn storage_conf_is_private_to_the_state_dir() {
        let state = StateDir::new(PathBuf::from("/srv/sub"));
        let text = StorageConf::for_state(&state).render();
        assert!(
            text.contains("graphroot = \"/srv/sub/storage/graph\""),
            "{text}"
        );
        assert!(
            text.contains("runroot = \"/srv/sub/storage/run\""),
            "{text}"
        );
    }

    #[test]
    fn paths_are_escaped_as_toml_strings() {
        assert_eq!(
            toml_string(Path::new("/a \"b\"\\c")),
            "\"/a \\\"b\\\"\\\\c\""
        );
    }

    #[test]
    fn write_if_changed_reports_whether_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.conf");
        assert!(write_if_changed(&path, "a").unwrap());
        assert!(!write_if_changed(&path, "a").unwrap());
        assert!(write_if_changed(&path, "b").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b");
    }
}
