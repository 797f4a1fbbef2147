//! Security of the real charm on the local substrate, on one deployment (`indico-sec` with
//! `pg-sec`, `redis-broker-sec` and `redis-cache-sec`):
//!
//! 1. during `run add-admin email=... password=...` every process on the host (the pod's
//!    included) is sampled every few milliseconds: the password is on no command line but
//!    the CLI's own, and Indico's `autocreate` runs with the email as one argv element of its
//!    own, not through a shell;
//! 2. `anonymize-user` with shell syntax in the email runs no shell: the injected command
//!    leaves no file behind, and no sampled process is a shell given the address;
//! 3. neither the password nor the secret key is in the debug log, a status message, the
//!    unit's host directory, or a file readable by others under the charm dir
//!    (`/var/lib/juju`), `/srv/indico`, `/etc` or `/etc/nginx` in the pod;
//! 4. nginx sends `X-Content-Type-Options: nosniff` and `X-Frame-Options: SAMEORIGIN`, and
//!    `Strict-Transport-Security` only once `site_url` is https.
//!
//! Slow (minutes) and needs root, podman, PostgreSQL, Redis and the images, so it is
//! ignored by default: `cargo test -p indico-substrate --test pod_security -- --ignored
//! --nocapture --test-threads=1`.

mod support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use support::{
    cli, container_name, diagnosis, engine, ok, service_env, state_dir, wait_active_within,
    wait_until,
};

const APP: &str = "indico-sec";
const UNIT: &str = "indico-sec/0";
const PG: &str = "pg-sec";
const BROKER: &str = "redis-broker-sec";
const CACHE: &str = "redis-cache-sec";
const ADMIN_EMAIL: &str = "sec-admin@example.com";
const DEPLOY_WAIT: Duration = Duration::from_secs(900);
const WAIT: Duration = Duration::from_secs(300);
const SHELLS: [&str; 5] = ["sh", "bash", "dash", "ash", "zsh"];

/// Every command line seen on the host while a sampler ran (NUL-separated argv kept as a
/// list), except those of `ignore` (the test's own CLI process).
#[derive(Default)]
struct Sampled {
    argvs: BTreeSet<Vec<String>>,
    rounds: u64,
}

/// Reads `/proc/*/cmdline` in a loop until `stop` is set.
fn sample_processes(stop: &AtomicBool, ignore: u32) -> Sampled {
    let mut sampled = Sampled::default();
    while !stop.load(Ordering::SeqCst) {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            break;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if pid == ignore || pid == std::process::id() {
                continue;
            }
            let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            if raw.is_empty() {
                continue;
            }
            let argv: Vec<String> = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            sampled.argvs.insert(argv);
        }
        sampled.rounds += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    sampled
}

