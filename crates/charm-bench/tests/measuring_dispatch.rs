//! The measuring dispatch as a process, on this host: it carries a stand-in charm (a
//! shell script), runs it once per hook plus the repeats the control file asks for, passes
//! its stdout and first exit code on, and records one run per line with the Pebble counts
//! from the hook-end line. No Pebble answers here, so no service changes are recorded.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use charm_bench::payload;
use charm_bench::record::{CONTROL_FILE, Control, RUNS_FILE, read_runs};

const WRAPPER: &str = env!("CARGO_BIN_EXE_charm-bench-dispatch");

/// A charm dir whose `dispatch` is the wrapper carrying `script`.
fn charm_dir(root: &Path, script: &str) -> std::path::PathBuf {
    let charm = root.join("charm");
    std::fs::create_dir_all(&charm).unwrap();
    let stand_in = root.join("stand-in.sh");
    std::fs::write(&stand_in, script).unwrap();
    std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    payload::assemble(Path::new(WRAPPER), &stand_in, &charm.join("dispatch")).unwrap();
    charm
}

fn dispatch(charm: &Path, bench_dir: &Path, hook: &str) -> std::process::Output {
    Command::new(charm.join("dispatch"))
        .current_dir(charm)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("JUJU_HOOK_NAME", hook)
        .env("CHARM_BENCH_DIR", bench_dir)
        .output()
        .unwrap()
}

#[test]
fn each_run_is_recorded_with_its_pebble_counts_and_the_first_exit_code_wins() {
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("containers/.charm-bench");
    std::fs::create_dir_all(&bench).unwrap();
    // Fails only on its first run, so the hook's exit code must be the first run's.
    let charm = charm_dir(
        dir.path(),
        "#!/bin/sh\nn=$(cat runs 2>/dev/null || echo 0)\necho $((n+1)) > runs\necho \"hook done: 7 pebble requests, $n writes\"\n[ \"$n\" = 0 ] && exit 3\nexit 0\n",
    );
    let mut control = Control::default();
    control.repeats.insert("update-status".into(), 2);
    control.save(&bench.join(CONTROL_FILE)).unwrap();

    let output = dispatch(&charm, &bench, "update-status");
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.matches("hook done:").count(), 3, "{stdout}");

    let runs = read_runs(&bench.join(RUNS_FILE)).unwrap();
    assert_eq!(runs.len(), 3);
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.hook, "update-status");
        assert_eq!(run.run, i as u32);
        assert_eq!(run.pebble_requests, Some(7));
        assert_eq!(run.pebble_writes, Some(i as u64));
        assert!(run.max_rss_kib > 0, "{run:?}");
        assert!(
            run.end_unix_us >= run.start_unix_us + run.wall_us / 2,
            "{run:?}"
        );
        assert!(!run.tools_proxied);
        assert!(run.restarted.is_empty() && run.started.is_empty());
    }
    assert_eq!(runs[0].exit_code, Some(3));
    assert_eq!(runs[1].exit_code, Some(0));

    // A hook without repeats runs once.
    let output = dispatch(&charm, &bench, "config-changed");
    assert_eq!(output.status.code(), Some(0));
    let runs = read_runs(&bench.join(RUNS_FILE)).unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[3].hook, "config-changed");
}

#[test]
fn peak_rss_follows_what_the_charm_allocates() {
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("containers/.charm-bench");
    std::fs::create_dir_all(&bench).unwrap();
    // Holds 64 MiB in a shell variable before exiting.
    let charm = charm_dir(
        dir.path(),
        "#!/bin/sh\nif [ -f big ]; then x=$(head -c 67108864 /dev/zero | tr '\\0' a); fi\nexit 0\n",
    );
    assert!(dispatch(&charm, &bench, "small").status.success());
    std::fs::write(charm.join("big"), "").unwrap();
    assert!(dispatch(&charm, &bench, "big").status.success());
    let runs = read_runs(&bench.join(RUNS_FILE)).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(
        runs[1].max_rss_kib > runs[0].max_rss_kib + 32 * 1024,
        "small {} KiB, big {} KiB",
        runs[0].max_rss_kib,
        runs[1].max_rss_kib
    );
}

#[test]
fn without_a_bench_directory_it_is_a_plain_dispatch() {
    let dir = tempfile::tempdir().unwrap();
    let charm = charm_dir(dir.path(), "#!/bin/sh\necho plain\nexit 5\n");
    let output = dispatch(&charm, &dir.path().join("absent"), "install");
    assert_eq!(output.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "plain\n");
}

#[test]
fn a_dispatch_without_a_payload_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("dispatch");
    std::fs::copy(WRAPPER, &bare).unwrap();
    let output = Command::new(&bare).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("carries no charm binary"), "{stderr}");
}
