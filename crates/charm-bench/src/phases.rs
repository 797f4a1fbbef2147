//! The measurements on a deployed unit, in the order the bench runs them: cold deploy,
//! hooks and restarts, warm restart (pebble-ready), serving, load.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use indico_substrate::cli::api::Request;

use crate::BenchError;
use crate::figures::{hook_figures, restart_case};
use crate::probe::Probe;
use crate::record::RunRecord;
use crate::report::{LoadFigures, Report, ServingCase, TimeToActive};
use crate::session::{HOST, Session};
use crate::substrate::APP;
use crate::wrk::{self, WrkRun};

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Extra runs per measured hook (20 runs in all by default).
    pub repeats: u32,
    /// Set-and-reset cycles over the config options.
    pub option_cycles: u32,
    /// Seconds per serving case.
    pub serving_seconds: u64,
    /// Seconds of the load run.
    pub load_seconds: u64,
}

/// Options changed one at a time (set, then reset), with the value set. The
/// customization repository and external plugins are left out: they fetch from the
/// network (git clone, pip), which is not what a hook costs.
pub const OPTION_CHANGES: [(&str, &str); 8] = [
    ("site_url", "http://indico.local:8080"),
    ("indico_support_email", "bench-support@mydomain.local"),
    ("indico_public_support_email", "bench-public@mydomain.local"),
    ("indico_no_reply_email", "bench-noreply@mydomain.local"),
    ("enable_roombooking", "true"),
    ("customization_debug", "true"),
    ("uwsgi_processes", "3"),
    ("uwsgi_threads", "4"),
];

const HOOK_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a serving case waits for Indico to answer before it starts.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Deploys the charm and its backends with `install` repeated; returns the seconds to
/// HTTP 200 and to active, and the install runs.
pub fn deploy_cold(
    session: &Session,
    dispatch: &Path,
    plan: &Plan,
) -> Result<(TimeToActive, Vec<RunRecord>), BenchError> {
    session.set_repeats(&[("install", plan.repeats)])?;
    let start = Instant::now();
    eprintln!("==> deploying indico and its backends");
    session.substrate.deploy_charm(dispatch)?;
    session.substrate.deploy_backends()?;
    let to_200 = session.wait_http_200(start, Duration::from_secs(1500))?;
    eprintln!("    HTTP 200 after {to_200:.1} s");
    session
        .substrate
        .wait_active_idle(Duration::from_secs(600))?;
    let to_active = start.elapsed().as_secs_f64();
    session.set_repeats(&[])?;
    let install: Vec<RunRecord> = session
        .records()?
        .into_iter()
        .filter(|r| r.hook == "install")
        .collect();
    Ok((
        TimeToActive {
            case: "cold".into(),
            from: "`deploy` of the charm (images cached) + backends deployed and integrated; empty database (db prepare)".into(),
            seconds_to_http_200: to_200,
            seconds_to_active: Some(to_active),
        },
        install,
    ))
}

/// Creates an admin so that `/` is Indico's home page (200) rather than the bootstrap
/// redirect. The password is random, passed in process to the controller, never printed.
pub fn add_admin(session: &Session) -> Result<(), BenchError> {
    let mut bytes = [0u8; 18];
    let mut urandom = std::fs::File::open("/dev/urandom")
        .map_err(|e| BenchError::io("open", "/dev/urandom", e))?;
    std::io::Read::read_exact(&mut urandom, &mut bytes)
        .map_err(|e| BenchError::io("read", "/dev/urandom", e))?;
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let params = BTreeMap::from([
        ("email".to_owned(), "bench-admin@example.com".to_owned()),
        ("password".to_owned(), password),
    ]);
    session.substrate.run_action("add-admin", params)?;
    session.wait_settled(HOOK_TIMEOUT)
}

fn len(session: &Session) -> Result<usize, BenchError> {
    Ok(session.records()?.len())
}

