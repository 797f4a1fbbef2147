//! One podman pod per unit, laid out as Juju lays out a Kubernetes sidecar pod:
//! a `charm` container that sees every workload's Pebble socket under
//! `/charm/containers/<name>/pebble.socket`, and workload containers whose entry point is
//! the real Pebble binary, bind-mounted read-only at `/charm/bin/pebble`.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{
    CA_BUNDLE_IN_CONTAINER, Engine, EngineError, SubstrateNetwork, host_ca_bundle, wait_for_pebble,
};

/// Name of the charm container in every pod.
pub const CHARM_CONTAINER: &str = "charm";

/// The Indico unit's workload containers, in the order Juju indexes them.
pub const WORKLOAD_CONTAINERS: [&str; 4] = [
    "indico",
    "indico-celery",
    "indico-nginx",
    "nginx-prometheus-exporter",
];

/// Where workload containers find Pebble, and the charm container's `/charm/bin`.
const PEBBLE_IN_CONTAINER: &str = "/charm/bin/pebble";
/// Environment variable overriding the host's Pebble binary.
const PEBBLE_BINARY_ENV: &str = "INDICO_SUBSTRATE_PEBBLE";
const DEFAULT_PEBBLE_BINARY: &str = "/root/go/bin/pebble";
/// Every container restarts when its PID 1 exits, as the kubelet restarts a pod's
/// containers (`restartPolicy: Always`): a workload whose Pebble died comes back with a
/// new Pebble (new boot id, empty plan), and the unit agent fires pebble-ready. A
/// container stopped through podman (`pod rm`, `stop`) stays stopped.
const RESTART_POLICY: &str = "always";
/// Label marking substrate pods with their unit.
const UNIT_LABEL: &str = "org.indico-substrate.unit";

/// A Juju unit name, `<application>/<number>`; its pod is `<application>-<number>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitName {
    application: String,
    number: u32,
}

impl UnitName {
    /// Parses `app/0` (Juju's form) or `app-0` (the pod's form). The application name is
    /// lower-case letters, digits and single hyphens, starting with a letter.
    pub fn parse(text: &str) -> Result<Self, EngineError> {
        let invalid = |detail: &str| EngineError::Invalid {
            what: "unit name",
            detail: format!("{text:?}: {detail}"),
        };
        let (application, number) = match text.rsplit_once('/') {
            Some(parts) => parts,
            None => text
                .rsplit_once('-')
                .ok_or_else(|| invalid("expected <application>/<number>"))?,
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("the unit number must be decimal digits"));
        }
        let number: u32 = number
            .parse()
            .map_err(|_| invalid("the unit number is too large"))?;
        let valid_app = application.starts_with(|c: char| c.is_ascii_lowercase())
            && !application.ends_with('-')
            && !application.contains("--")
            && application
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_app {
            return Err(invalid(
                "the application name must be lower-case letters, digits and hyphens, starting with a letter",
            ));
        }
        Ok(Self {
            application: application.to_owned(),
            number,
        })
    }

    /// The application name.
    pub fn application(&self) -> &str {
        &self.application
    }

    /// The unit number.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The pod name, `<application>-<number>` (as Kubernetes names a StatefulSet's pods).
    pub fn pod_name(&self) -> String {
        format!("{}-{}", self.application, self.number)
    }
}

impl fmt::Display for UnitName {
    /// Juju's form, `app/0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.application, self.number)
    }
}

/// A workload container: its name (as in metadata.yaml) and image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadContainer {
    /// Container name, e.g. `indico-nginx`.
    pub name: String,
    /// Image reference.
    pub image: String,
}

/// Everything needed to bring up one unit's pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSpec {
    /// The unit.
    pub unit: UnitName,
    /// Image of the charm container (any image with a shell; the charm binary and hook
    /// tools are bind-mounted in by the unit agent).
    pub charm_image: String,
    /// The workload containers.
    pub workloads: Vec<WorkloadContainer>,
    /// The host's static Pebble binary.
    pub pebble_binary: PathBuf,
    /// The network the pod joins.
    pub network: SubstrateNetwork,
    /// A host CA bundle mounted read-only over each workload's system bundle, with
    /// `PIP_CERT` and `REQUESTS_CA_BUNDLE` pointing at it (substrate only: for hosts whose
    /// egress inspects TLS). `None` leaves the images' own trust store alone.
    pub ca_bundle: Option<PathBuf>,
}

