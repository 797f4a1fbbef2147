//! Logging: `tracing` events reach `juju-log` at the matching level, filtered before
//! any process is spawned, with fields appended; nothing below the level costs a call.

use juju_runtime::logging::{JujuLogLayer, subscriber};
use juju_runtime::testing::FakeToolsDir;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn events_go_to_juju_log_with_matching_levels() {
    let fakes = FakeToolsDir::new().unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(JujuLogLayer::new(Some(fakes.bin_dir())).with_filter(LevelFilter::TRACE));
    tracing::subscriber::with_default(subscriber, || {
        tracing::error!("database unreachable");
        tracing::warn!(option = "site_url", "invalid config");
        tracing::info!("reconciled");
        tracing::debug!(changes = 0, "nothing to push");
        tracing::trace!("detail");
    });
    let calls = fakes.calls().unwrap();
    let got: Vec<Vec<String>> = calls.iter().map(|c| c.args.clone()).collect();
    let expected: Vec<Vec<String>> = [
        ["--log-level", "ERROR", "--", "database unreachable"],
        [
            "--log-level",
            "WARNING",
            "--",
            "invalid config option=\"site_url\"",
        ],
        ["--log-level", "INFO", "--", "reconciled"],
        ["--log-level", "DEBUG", "--", "nothing to push changes=0"],
        ["--log-level", "TRACE", "--", "detail"],
    ]
    .iter()
    .map(|a| a.iter().map(|s| (*s).to_owned()).collect())
    .collect();
    assert_eq!(got, expected);
    assert!(calls.iter().all(|c| c.tool == "juju-log"));
}

#[test]
fn the_default_info_filter_spawns_nothing_for_debug() {
    let fakes = FakeToolsDir::new().unwrap();
    let subscriber = subscriber(true, LevelFilter::INFO, Some(fakes.bin_dir()));
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..50 {
            tracing::debug!(n, "debug line");
        }
        tracing::info!("one info line");
    });
    let calls = fakes.calls().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].args,
        ["--log-level", "INFO", "--", "one info line"]
    );
}

#[test]
fn outside_juju_nothing_goes_to_juju_log() {
    let fakes = FakeToolsDir::new().unwrap();
    let subscriber = subscriber(false, LevelFilter::TRACE, Some(fakes.bin_dir()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("to stderr");
    });
    assert!(fakes.calls().unwrap().is_empty());
}

#[test]
fn a_failing_juju_log_does_not_loop_or_panic() {
    let fakes = FakeToolsDir::new().unwrap();
    fakes
        .answer(
            "juju-log",
            juju_runtime::testing::FakeAnswer::error(1, "bad request: wrong context ID"),
        )
        .unwrap();
    let subscriber = subscriber(true, LevelFilter::TRACE, Some(fakes.bin_dir()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("hello");
    });
    // One call for the event; the runner's own trace event is not forwarded again.
    assert_eq!(fakes.calls().unwrap().len(), 1);
}

#[test]
fn an_unknown_hook_is_logged_not_refused() {
    let fakes = FakeToolsDir::new().unwrap();
    let env = [
        ("JUJU_UNIT_NAME", "indico/0"),
        ("JUJU_MODEL_NAME", "m"),
        ("JUJU_MODEL_UUID", "6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42"),
        ("JUJU_VERSION", "3.6.1"),
        ("JUJU_CHARM_DIR", "/var/lib/juju/agents/unit-indico-0/charm"),
        ("JUJU_DISPATCH_PATH", "hooks/collect-metrics"),
        ("JUJU_HOOK_NAME", "collect-metrics"),
    ];
    let subscriber = subscriber(true, LevelFilter::INFO, Some(fakes.bin_dir()));
    let ctx = tracing::subscriber::with_default(subscriber, || {
        juju_runtime::JujuContext::from_vars(env).unwrap()
    });
    assert_eq!(
        ctx.event,
        juju_runtime::Event::Unknown("collect-metrics".to_owned())
    );
    let calls = fakes.calls().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].args[..2], ["--log-level", "WARNING"]);
    assert!(
        calls[0].args[3].contains("collect-metrics"),
        "{:?}",
        calls[0].args
    );
}
