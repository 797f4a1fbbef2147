//! The container engine: podman driven as a subprocess with the substrate's own
//! configuration, images, network and pods.
//!
//! [`Engine::open`] prepares the state directory and configuration once; everything else
//! borrows the engine and runs podman through it, so no call can miss the private
//! configuration.

mod base_image;
mod config;
mod error;
mod host_ca;
mod image;
mod network;
mod pebble_cli;
mod pebble_socket;
mod pod;
mod pod_status;
mod podman;
mod state_dir;

pub use base_image::{BASE_IMAGE, BaseImage};
pub use config::{ContainersConf, StorageConf};
pub use error::EngineError;
pub use host_ca::{CA_BUNDLE_ENV, CA_BUNDLE_IN_CONTAINER, host_ca_bundle};
pub use image::{BuiltImage, ImageSpec, WorkloadImages};
pub use network::SubstrateNetwork;
pub use pebble_cli::PebbleCli;
pub use pebble_socket::wait_for_pebble;
pub use pod::{
    CHARM_CONTAINER, PodSpec, RunningPod, UnitName, WORKLOAD_CONTAINERS, WorkloadContainer,
    default_pebble_binary, remove_all, substrate_pods,
};
pub use pod_status::{ContainerStatus, PodStatus, pod_status};
pub use podman::{Podman, PodmanOutput};
pub use state_dir::{STATE_DIR_ENV, StateDir};

use std::path::Path;

/// The substrate's engine: its state directory plus a podman runner configured for it.
#[derive(Debug, Clone)]
pub struct Engine {
    state: StateDir,
    podman: Podman,
}

impl Engine {
    /// Opens the engine at `state_dir`: creates the directory layout and (re)writes the
    /// containers and storage configuration when their content differs.
    pub fn open(state_dir: &Path) -> Result<Self, EngineError> {
        let state = StateDir::new(state_dir.to_path_buf());
        state.create()?;
        let containers_conf = ContainersConf::for_state(&state).render();
        let storage_conf = StorageConf::for_state(&state).render();
        config::write_if_changed(&state.containers_conf(), &containers_conf)?;
        config::write_if_changed(&state.storage_conf(), &storage_conf)?;
        let podman = Podman::new(&state);
        Ok(Self { state, podman })
    }

    /// Opens the engine at `$INDICO_SUBSTRATE_DIR`, or `/var/lib/indico-substrate`.
    pub fn open_default() -> Result<Self, EngineError> {
        Self::open(&StateDir::default_path())
    }

    /// The state directory layout.
    pub fn state(&self) -> &StateDir {
        &self.state
    }

    /// The podman runner (configured with this engine's `CONTAINERS_CONF` and
    /// `CONTAINERS_STORAGE_CONF`).
    pub fn podman(&self) -> &Podman {
        &self.podman
    }
}