/// A pod that is up, with every workload's Pebble listening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningPod {
    /// The unit.
    pub unit: UnitName,
    /// The podman pod name.
    pub pod_name: String,
    /// The pod's address on the substrate network (changes when the pod is recreated).
    pub ip: Ipv4Addr,
    /// Host directory mounted at `/charm/containers` in the charm container.
    pub containers_dir: PathBuf,
    /// How long each workload's Pebble took to listen after the pod started.
    pub pebble_ready_after: Vec<(String, Duration)>,
}

impl RunningPod {
    /// The host path of a workload container's Pebble socket.
    pub fn pebble_socket(&self, container: &str) -> PathBuf {
        self.containers_dir.join(container).join("pebble.socket")
    }

    /// The podman container name of `container` in this pod (`<pod>-<container>`).
    pub fn container_name(&self, container: &str) -> String {
        format!("{}-{}", self.pod_name, container)
    }
}

impl PodSpec {
    /// The Indico unit: four workload containers from the given images, the charm
    /// container from `charm_image`, Pebble from `$INDICO_SUBSTRATE_PEBBLE` or
    /// `/root/go/bin/pebble`, on the default substrate network, with the host CA bundle
    /// ([`host_ca_bundle`]) when there is one.
    pub fn indico_unit(
        unit: UnitName,
        charm_image: &str,
        indico: &str,
        nginx: &str,
        exporter: &str,
    ) -> Self {
        let images = [indico, indico, nginx, exporter];
        let workloads = WORKLOAD_CONTAINERS
            .iter()
            .zip(images)
            .map(|(name, image)| WorkloadContainer {
                name: (*name).to_owned(),
                image: image.to_owned(),
            })
            .collect();
        let pebble_binary = default_pebble_binary();
        Self {
            unit,
            charm_image: charm_image.to_owned(),
            workloads,
            pebble_binary,
            network: SubstrateNetwork::default(),
            ca_bundle: host_ca_bundle(),
        }
    }

    /// Creates and starts the pod, then waits (up to `pebble_timeout`) until every
    /// workload's Pebble listens. Fails if a pod of that name already exists.
    pub fn up(&self, engine: &Engine, pebble_timeout: Duration) -> Result<RunningPod, EngineError> {
        if !self.pebble_binary.is_file() {
            return Err(EngineError::Invalid {
                what: "Pebble binary",
                detail: format!(
                    "{} is not a file (set {PEBBLE_BINARY_ENV})",
                    self.pebble_binary.display()
                ),
            });
        }
        let pod_name = self.unit.pod_name();
        if engine
            .podman()
            .check(["pod", "exists", pod_name.as_str()])?
        {
            return Err(EngineError::Invalid {
                what: "pod",
                detail: format!("{pod_name} already exists; tear it down first"),
            });
        }
        self.network.ensure(engine)?;
        let containers_dir = engine.state().unit_containers_dir(&pod_name);
        for workload in &self.workloads {
            let dir = containers_dir.join(&workload.name);
            std::fs::create_dir_all(&dir)
                .map_err(|source| EngineError::io("create directory", &dir, source))?;
        }

        let started = self.create_and_start(engine, &pod_name, &containers_dir);
        if let Err(err) = started {
            // Leave nothing half-made behind; the original error is what matters.
            if let Err(cleanup) = Self::down(engine, &self.unit) {
                tracing::warn!(error = %cleanup, "cleanup after failed pod start");
            }
            return Err(err);
        }

        let mut pebble_ready_after = Vec::with_capacity(self.workloads.len());
        for workload in &self.workloads {
            let socket = containers_dir.join(&workload.name).join("pebble.socket");
            let waited = wait_for_pebble(&socket, pebble_timeout)?;
            pebble_ready_after.push((workload.name.clone(), waited));
        }
        let ip = pod_ip(engine, &pod_name, &self.network.name)?;
        Ok(RunningPod {
            unit: self.unit.clone(),
            pod_name,
            ip,
            containers_dir,
            pebble_ready_after,
        })
    }

