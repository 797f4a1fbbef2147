//! `charm-pack`: builds the charm's release binary and packs
//! `indico_ubuntu-24.04-amd64.charm` at the repository root, then prints the file, its
//! size and the binary's size. `cargo run --release -p charm-pack`.

use std::path::PathBuf;
use std::process::ExitCode;

use charm_pack::manifest::UBUNTU_24_04_AMD64;
use charm_pack::{PackError, archive, contents, pack, release_build};
use clap::Parser;

/// Pack the Indico charm into a .charm archive Juju deploys.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The charm repository (default: the first directory at or above the current one with
    /// metadata.yaml and Cargo.toml).
    #[arg(long)]
    repo: Option<PathBuf>,
    /// Pack this binary as dispatch instead of building the release binary.
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Where the .charm is written (default: the repository root).
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// Also write the unpacked charm directory here, for `indico-substrate deploy <dir>`.
    #[arg(long)]
    unpack_to: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("charm-pack: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), PackError> {
    let repo = match args.repo {
        Some(repo) => repo,
        None => {
            let cwd = std::env::current_dir().map_err(|e| PackError::io("read", ".", e))?;
            contents::find_repository(&cwd)?
        }
    };
    let binary = match args.binary {
        Some(binary) => binary,
        None => release_build::build_release_binary(&repo)?,
    };
    let output_dir = args.output_dir.unwrap_or_else(|| repo.clone());
    let packed = pack(&repo, &binary, &UBUNTU_24_04_AMD64, &output_dir)?;
    if let Some(dir) = &args.unpack_to {
        archive::write_charm_dir(&packed.contents, dir)?;
        println!("unpacked charm: {}", dir.display());
    }
    let glibc = packed
        .max_glibc
        .map_or_else(|| "none".to_owned(), |v| format!("GLIBC_{v}"));
    println!("{}", packed.path.display());
    println!(
        "package: {} bytes ({}); dispatch binary: {} bytes ({}), needs {glibc} (base has {}.{})",
        packed.size,
        mib(packed.size),
        packed.binary_size,
        mib(packed.binary_size),
        UBUNTU_24_04_AMD64.glibc.0,
        UBUNTU_24_04_AMD64.glibc.1,
    );
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
