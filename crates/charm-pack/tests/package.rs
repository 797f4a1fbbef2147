//! The packed `indico_ubuntu-24.04-amd64.charm` as Juju would receive it: unzipped with
//! Debian's `unzip` and with the zip crate, every rule of juju-contract §3 checked on what
//! comes out, the dispatch binary's glibc needs cross-checked with `objdump -T`, and the
//! unpacked `dispatch` run the way the unit agent runs it (§1.1, §1.3).
//!
//! The binary is `INDICO_CHARM_BIN` when set (`tests/run` builds the release binary first),
//! else this test builds it with the pack's own release build (`cargo build --release`).

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use charm_pack::elf::{self, GlibcVersion};
use charm_pack::manifest::UBUNTU_24_04_AMD64;
use charm_pack::{Packed, archive, pack, release_build, rules};
use serde_yaml::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The charm's release binary, built at most once per test process.
fn charm_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| match std::env::var_os("INDICO_CHARM_BIN") {
        Some(path) => PathBuf::from(path),
        None => release_build::build_release_binary(&repo()).unwrap(),
    })
}

/// The package, packed once per test process into a temporary directory.
fn packed() -> &'static Packed {
    static PACKED: OnceLock<(tempfile::TempDir, Packed)> = OnceLock::new();
    let (_, packed) = PACKED.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        let packed = pack(&repo(), charm_binary(), &UBUNTU_24_04_AMD64, out.path()).unwrap();
        println!(
            "packed {}: {} bytes, dispatch {} bytes",
            packed.path.display(),
            packed.size,
            packed.binary_size
        );
        (out, packed)
    });
    packed
}

/// The package unzipped by Debian's `unzip` into a fresh directory.
fn unzipped() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("unzip")
        .arg("-q")
        .arg(&packed().path)
        .arg("-d")
        .arg(dir.path())
        .status()
        .expect("Debian's unzip (apt-get install unzip)");
    assert!(status.success(), "unzip failed: {status}");
    dir
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn file_name_is_the_platform_charmcraft_names() {
    assert_eq!(
        packed().path.file_name().unwrap(),
        "indico_ubuntu-24.04-amd64.charm"
    );
    assert_eq!(
        packed().size,
        std::fs::metadata(&packed().path).unwrap().len()
    );
}

#[test]
fn debian_zipinfo_shows_unix_modes() {
    let output = Command::new("unzip")
        .arg("-Z")
        .arg(&packed().path)
        .output()
        .unwrap();
    assert!(output.status.success());
    let listing = String::from_utf8(output.stdout).unwrap();
    // zipinfo lines: "-rwxr-xr-x  2.0 unx  4007304 b- defN 80-Jan-01 00:00 dispatch"
    let entries: BTreeMap<&str, (&str, &str)> = listing
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let is_entry = fields.len() == 9 && fields[0].len() == 10;
            is_entry.then(|| (fields[8], (fields[0], fields[2])))
        })
        .collect();
    let expected: BTreeMap<&str, (&str, &str)> = [
        ("README.md", ("-rw-r--r--", "unx")),
        ("actions.yaml", ("-rw-r--r--", "unx")),
        ("config.yaml", ("-rw-r--r--", "unx")),
        ("dispatch", ("-rwxr-xr-x", "unx")),
        ("icon.svg", ("-rw-r--r--", "unx")),
        ("manifest.yaml", ("-rw-r--r--", "unx")),
        ("metadata.yaml", ("-rw-r--r--", "unx")),
    ]
    .into();
    assert_eq!(entries, expected, "{listing}");
    let test = Command::new("unzip")
        .arg("-tq")
        .arg(&packed().path)
        .output()
        .unwrap();
    assert!(test.status.success(), "unzip -t: {test:?}");
}