    fn create_and_start(
        &self,
        engine: &Engine,
        pod_name: &str,
        containers_dir: &Path,
    ) -> Result<(), EngineError> {
        let unit_label = format!("{UNIT_LABEL}={}", self.unit);
        engine.podman().run([
            "pod",
            "create",
            "--name",
            pod_name,
            "--hostname",
            pod_name,
            "--network",
            self.network.name.as_str(),
            "--label",
            unit_label.as_str(),
        ])?;
        self.create_containers(engine, pod_name, containers_dir)?;
        engine.podman().run(["pod", "start", pod_name])?;
        Ok(())
    }

    fn create_containers(
        &self,
        engine: &Engine,
        pod_name: &str,
        containers_dir: &Path,
    ) -> Result<(), EngineError> {
        let pebble_mount = format!("{}:{PEBBLE_IN_CONTAINER}:ro", self.pebble_binary.display());
        let charm_name = format!("{pod_name}-{CHARM_CONTAINER}");
        let charm_mount = format!("{}:/charm/containers", containers_dir.display());
        engine.podman().run([
            "create",
            "--pod",
            pod_name,
            "--name",
            charm_name.as_str(),
            // `sleep` as PID 1 ignores SIGTERM; the init reaps and forwards signals.
            "--init",
            "--restart",
            RESTART_POLICY,
            "--volume",
            pebble_mount.as_str(),
            "--volume",
            charm_mount.as_str(),
            "--env",
            "JUJU_CONTAINER_NAME=charm",
            "--entrypoint",
            "[\"sleep\",\"infinity\"]",
            self.charm_image.as_str(),
        ])?;
        let mut ca_args: Vec<String> = Vec::new();
        if let Some(bundle) = &self.ca_bundle {
            ca_args.extend([
                "--volume".to_owned(),
                format!("{}:{CA_BUNDLE_IN_CONTAINER}:ro", bundle.display()),
                "--env".to_owned(),
                format!("PIP_CERT={CA_BUNDLE_IN_CONTAINER}"),
                "--env".to_owned(),
                format!("REQUESTS_CA_BUNDLE={CA_BUNDLE_IN_CONTAINER}"),
            ]);
        }
        for workload in &self.workloads {
            let name = format!("{pod_name}-{}", workload.name);
            let own_dir = format!(
                "{}:/charm/container",
                containers_dir.join(&workload.name).display()
            );
            let container_env = format!("JUJU_CONTAINER_NAME={}", workload.name);
            let mut args: Vec<&str> = vec![
                "create",
                "--pod",
                pod_name,
                "--name",
                name.as_str(),
                "--volume",
                pebble_mount.as_str(),
                "--volume",
                own_dir.as_str(),
                "--env",
                container_env.as_str(),
                "--env",
                "PEBBLE_SOCKET=/charm/container/pebble.socket",
                "--restart",
                RESTART_POLICY,
                "--entrypoint",
                "[\"/charm/bin/pebble\",\"run\",\"--create-dirs\",\"--hold\",\"--verbose\"]",
            ];
            args.extend(ca_args.iter().map(String::as_str));
            args.push(workload.image.as_str());
            engine.podman().run(args)?;
        }
        Ok(())
    }

    /// Removes the unit's pod (containers get 10 s to stop) and its host directories.
    /// Absent pods and directories are not an error.
    pub fn down(engine: &Engine, unit: &UnitName) -> Result<(), EngineError> {
        let pod_name = unit.pod_name();
        if engine
            .podman()
            .check(["pod", "exists", pod_name.as_str()])?
        {
            engine
                .podman()
                .run(["pod", "rm", "--force", "--time", "10", pod_name.as_str()])?;
        }
        let unit_dir = engine.state().unit_dir(&pod_name);
        match std::fs::remove_dir_all(&unit_dir) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(EngineError::io("remove", unit_dir, source)),
        }
    }
}

/// The host's static Pebble binary: `$INDICO_SUBSTRATE_PEBBLE` or `/root/go/bin/pebble`.
pub fn default_pebble_binary() -> PathBuf {
    std::env::var_os(PEBBLE_BINARY_ENV)
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_PEBBLE_BINARY), PathBuf::from)
}

