//! Where the substrate keeps its state: engine configuration, image store, build
//! contexts and per-unit directories, all under one directory.

use std::path::{Path, PathBuf};

use super::EngineError;

/// Environment variable that overrides the state directory.
pub const STATE_DIR_ENV: &str = "INDICO_SUBSTRATE_DIR";

/// Default state directory.
const DEFAULT_STATE_DIR: &str = "/var/lib/indico-substrate";

/// The layout of the substrate's state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// A layout rooted at `root` (nothing is created).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// `$INDICO_SUBSTRATE_DIR` when set and non-empty, else `/var/lib/indico-substrate`.
    pub fn default_path() -> PathBuf {
        match std::env::var_os(STATE_DIR_ENV) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => PathBuf::from(DEFAULT_STATE_DIR),
        }
    }

    /// Creates the directories the engine needs.
    pub fn create(&self) -> Result<(), EngineError> {
        for dir in [
            self.root.clone(),
            self.engine_dir(),
            self.graph_root(),
            self.run_root(),
            self.network_config_dir(),
            self.builds_dir(),
            self.units_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|source| EngineError::Io {
                action: "create directory",
                path: dir.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Engine configuration files.
    pub fn engine_dir(&self) -> PathBuf {
        self.root.join("engine")
    }

    /// `containers.conf` exported as `CONTAINERS_CONF`.
    pub fn containers_conf(&self) -> PathBuf {
        self.engine_dir().join("containers.conf")
    }

    /// `storage.conf` exported as `CONTAINERS_STORAGE_CONF`.
    pub fn storage_conf(&self) -> PathBuf {
        self.engine_dir().join("storage.conf")
    }

    /// Image and container layers (storage `graphroot`).
    pub fn graph_root(&self) -> PathBuf {
        self.root.join("storage").join("graph")
    }

    /// Runtime state of containers (storage `runroot`; podman's `tmp_dir` lives below it).
    pub fn run_root(&self) -> PathBuf {
        self.root.join("storage").join("run")
    }

    /// Podman network definitions owned by the substrate (`network_config_dir`).
    pub fn network_config_dir(&self) -> PathBuf {
        self.root.join("networks")
    }

    /// Staged build contexts and build logs, one subdirectory per image.
    pub fn builds_dir(&self) -> PathBuf {
        self.root.join("builds")
    }

    /// Per-unit directories.
    pub fn units_dir(&self) -> PathBuf {
        self.root.join("units")
    }

    /// One unit's directory (`units/<unit>`).
    pub fn unit_dir(&self, unit: &str) -> PathBuf {
        self.units_dir().join(unit)
    }

    /// The host directory mounted at `/charm/containers` in the unit's charm container;
    /// its subdirectory `<name>` is mounted at `/charm/container` in workload `<name>`.
    pub fn unit_containers_dir(&self, unit: &str) -> PathBuf {
        self.unit_dir(unit).join("containers")
    }

    /// The host path of workload `<container>`'s Pebble socket.
    pub fn pebble_socket(&self, unit: &str, container: &str) -> PathBuf {
        self.unit_containers_dir(unit)
            .join(container)
            .join("pebble.socket")
    }
}