#[test]
fn debian_unzip_gives_the_repository_files_and_an_executable_dispatch() {
    let dir = unzipped();
    for (source, archived) in charm_pack::contents::REPOSITORY_FILES {
        assert_eq!(
            std::fs::read(dir.path().join(archived)).unwrap(),
            std::fs::read(repo().join(source)).unwrap(),
            "{archived}"
        );
        assert_eq!(mode_of(&dir.path().join(archived)), 0o644, "{archived}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("dispatch")).unwrap(),
        std::fs::read(charm_binary()).unwrap()
    );
    assert_eq!(mode_of(&dir.path().join("dispatch")), 0o755);
}

#[test]
fn zip_crate_reads_back_the_package_and_every_rule_holds() {
    let read = archive::read(&packed().path).unwrap();
    assert_eq!(read, packed().contents);
    if let Err(found) = rules::check(&read, &UBUNTU_24_04_AMD64) {
        panic!("the packed charm breaks rules:\n{found}");
    }
}

#[test]
fn metadata_is_format_v2_with_containers_on_oci_image_resources() {
    let dir = unzipped();
    let meta: Value =
        serde_yaml::from_slice(&std::fs::read(dir.path().join("metadata.yaml")).unwrap()).unwrap();
    for key in ["series", "min-juju-version", "deployment"] {
        assert!(meta.get(key).is_none(), "format v2 forbids {key}");
    }
    let containers = meta["containers"].as_mapping().unwrap();
    assert_eq!(containers.len(), 4);
    for (name, container) in containers {
        let resource = container["resource"].as_str().unwrap();
        assert_eq!(
            meta["resources"][resource]["type"], "oci-image",
            "container {name:?} -> {resource}"
        );
    }
    let manifest: Value =
        serde_yaml::from_slice(&std::fs::read(dir.path().join("manifest.yaml")).unwrap()).unwrap();
    let bases = manifest["bases"].as_sequence().unwrap();
    assert_eq!(bases.len(), 1);
    assert_eq!(bases[0]["name"], "ubuntu");
    assert_eq!(bases[0]["channel"], "24.04");
    assert_eq!(
        bases[0]["architectures"],
        serde_yaml::from_str::<Value>("[amd64]").unwrap()
    );
    assert!(
        manifest["analysis"]["attributes"]
            .as_sequence()
            .is_some_and(|a| !a.is_empty())
    );
}

#[test]
fn dispatch_needs_glibc_at_most_2_39_and_objdump_agrees() {
    let dispatch = &packed().contents.get("dispatch").unwrap().data;
    let facts = elf::inspect(dispatch).unwrap();
    assert_eq!(facts.machine, object_machine_x86_64());
    let objdump = Command::new("objdump")
        .arg("-T")
        .arg(charm_binary())
        .output()
        .expect("binutils' objdump");
    assert!(objdump.status.success());
    let from_objdump = String::from_utf8_lossy(&objdump.stdout)
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(GlibcVersion::from_need)
        .max();
    assert_eq!(facts.max_glibc, from_objdump, "object crate vs objdump -T");
    let needed = facts.max_glibc.expect("a glibc-linked binary");
    println!("dispatch needs GLIBC_{needed}");
    assert!(
        (needed.major, needed.minor) <= (2, 39),
        "needs GLIBC_{needed}"
    );
}

fn object_machine_x86_64() -> u16 {
    62 // EM_X86_64
}

/// The environment the unit agent gives dispatch (juju-contract §1.3), for `hook` in the
/// charm dir `charm_dir`, with `tools` first on PATH.
fn contract_env(charm_dir: &Path, tools: &Path, hook: &str) -> Vec<(String, String)> {
    let charm_dir = charm_dir.display().to_string();
    let agent = "/var/lib/juju/agents/unit-indico-0";
    [
        ("CHARM_DIR", charm_dir.as_str()),
        ("JUJU_CHARM_DIR", charm_dir.as_str()),
        (
            "JUJU_CONTEXT_ID",
            "indico/0-unknown-hook-0123456789abcdef0123456789abcdef",
        ),
        ("JUJU_HOOK_NAME", hook),
        (
            "JUJU_AGENT_SOCKET_ADDRESS",
            &format!("{agent}/agent.socket"),
        ),
        ("JUJU_AGENT_SOCKET_NETWORK", "unix"),
        ("JUJU_UNIT_NAME", "indico/0"),
        ("JUJU_MODEL_UUID", "a8a9ad8e-7f3c-4b5e-8c1a-2f4d3e5b6c7d"),
        ("JUJU_MODEL_NAME", "indico-model"),
        ("JUJU_API_ADDRESSES", "10.0.0.1:17070"),
        ("JUJU_SLA", "unsupported"),
        ("JUJU_MACHINE_ID", ""),
        ("JUJU_PRINCIPAL_UNIT", ""),
        ("JUJU_AVAILABILITY_ZONE", ""),
        ("JUJU_VERSION", "3.6.0"),
        ("CLOUD_API_VERSION", "1.30.0"),
        ("JUJU_CHARM_HTTP_PROXY", ""),
        ("JUJU_CHARM_HTTPS_PROXY", ""),
        ("JUJU_CHARM_FTP_PROXY", ""),
        ("JUJU_CHARM_NO_PROXY", ""),
        ("APT_LISTCHANGES_FRONTEND", "none"),
        ("DEBIAN_FRONTEND", "noninteractive"),
        ("LANG", "C.UTF-8"),
        ("TERM", "tmux-256color"),
        (
            "PATH",
            &format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", tools.display()),
        ),
        ("JUJU_DISPATCH_PATH", &format!("hooks/{hook}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A directory of hook tools that record their name and arguments to `calls.log` and
/// answer nothing, so any tool call the charm makes is visible.
fn recording_tools() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("calls.log");
    for tool in [
        "juju-log",
        "config-get",
        "relation-ids",
        "relation-list",
        "relation-get",
        "relation-set",
        "is-leader",
        "status-set",
        "status-get",
        "state-get",
        "state-set",
        "secret-get",
        "network-get",
        "application-version-set",
    ] {
        let script = dir.path().join(tool);
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"{tool} $*\" >> '{}'\nexit 0\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn run_dispatch(charm_dir: &Path, env: &[(String, String)]) -> Output {
    Command::new(charm_dir.join("dispatch"))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(charm_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn unpacked_dispatch_runs_an_unknown_hook_and_exits_0() {
    let dir = unzipped();
    let tools = recording_tools();
    let env = contract_env(dir.path(), tools.path(), "unknown-hook");
    let output = run_dispatch(dir.path(), &env);
    assert!(
        output.status.success(),
        "exit {:?}, stderr {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = std::fs::read_to_string(tools.path().join("calls.log")).unwrap_or_default();
    assert!(
        calls.lines().all(|line| line.starts_with("juju-log ")),
        "an unknown hook changes nothing; calls:\n{calls}"
    );
}

#[test]
fn unpacked_dispatch_without_a_required_variable_exits_1_with_one_line() {
    let dir = unzipped();
    let tools = recording_tools();
    let env: Vec<_> = contract_env(dir.path(), tools.path(), "unknown-hook")
        .into_iter()
        .filter(|(key, _)| key != "JUJU_UNIT_NAME")
        .collect();
    let output = run_dispatch(dir.path(), &env);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("JUJU_UNIT_NAME"), "{stderr}");
}

#[test]
fn charm_dir_for_the_substrate_equals_what_unzip_gives() {
    let unzipped = unzipped();
    let written = tempfile::tempdir().unwrap();
    archive::write_charm_dir(&packed().contents, written.path()).unwrap();
    for (name, entry) in packed().contents.iter() {
        let a = written.path().join(name);
        let b = unzipped.path().join(name);
        assert_eq!(
            std::fs::read(&a).unwrap(),
            std::fs::read(&b).unwrap(),
            "{name}"
        );
        assert_eq!(mode_of(&a), mode_of(&b), "{name}");
        assert_eq!(mode_of(&a), entry.mode, "{name}");
    }
}

#[test]
fn packing_again_gives_the_same_bytes() {
    let out = tempfile::tempdir().unwrap();
    let again = pack(&repo(), charm_binary(), &UBUNTU_24_04_AMD64, out.path()).unwrap();
    assert_eq!(
        std::fs::read(&again.path).unwrap(),
        std::fs::read(&packed().path).unwrap(),
        "the archive must be reproducible"
    );
}
