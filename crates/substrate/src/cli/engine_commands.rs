//! The engine's own commands (written by the pods work, moved here unchanged in
//! behaviour): `env`, `build-images`, `pod-up`, `pod-down`, `purge`.

use std::path::Path;
use std::time::{Duration, Instant};

use super::CliError;
use crate::engine::{
    BASE_IMAGE, BaseImage, Engine, PodSpec, SubstrateNetwork, UnitName, WorkloadImages, remove_all,
};

/// `env`: the environment podman needs, as `export` lines.
pub fn env(engine: &Engine) {
    for (key, value) in engine.podman().env() {
        println!("export {key}={}", value.display());
    }
}

/// The workload images built from `repo` (cached when unchanged), with progress on stderr.
pub fn build_images(engine: &Engine, repo: &Path, quiet: bool) -> Result<[String; 3], CliError> {
    let start = Instant::now();
    if !quiet {
        eprintln!(
            "preparing the base image and the workload images (the first build takes minutes)..."
        );
    }
    BaseImage::default().ensure(engine)?;
    let images = WorkloadImages::from_repo(repo)?;
    let mut built = Vec::new();
    for spec in [&images.indico, &images.nginx, &images.exporter] {
        let image = spec.build(engine)?;
        if !quiet {
            eprintln!(
                "  {}{}",
                image.reference,
                if image.cached {
                    " (cached)"
                } else {
                    " (built)"
                }
            );
        }
        built.push(image.reference);
    }
    if !quiet {
        eprintln!("images ready in {:.1} s", start.elapsed().as_secs_f64());
    }
    let [indico, nginx, exporter]: [String; 3] = built
        .try_into()
        .map_err(|_| CliError::Other("expected three images".into()))?;
    Ok([indico, nginx, exporter])
}

/// `build-images`: prints each image reference.
pub fn build_images_command(engine: &Engine, repo: &Path) -> Result<(), CliError> {
    for reference in build_images(engine, repo, false)? {
        println!("{reference}");
    }
    Ok(())
}

/// `pod-up`: one unit's pod from the current images.
pub fn pod_up(engine: &Engine, unit: &str, repo: &Path) -> Result<(), CliError> {
    let unit = UnitName::parse(unit)?;
    let [indico, nginx, exporter] = build_images(engine, repo, true)?;
    let spec = PodSpec::indico_unit(unit, BASE_IMAGE, &indico, &nginx, &exporter);
    let pod = spec.up(engine, Duration::from_secs(30))?;
    println!(
        "{} {} {}",
        pod.pod_name,
        pod.ip,
        pod.containers_dir.display()
    );
    Ok(())
}

/// `pod-down`.
pub fn pod_down(engine: &Engine, unit: &str) -> Result<(), CliError> {
    PodSpec::down(engine, &UnitName::parse(unit)?)?;
    Ok(())
}

/// `purge`: every substrate pod and the network.
pub fn purge(engine: &Engine) -> Result<(), CliError> {
    for pod in remove_all(engine, &SubstrateNetwork::default())? {
        println!("removed {pod}");
    }
    Ok(())
}
