//! Figures for the hook performance budget (printed, never asserted):
//! - parsing a recorded relation-changed environment into a `JujuContext`;
//! - one `ProcessHookTools` call (spawn + JSON parse) against a minimal `/bin/sh` tool,
//!   the floor of this crate's per-call overhead (the real jujuc adds its RPC);
//! - one recording `FakeToolsDir` call, for reading the charm's process-level tests;
//! - a DEBUG event filtered out by the default INFO level under the juju-log layer.
//!
//! Run: `cargo bench -p juju-runtime --bench runtime_costs`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use juju_runtime::logging::subscriber;
use juju_runtime::testing::{FakeAnswer, FakeToolsDir};
use juju_runtime::{HookTools, JujuContext, ProcessHookTools};
use tracing::level_filters::LevelFilter;

fn per_iteration(total: Duration, n: u32) -> String {
    let nanos = total.as_nanos() / u128::from(n);
    if nanos >= 1_000_000 {
        format!("{:.2} ms", nanos as f64 / 1e6)
    } else if nanos >= 1_000 {
        format!("{:.2} µs", nanos as f64 / 1e3)
    } else {
        format!("{nanos} ns")
    }
}

fn time<T>(n: u32, mut f: impl FnMut() -> T) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    start.elapsed()
}

fn main() {
    let env: Vec<(String, String)> = [
        ("JUJU_UNIT_NAME", "indico/0"),
        ("JUJU_MODEL_NAME", "indico-prod"),
        ("JUJU_MODEL_UUID", "6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42"),
        ("JUJU_VERSION", "3.6.1"),
        ("JUJU_CHARM_DIR", "/var/lib/juju/agents/unit-indico-0/charm"),
        ("JUJU_DISPATCH_PATH", "hooks/database-relation-changed"),
        ("JUJU_HOOK_NAME", "database-relation-changed"),
        ("JUJU_RELATION", "database"),
        ("JUJU_RELATION_ID", "database:7"),
        ("JUJU_REMOTE_UNIT", "postgresql-k8s/0"),
        ("JUJU_REMOTE_APP", "postgresql-k8s"),
        ("JUJU_CHARM_HTTP_PROXY", "http://squid.internal:3128"),
        ("JUJU_CHARM_HTTPS_PROXY", ""),
        ("JUJU_CHARM_FTP_PROXY", ""),
        ("JUJU_CHARM_NO_PROXY", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let n = 100_000;
    let parse = time(n, || JujuContext::from_vars(env.clone()).is_ok());
    println!(
        "parse relation-changed env:            {}",
        per_iteration(parse, n)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let tool = dir.path().join("config-get");
    fs::write(
        &tool,
        "#!/bin/sh\nprintf '%s\\n' '{\"site_url\":\"https://events.example.com\",\"enable_roombooking\":false}'\n",
    )
    .expect("write tool");
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).expect("chmod");
    let minimal = ProcessHookTools::new(Some(dir.path().to_path_buf()));
    let n = 200;
    let spawn = time(n, || minimal.config_get().is_ok());
    println!(
        "config-get via minimal sh tool:        {}",
        per_iteration(spawn, n)
    );

    let fakes = FakeToolsDir::new().expect("fake tools");
    fakes
        .answer("is-leader", FakeAnswer::ok("true\n"))
        .expect("answer");
    let recording = fakes.hook_tools();
    let n = 100;
    let fake = time(n, || recording.is_leader().is_ok());
    println!(
        "is-leader via recording FakeToolsDir:  {}",
        per_iteration(fake, n)
    );

    let n = 1_000_000;
    let filtered = tracing::subscriber::with_default(
        subscriber(true, LevelFilter::INFO, Some(fakes.bin_dir())),
        || time(n, || tracing::debug!(n, "filtered out")),
    );
    println!(
        "filtered-out DEBUG event (INFO level): {}",
        per_iteration(filtered, n)
    );
}