/// Config changes (with no-op repeats), relation-changed, update-status.
pub fn hooks(session: &Session, plan: &Plan, report: &mut Report) -> Result<(), BenchError> {
    let sub = &session.substrate;
    let mut changes: Vec<RunRecord> = Vec::new();
    let mut noops: Vec<RunRecord> = Vec::new();
    for cycle in 0..plan.option_cycles {
        for (index, (key, value)) in OPTION_CHANGES.iter().enumerate() {
            let first = cycle == 0 && index == 0;
            session.set_repeats(&[("config-changed", if first { plan.repeats } else { 0 })])?;
            eprintln!("==> config {key}={value} (cycle {})", cycle + 1);
            let since = len(session)?;
            sub.config_set(key, value)?;
            let set = session.wait_runs(
                since,
                "config-changed",
                1 + if first { plan.repeats as usize } else { 0 },
                HOOK_TIMEOUT,
            )?;
            if cycle == 0 {
                report
                    .restarts
                    .push(restart_case(&format!("config {key}={value}"), &set[..1]));
            }
            changes.push(set[0].clone());
            noops.extend(set.iter().skip(1).cloned());
            session.set_repeats(&[])?;
            let since = len(session)?;
            sub.config_reset(key)?;
            let reset = session.wait_runs(since, "config-changed", 1, HOOK_TIMEOUT)?;
            if cycle == 0 {
                report
                    .restarts
                    .push(restart_case(&format!("config {key} reset"), &reset[..1]));
            }
            changes.push(reset[0].clone());
        }
    }
    if !noops.is_empty() {
        report.restarts.insert(
            0,
            restart_case("config-changed, no-op (must be none)", &noops),
        );
        report.hooks.extend(hook_figures(
            session,
            "config-changed, no-op",
            "runs 2.. of a config-changed, same environment, all core relations present",
            &noops,
        ));
    }
    report.hooks.extend(hook_figures(
        session,
        "config-changed, one option changed",
        "each option of OPTION_CHANGES set, then reset (the hook Juju runs for the change)",
        &changes,
    ));

    eprintln!("==> redis-cache removed and related again (relation-changed)");
    let since = len(session)?;
    sub.request(&Request::RemoveRelation {
        a: format!("{APP}:redis-cache"),
        b: "redis-cache".into(),
    })?;
    session.wait_runs(since, "redis-cache-relation-broken", 1, HOOK_TIMEOUT)?;
    session.set_repeats(&[("redis-cache-relation-changed", plan.repeats)])?;
    let since = len(session)?;
    sub.request(&Request::Integrate {
        a: format!("{APP}:redis-cache"),
        b: "redis-cache".into(),
    })?;
    let changed = session.wait_runs(
        since,
        "redis-cache-relation-changed",
        1 + plan.repeats as usize,
        HOOK_TIMEOUT,
    )?;
    session.set_repeats(&[])?;
    sub.wait_active_idle(HOOK_TIMEOUT)?;
    report.restarts.push(restart_case(
        "redis-cache-relation-changed (cache restored)",
        &changed[..1],
    ));
    report.restarts.push(restart_case(
        "redis-cache-relation-changed, repeated (same data)",
        &changed[1..],
    ));
    report.hooks.extend(hook_figures(
        session,
        "redis-cache-relation-changed",
        "the provider's data after re-relating (run 1), then repeats with the same data",
        &changed,
    ));

    eprintln!("==> waiting for update-status");
    session.set_repeats(&[("update-status", plan.repeats)])?;
    let since = len(session)?;
    let status = session.wait_runs(
        since,
        "update-status",
        1 + plan.repeats as usize,
        HOOK_TIMEOUT,
    )?;
    session.set_repeats(&[])?;
    report.restarts.push(restart_case("update-status", &status));
    report.hooks.extend(hook_figures(
        session,
        "update-status",
        "the controller's update-status timer, then repeats",
        &status,
    ));
    Ok(())
}

/// Restarts the workload containers (Pebble restarts, the API layers are gone) twice:
/// first to time HTTP 200 and active with every hook running once (warm start), then with
/// `indico-pebble-ready` repeated, for its hook figures.
pub fn warm(session: &Session, plan: &Plan, report: &mut Report) -> Result<(), BenchError> {
    eprintln!("==> restarting the workload containers (warm start)");
    session.set_repeats(&[])?;
    let since = len(session)?;
    let start = Instant::now();
    session.substrate.restart_workloads()?;
    let to_200 = session.wait_http_200(start, HOOK_TIMEOUT)?;
    // The model says active from before the restart until the ready hooks have run.
    session.wait_runs(since, "indico-pebble-ready", 1, HOOK_TIMEOUT)?;
    session.substrate.wait_active_idle(HOOK_TIMEOUT)?;
    report.time_to_active.push(TimeToActive {
        case: "warm".into(),
        from: "restart of the four workload containers (Pebble and every service start afresh; database migrated, images cached)".into(),
        seconds_to_http_200: to_200,
        seconds_to_active: Some(start.elapsed().as_secs_f64()),
    });
    session.wait_settled(HOOK_TIMEOUT)?;

    eprintln!("==> restarting the workload containers again (pebble-ready repeated)");
    session.set_repeats(&[("indico-pebble-ready", plan.repeats)])?;
    let since = len(session)?;
    session.substrate.restart_workloads()?;
    let ready = session.wait_runs(
        since,
        "indico-pebble-ready",
        1 + plan.repeats as usize,
        HOOK_TIMEOUT,
    )?;
    session.set_repeats(&[])?;
    session.substrate.wait_active_idle(HOOK_TIMEOUT)?;
    report.restarts.push(restart_case(
        "indico-pebble-ready after a container restart",
        &ready[..1],
    ));
    report
        .restarts
        .push(restart_case("indico-pebble-ready, repeated", &ready[1..]));
    report.hooks.extend(hook_figures(
        session,
        "indico-pebble-ready",
        "after the workload containers restarted (run 1), then repeats",
        &ready,
    ));
    Ok(())
}

