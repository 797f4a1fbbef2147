//! `indico-substrate`: the local substrate's command line (engine setup, images, pods).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use indico_substrate::engine::{BaseImage, Engine, PodSpec, UnitName, WorkloadImages};

/// Local substrate for the Indico charm: podman pods per unit with real Pebble.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// State directory (default: $INDICO_SUBSTRATE_DIR or /var/lib/indico-substrate).
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write the engine configuration and print the environment podman needs.
    Env,
    /// Make the base image (if missing) and build the workload images (if changed).
    BuildImages {
        /// The charm repository (where indico.Dockerfile is).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Bring up a unit's pod from the current images.
    PodUp {
        /// Unit, e.g. indico/0.
        unit: String,
        /// The charm repository.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Remove a unit's pod and its directories.
    PodDown {
        /// Unit, e.g. indico/0.
        unit: String,
    },
    /// Remove every substrate pod and the substrate network (images stay).
    Purge,
    /// List the substrate's pods: name, ready/total containers, state.
    Pods,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let engine = match &cli.state_dir {
        Some(dir) => Engine::open(dir)?,
        None => Engine::open_default()?,
    };
    match cli.command {
        Cmd::Env => {
            for (key, value) in engine.podman().env() {
                println!("export {key}={}", value.display());
            }
        }
        Cmd::BuildImages { repo } => {
            let start = Instant::now();
            BaseImage::default().ensure(&engine)?;
            for spec in WorkloadImages::from_repo(&repo)?.all() {
                let built = spec.build(&engine)?;
                println!(
                    "{}{}",
                    built.reference,
                    if built.cached { " (cached)" } else { "" }
                );
            }
            eprintln!("images ready in {:.1} s", start.elapsed().as_secs_f64());
        }
        Cmd::PodUp { unit, repo } => {
            let unit = UnitName::parse(&unit)?;
            BaseImage::default().ensure(&engine)?;
            let images = WorkloadImages::from_repo(&repo)?;
            let indico = images.indico.build(&engine)?.reference;
            let nginx = images.nginx.build(&engine)?.reference;
            let exporter = images.exporter.build(&engine)?.reference;
            let spec = PodSpec::indico_unit(
                unit,
                indico_substrate::engine::BASE_IMAGE,
                &indico,
                &nginx,
                &exporter,
            );
            let pod = spec.up(&engine, Duration::from_secs(30))?;
            println!(
                "{} {} {}",
                pod.pod_name,
                pod.ip,
                pod.containers_dir.display()
            );
        }
        Cmd::PodDown { unit } => {
            PodSpec::down(&engine, &UnitName::parse(&unit)?)?;
        }
        Cmd::Pods => {
            let pebble = indico_substrate::engine::default_pebble_binary();
            println!("{:<20} {:>5}   STATUS", "NAME", "READY");
            for pod in indico_substrate::engine::substrate_pods(&engine)? {
                if let Some(status) =
                    indico_substrate::engine::pod_status(&engine, &UnitName::parse(&pod)?, &pebble)?
                {
                    println!("{}", status.line());
                }
            }
        }
        Cmd::Purge => {
            let network = indico_substrate::engine::SubstrateNetwork::default();
            for pod in indico_substrate::engine::remove_all(&engine, &network)? {
                println!("removed {pod}");
            }
        }
    }
    Ok(())
}
