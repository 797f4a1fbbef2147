//! `dispatch`: the entry point Juju runs for every hook and action. Parses the hook
//! environment, sets up logging to juju-log, builds the hook tools and one Pebble client per
//! workload container, and runs the reconcile on a current-thread tokio runtime.
//!
//! Exit codes: 0 when the hook did its work or reported why it cannot (a status); 1 with one
//! line on stderr when something unexpected failed (Juju then retries the hook).

use std::collections::BTreeMap;
use std::process::ExitCode;

use indico_charm::charm;
use indico_charm::containers::ContainerName;
use juju_runtime::{Event, JujuContext, ProcessHookTools};
use pebble_client::{Client, RequestCounts};
use tracing::level_filters::LevelFilter;

fn main() -> ExitCode {
    let context = match JujuContext::from_env() {
        Ok(context) => context,
        Err(e) => {
            eprintln!("indico-charm: cannot read the hook environment: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = juju_runtime::logging::init_logging(LevelFilter::INFO) {
        eprintln!("indico-charm: cannot set up logging: {e}");
        return ExitCode::FAILURE;
    }
    let tools = ProcessHookTools::new(None);
    let mut pebbles = BTreeMap::new();
    for container in ContainerName::ALL {
        match Client::new(container.pebble_socket()) {
            Ok(client) => {
                pebbles.insert(container, client);
            }
            Err(e) => {
                eprintln!("indico-charm: cannot create the Pebble client for {container}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("indico-charm: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let probe = indico_charm::gather::TcpProbe::default();
    let result = runtime.block_on(charm::run_probed(&context, &tools, &pebbles, &probe));
    report_pebble_requests(&context, &pebbles);
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{} failed: {e}", context.event.name());
            eprintln!("indico-charm: {} failed: {e}", context.event.name());
            ExitCode::FAILURE
        }
    }
}

/// One line at the end of every hook: how many Pebble requests it made and how many of them
/// could change a container (a no-op hook must show 0 writes). It goes to stdout, which Juju
/// logs at DEBUG under `unit.<unit>.<hook>` without a `juju-log` call; actions are skipped
/// because Juju puts an action's stdout into its results.
fn report_pebble_requests(context: &JujuContext, pebbles: &BTreeMap<ContainerName, Client>) {
    if matches!(context.event, Event::Action(_)) {
        return;
    }
    let total = pebbles
        .values()
        .map(Client::request_counts)
        .fold(RequestCounts::default(), |sum, counts| sum + counts);
    println!(
        "hook done: {} pebble requests, {} writes",
        total.requests, total.writes
    );
}