/// Names of every pod the substrate created (any unit), from their label.
pub fn substrate_pods(engine: &Engine) -> Result<Vec<String>, EngineError> {
    let filter = format!("label={UNIT_LABEL}");
    let out = engine.podman().run([
        "pod",
        "ps",
        "--filter",
        filter.as_str(),
        "--format",
        "{{.Name}}",
    ])?;
    Ok(out
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Removes every substrate pod with its unit directory, then the substrate network.
/// Images stay (rebuilding them costs minutes); remove them with `podman rmi` if needed.
pub fn remove_all(engine: &Engine, network: &SubstrateNetwork) -> Result<Vec<String>, EngineError> {
    let pods = substrate_pods(engine)?;
    for pod in &pods {
        engine
            .podman()
            .run(["pod", "rm", "--force", "--time", "10", pod.as_str()])?;
        let unit_dir = engine.state().unit_dir(pod);
        match std::fs::remove_dir_all(&unit_dir) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(EngineError::io("remove", unit_dir, source)),
        }
    }
    network.remove(engine)?;
    Ok(pods)
}

/// The subset of `podman pod inspect` this module reads.
#[derive(Debug, Deserialize)]
struct PodInspect {
    #[serde(rename = "InfraContainerID")]
    infra_container_id: String,
}

/// The subset of `podman inspect <container>` this module reads.
#[derive(Debug, Deserialize)]
struct ContainerInspect {
    #[serde(rename = "NetworkSettings")]
    network_settings: NetworkSettings,
}

#[derive(Debug, Deserialize)]
struct NetworkSettings {
    #[serde(rename = "Networks", default)]
    networks: std::collections::HashMap<String, NetworkAttachment>,
}

#[derive(Debug, Deserialize)]
struct NetworkAttachment {
    #[serde(rename = "IPAddress")]
    ip_address: String,
}

/// The pod's address on `network`, read from its infra container.
fn pod_ip(engine: &Engine, pod_name: &str, network: &str) -> Result<Ipv4Addr, EngineError> {
    let unexpected = |command: &str, detail: String| EngineError::UnexpectedOutput {
        command: command.to_owned(),
        detail,
    };
    let pod_json = engine.podman().run(["pod", "inspect", pod_name])?.stdout;
    // podman 4.3 prints one object for one pod; newer versions print a list.
    let pod: PodInspect = match serde_json::from_str::<Vec<PodInspect>>(&pod_json) {
        Ok(mut list) if !list.is_empty() => list.swap_remove(0),
        _ => serde_json::from_str(&pod_json)
            .map_err(|e| unexpected("podman pod inspect", e.to_string()))?,
    };
    let container_json = engine
        .podman()
        .run(["inspect", pod.infra_container_id.as_str()])?
        .stdout;
    let mut containers: Vec<ContainerInspect> = serde_json::from_str(&container_json)
        .map_err(|e| unexpected("podman inspect", e.to_string()))?;
    let Some(infra) = containers.pop() else {
        return Err(unexpected(
            "podman inspect",
            "no container in the answer".into(),
        ));
    };
    let attachment = infra
        .network_settings
        .networks
        .get(network)
        .ok_or_else(|| {
            unexpected(
                "podman inspect",
                format!("infra container not on network {network}"),
            )
        })?;
    attachment.ip_address.parse().map_err(|_| {
        unexpected(
            "podman inspect",
            format!("not an IPv4 address: {:?}", attachment.ip_address),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_parse_in_both_forms() {
        let unit = UnitName::parse("indico/0").unwrap();
        assert_eq!(unit.pod_name(), "indico-0");
        assert_eq!(unit.to_string(), "indico/0");
        let unit = UnitName::parse("my-indico-12").unwrap();
        assert_eq!(unit.application(), "my-indico");
        assert_eq!(unit.number(), 12);
    }

    #[test]
    fn bad_unit_names_are_rejected_with_the_reason() {
        for (text, reason) in [
            ("indico", "expected"),
            ("indico/x", "digits"),
            ("Indico/0", "lower-case"),
            ("in_dico/0", "lower-case"),
            ("indico-/0", "lower-case"),
            ("indico/99999999999", "too large"),
            ("/0", "lower-case"),
        ] {
            let err = UnitName::parse(text).unwrap_err().to_string();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn indico_unit_lays_out_four_workloads() {
        let spec = PodSpec::indico_unit(UnitName::parse("indico/0").unwrap(), "c", "i", "n", "e");
        let layout: Vec<(&str, &str)> = spec
            .workloads
            .iter()
            .map(|w| (w.name.as_str(), w.image.as_str()))
            .collect();
        assert_eq!(
            layout,
            [
                ("indico", "i"),
                ("indico-celery", "i"),
                ("indico-nginx", "n"),
                ("nginx-prometheus-exporter", "e")
            ]
        );
    }
}