/// Runs `indico-substrate <args>` while sampling every process's command line; returns the
/// CLI's output and what was seen.
fn run_sampled(args: &[&str]) -> (std::process::Output, Sampled) {
    let child = Command::new(env!("CARGO_BIN_EXE_indico-substrate"))
        .args(args)
        .current_dir(support::repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("indico-substrate runs");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let ignore = child.id();
    let sampler = std::thread::spawn(move || sample_processes(&flag, ignore));
    let output = child.wait_with_output().expect("indico-substrate finishes");
    stop.store(true, Ordering::SeqCst);
    let sampled = sampler.join().expect("the sampler finishes");
    (output, sampled)
}

/// Whether `argv` is a shell running a script (`sh -c ...`).
fn is_shell_script(argv: &[String]) -> bool {
    let program = argv
        .first()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .unwrap_or_default();
    SHELLS.contains(&program) && argv.iter().any(|a| a == "-c")
}

/// Files under `roots` in `container` that others may read and that contain any of
/// `needles` (the patterns go through a 0600 file, never onto a command line).
fn readable_files_containing(container: &str, roots: &[&str], needles: &[&str]) -> Vec<String> {
    let patterns = format!("{}\n", needles.join("\n"));
    let script = format!(
        "umask 077; cat > /tmp/.sec-patterns; \
         find {} -xdev -type f -perm -o+r -size -4M -exec grep -l -F -f /tmp/.sec-patterns {{}} + ; \
         rm -f /tmp/.sec-patterns; exit 0",
        roots.join(" ")
    );
    // grep's exit 1 (nothing found) is not a failure: the script exits 0 after it.
    match engine().podman().run_with_stdin(
        ["exec", "-i", container, "sh", "-c", &script],
        patterns.as_bytes(),
    ) {
        Ok(out) => out.stdout.lines().map(str::to_owned).collect(),
        Err(e) => panic!("searching {container} {roots:?}: {e}"),
    }
}

/// Files under `dir` on the host (recursively) whose content contains any of `needles`.
fn host_files_containing(dir: &std::path::Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file()
            && let Ok(bytes) = std::fs::read(&path)
        {
            let text = String::from_utf8_lossy(&bytes);
            if needles.iter().any(|n| text.contains(n)) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

fn header(response: &reqwest::blocking::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// nginx's headers for every answer: no MIME sniffing, no framing by other sites.
fn assert_security_headers(answer: &reqwest::blocking::Response, path: &str) {
    assert_eq!(
        header(answer, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "GET {path}: {:?}",
        answer.headers()
    );
    assert_eq!(
        header(answer, "x-frame-options").as_deref(),
        Some("SAMEORIGIN"),
        "GET {path}: {:?}",
        answer.headers()
    );
}

/// GET `url` with `host` (and `X-Forwarded-Proto: https` when `https`, as an ingress in
/// front of an https site sends it) until nginx answers something other than 502, bounded.
fn get(client: &Client, url: &str, host: &str, https: bool) -> reqwest::blocking::Response {
    let start = Instant::now();
    loop {
        let mut request = client.get(url).header("Host", host);
        if https {
            request = request.header("X-Forwarded-Proto", "https");
        }
        let answer = request.send();
        if let Ok(response) = answer
            && response.status() != reqwest::StatusCode::BAD_GATEWAY
        {
            return response;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "GET {url} (Host {host}): no answer but 502 within 180 s\n{}",
            diagnosis()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
#[ignore = "slow (minutes): runs the real charm in podman pods; needs root, podman, PostgreSQL, Redis"]
fn secrets_stay_secret_and_actions_run_no_shell() {
    let _teardown = support::Teardown::new(&[APP, PG, BROKER, CACHE]);
    let total = Instant::now();
    println!("deploy + integrate");
    support::deploy_stack(APP, PG, BROKER, CACHE, &[]);
    wait_active_within(UNIT, DEPLOY_WAIT);
    let secret_key = service_env(UNIT, "indico", "indico", "INDICO_SECRET_KEY")
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| panic!("indico has no secret key\n{}", diagnosis()));

    // 1. add-admin under the sampler.
    println!("1. add-admin, sampling every command line");
    let password = indico_substrate::host::random_hex(16).expect("random bytes");
    let (added, sampled) = run_sampled(&[
        "run",
        UNIT,
        "add-admin",
        &format!("email={ADMIN_EMAIL}"),
        &format!("password={password}"),
    ]);
    let stdout = String::from_utf8_lossy(&added.stdout);
    assert!(
        added.status.success() && stdout.contains(ADMIN_EMAIL),
        "add-admin failed: {stdout}{}",
        String::from_utf8_lossy(&added.stderr)
    );
    println!(
        "  {} sampling rounds, {} distinct command lines",
        sampled.rounds,
        sampled.argvs.len()
    );
    let leaks: Vec<&Vec<String>> = sampled
        .argvs
        .iter()
        .filter(|argv| argv.iter().any(|a| a.contains(&password)))
        .collect();
    assert!(
        leaks.is_empty(),
        "the password is on command lines: {leaks:?}"
    );
    // The sampler saw the action's own process, so a leak there would have been caught.
    let autocreate: Vec<&Vec<String>> = sampled
        .argvs
        .iter()
        .filter(|argv| argv.iter().any(|a| a == "autocreate"))
        .collect();
    assert!(
        !autocreate.is_empty(),
        "the sampler never saw `indico autocreate` ({} rounds): it cannot vouch for argv",
        sampled.rounds
    );
    for argv in &autocreate {
        assert!(
            argv.iter().any(|a| a == ADMIN_EMAIL),
            "autocreate without the email as an argument of its own: {argv:?}"
        );
        assert!(
            !is_shell_script(argv),
            "autocreate through a shell: {argv:?}"
        );
    }
    let shells: Vec<&Vec<String>> = sampled
        .argvs
        .iter()
        .filter(|argv| is_shell_script(argv) && argv.iter().any(|a| a.contains(ADMIN_EMAIL)))
        .collect();
    assert!(shells.is_empty(), "a shell ran with the email: {shells:?}");
    println!("  autocreate argv: {:?}", autocreate[0]);

    // 2. Shell syntax in anonymize-user's email runs nothing.
    println!("2. anonymize-user with shell syntax in the address");
    let indico = container_name(UNIT, "indico");
    let injected = [
        "x@example.com;touch /tmp/injected-semicolon",
        "$(touch /tmp/injected-subst)@example.com",
        "`touch /tmp/injected-backtick`@example.com",
    ];
    for email in injected {
        let (answer, sampled) =
            run_sampled(&["run", UNIT, "anonymize-user", &format!("email={email}")]);
        println!(
            "  {email:?}: exit {:?}, {} rounds",
            answer.status.code(),
            sampled.rounds
        );
        let shells: Vec<&Vec<String>> = sampled
            .argvs
            .iter()
            .filter(|argv| {
                is_shell_script(argv) && argv.iter().any(|a| a.contains("touch /tmp/injected"))
            })
            .collect();
        assert!(
            shells.is_empty(),
            "a shell ran the address {email:?}: {shells:?}"
        );
    }
    for container in [indico.as_str(), &container_name(UNIT, "charm")] {
        let left = engine()
            .podman()
            .run([
                "exec",
                container,
                "sh",
                "-c",
                "ls /tmp/injected-* 2>/dev/null || true",
            ])
            .map(|o| o.stdout)
            .unwrap_or_default();
        assert!(
            left.trim().is_empty(),
            "{container}: injected commands ran: {left}"
        );
    }

    // 3. The password and the secret key are nowhere they should not be.
    println!("3. no secret in logs, statuses or readable files");
    let needles = [password.as_str(), secret_key.as_str()];
    // The debug log is what `juju debug-log` shows; controller.log is the substrate's own
    // (its request log names action parameters but not their values, and it is 0600).
    for log in ["debug.log", "controller.log"] {
        let text = std::fs::read_to_string(state_dir().join(log)).unwrap_or_default();
        for (what, needle) in [("password", &password), ("secret key", &secret_key)] {
            assert!(!text.contains(needle.as_str()), "the {what} is in {log}");
        }
    }
    let status = cli(&["status"]);
    let status_text = String::from_utf8_lossy(&status.stdout);
    let unit = support::unit_record(UNIT).expect("the unit is in the model");
    let messages = format!(
        "{status_text}\n{}\n{}",
        unit.workload.current.message, unit.agent.current.message
    );
    for needle in needles {
        assert!(
            !messages.contains(needle),
            "a secret is in a status message"
        );
    }
    let unit_dir = state_dir().join("units").join(UNIT.replace('/', "-"));
    let host_hits = host_files_containing(&unit_dir, &needles);
    assert!(
        host_hits.is_empty(),
        "secrets in the unit's host directory: {host_hits:?}"
    );
    let log_mode = std::fs::metadata(state_dir().join("controller.log"))
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .expect("controller.log exists");
    assert_eq!(log_mode, 0o600, "controller.log is readable by others");
    let model_mode = std::fs::metadata(state_dir().join("model.json"))
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777)
        .expect("model.json exists");
    assert_eq!(
        model_mode, 0o600,
        "model.json (which holds the secrets) is not 0600"
    );
    for (container, roots) in [
        (container_name(UNIT, "charm"), vec!["/var/lib/juju"]),
        (indico.clone(), vec!["/srv/indico", "/etc"]),
        (
            container_name(UNIT, "indico-celery"),
            vec!["/srv/indico", "/etc"],
        ),
        (
            container_name(UNIT, "indico-nginx"),
            vec!["/etc/nginx", "/srv/indico"],
        ),
    ] {
        let hits = readable_files_containing(&container, &roots, &needles);
        assert!(
            hits.is_empty(),
            "{container}: files readable by others hold a secret: {hits:?}"
        );
    }

    // 4. nginx's security headers; HSTS only for https.
    println!("4. nginx security headers");
    let address = support::unit_address(UNIT);
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("an HTTP client");
    let base = format!("http://{address}:8080");
    for path in ["/", "/health", "/images/indico.ico"] {
        let answer = get(&client, &format!("{base}{path}"), "indico-sec.local", false);
        assert_security_headers(&answer, path);
        assert!(
            header(&answer, "strict-transport-security").is_none(),
            "GET {path}: HSTS on an http site: {:?}",
            answer.headers()
        );
    }
    ok(&["config", APP, "site_url=https://sec.example.com"]);
    wait_until("indico's BASE_URL is https", WAIT, || {
        service_env(UNIT, "indico", "indico", "INDICO_BASE_URL").as_deref()
            == Some("https://sec.example.com")
    });
    wait_active_within(UNIT, WAIT);
    for path in ["/", "/health"] {
        let answer = get(&client, &format!("{base}{path}"), "sec.example.com", true);
        let hsts = header(&answer, "strict-transport-security").unwrap_or_default();
        assert!(
            hsts.contains("max-age="),
            "GET {path} on an https site: no HSTS: {:?}",
            answer.headers()
        );
        assert_security_headers(&answer, path);
    }
    println!("security suite: {:.1} s", total.elapsed().as_secs_f64());
}