/// Picks a static PNG that nginx serves from the image's static directory, at the URL
/// Indico uses for it (`/images/...`, `/dist/...`).
fn static_asset(session: &Session, probe: &Probe) -> Result<String, BenchError> {
    let listing = session.substrate.exec_in(
        "indico-nginx",
        "cd /srv/indico/static && find images dist -type f -name '*.png' -size +2k -size -64k | sort | head -20",
    )?;
    for file in listing.lines() {
        // nginx maps /images/... and /dist/... onto the static directory (as Indico's
        // URLs are), not a /static/ prefix: see files/nginx/nginx.conf.j2.
        let path = format!("/{}", file.trim_start_matches("./"));
        if let Some((200, _)) = probe.get(&path) {
            return Ok(path);
        }
    }
    Err(BenchError::Malformed {
        what: "the nginx image's /srv/indico/static".into(),
        detail: "no PNG of 2-64 KiB under images/ or dist/ that nginx serves".into(),
    })
}

/// Static asset and home page, through nginx (:8080) and directly against uWSGI (:8081),
/// all on the pod's loopback.
pub fn serving(
    session: &Session,
    plan: &Plan,
    script: &Path,
    report: &mut Report,
) -> Result<(), BenchError> {
    let address = session.substrate.wait_active_idle(HOOK_TIMEOUT)?;
    let probe = Probe::new(&format!("{address}:8080"), HOST)?;
    let asset = static_asset(session, &probe)?;
    let pid = session.substrate.pod_netns_pid()?;
    let cases = [
        (
            "static asset via nginx",
            format!("http://127.0.0.1:8080{asset}"),
        ),
        (
            "static asset direct to uWSGI",
            format!("http://127.0.0.1:8081{asset}"),
        ),
        ("home page via nginx", "http://127.0.0.1:8080/".to_owned()),
        (
            "home page direct to uWSGI",
            "http://127.0.0.1:8081/".to_owned(),
        ),
    ];
    for (case, url) in cases {
        // Each case starts with Indico answering: a case that floods uWSGI (thousands of
        // static requests) runs its workers into max-requests, and the next case would
        // otherwise time their reload (5-10 s of loading Indico) instead of serving.
        let settled = Instant::now();
        let answering = || matches!(probe.get("/"), Some((200, _)));
        while !answering() {
            if settled.elapsed() > SETTLE_TIMEOUT {
                return Err(BenchError::Malformed {
                    what: format!("the home page before {case:?}"),
                    detail: format!("no 200 within {} s", SETTLE_TIMEOUT.as_secs()),
                });
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        eprintln!(
            "==> wrk {case}: {url} (Indico answered after {:.1} s)",
            settled.elapsed().as_secs_f64()
        );
        let spec = WrkRun {
            url: url.clone(),
            host: HOST.into(),
            connections: 10,
            threads: 2,
            duration: Duration::from_secs(plan.serving_seconds),
            netns_pid: Some(pid),
        };
        let figures = wrk::run(&spec, script)?;
        report.serving.push(ServingCase {
            case: case.into(),
            url,
            connections: spec.connections,
            seconds: plan.serving_seconds,
            requests_per_second: figures.requests_per_second(),
            wrk: figures,
        });
    }
    Ok(())
}

/// 50 clients against the home page from the host, through the pod's address.
pub fn load(
    session: &Session,
    plan: &Plan,
    script: &Path,
    report: &mut Report,
) -> Result<(), BenchError> {
    let address = session.substrate.wait_active_idle(HOOK_TIMEOUT)?;
    let url = format!("http://{address}:8080/");
    eprintln!(
        "==> load: 50 clients for {} s against {url}",
        plan.load_seconds
    );
    let spec = WrkRun {
        url: url.clone(),
        host: HOST.into(),
        connections: 50,
        threads: 2,
        duration: Duration::from_secs(plan.load_seconds),
        netns_pid: None,
    };
    let figures = wrk::run(&spec, script)?;
    let p80_ms = figures.p80_us as f64 / 1e3;
    let error_rate = figures.error_rate();
    report.load = Some(LoadFigures {
        url,
        clients: spec.connections,
        seconds: plan.load_seconds,
        p80_ms,
        error_rate,
        meets_bar: p80_ms < 1500.0 && error_rate < 0.01,
        requests_per_second: figures.requests_per_second(),
        wrk: figures,
    });
    Ok(())
}
