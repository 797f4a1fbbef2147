//! `substrate-bench`: prints figures for the substrate's hot paths (not asserted
//! anywhere): one hook tool call in process, the same call through the real `jujuc`
//! binary and the agent socket, and deploy-to-idle of a two-unit local shell charm.
//!
//! Run: `cargo run --release -p indico-substrate --bin substrate-bench` (it expects the
//! `jujuc` binary next to itself, which `cargo build --release -p indico-substrate
//! --bins` puts there).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indico_substrate::agent::{Controller, ControllerConfig, LocalDispatcher};
use indico_substrate::hook_tools::server::{ToolHost, ToolServer};
use indico_substrate::hook_tools::{HookContext, HookInfo, ToolOutput, ToolRequest, run_tool};
use indico_substrate::model::{AppKind, CharmMeta, Model};

struct Host(Mutex<(Model, HookContext)>);

impl ToolHost for Host {
    fn call(&self, request: &ToolRequest) -> ToolOutput {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (model, ctx) = &mut *guard;
        run_tool(ctx, model, request)
    }
}

fn model() -> Model {
    let mut m = Model::new("bench");
    let meta = CharmMeta::parse(
        "name: app\npeers:\n  peers: {interface: p}\n",
        Some("options:\n  colour: {type: string, default: red}\n  size: {type: int, default: 3}\n"),
        None,
    )
    .unwrap_or_else(|e| panic!("bench charm: {e}"));
    if let Err(err) = m.add_application("app", AppKind::Charm { dir: ".".into() }, meta, 2) {
        panic!("bench model: {err}");
    }
    m
}

fn per_call(start: Instant, n: u32) -> String {
    let each = start.elapsed() / n;
    format!("{:.1} µs/call", each.as_secs_f64() * 1e6)
}

fn main() {
    let n = 2000;
    let mut m = model();
    let mut ctx = HookContext::new("ctx".into(), "app/0", HookInfo::default());
    let request = ToolRequest {
        context_id: "ctx".into(),
        tool: "config-get".into(),
        args: vec!["--format=json".into()],
        ..ToolRequest::default()
    };
    let start = Instant::now();
    for _ in 0..n {
        let out = run_tool(&mut ctx, &mut m, &request);
        assert_eq!(out.code, 0);
    }
    println!("config-get in process:            {}", per_call(start, n));

    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let jujuc = exe.with_file_name("jujuc");
    let dir = match tempfile_dir() {
        Some(d) => d,
        None => return,
    };
    let socket = dir.join("agent.socket");
    let host = Arc::new(Host(Mutex::new((
        model(),
        HookContext::new("ctx".into(), "app/0", HookInfo::default()),
    ))));
    let _server = match ToolServer::start(&socket, host) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("cannot listen: {err}");
            return;
        }
    };
    let calls = 300;
    let start = Instant::now();
    for _ in 0..calls {
        let status = Command::new(&jujuc)
            .args(["config-get", "--format=json"])
            .env_clear()
            .env("JUJU_CONTEXT_ID", "ctx")
            .env("JUJU_AGENT_SOCKET_ADDRESS", &socket)
            .env("JUJU_AGENT_SOCKET_NETWORK", "unix")
            .stdout(Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("jujuc failed; is {} built?", jujuc.display());
            return;
        }
    }
    println!(
        "config-get through jujuc + socket: {}",
        per_call(start, calls)
    );

    // Deploy-to-idle of two units running a shell charm through every deploy hook.
    let charm = dir.join("charm");
    let _ = std::fs::create_dir_all(&charm);
    let _ = std::fs::write(
        charm.join("metadata.yaml"),
        "name: app\npeers:\n  peers: {interface: p}\n",
    );
    let _ = std::fs::write(
        charm.join("dispatch"),
        "#!/bin/sh\nis-leader >/dev/null\nconfig-get --format=json >/dev/null\n[ \"$JUJU_HOOK_NAME\" = start ] && status-set active\nexit 0\n",
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(
            charm.join("dispatch"),
            std::fs::Permissions::from_mode(0o755),
        );
    }
    let controller = Controller::new(
        ControllerConfig::in_dir(&dir),
        Model::new("bench"),
        Vec::new(),
    );
    let dispatcher = Arc::new(LocalDispatcher::new(&dir.join("juju"), &charm, &jujuc));
    let start = Instant::now();
    if let Err(err) = controller.deploy("app", &charm, 2, dispatcher) {
        eprintln!("deploy: {err}");
        return;
    }
    std::thread::sleep(Duration::from_millis(20));
    while !controller.is_idle() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let model = controller.model();
    let hooks = 2 * 7; // install, created, leader, config, start, joined, changed per unit
    println!(
        "deploy of 2 local units to idle:   {:.0} ms ({} hooks, {:?} / {:?})",
        start.elapsed().as_secs_f64() * 1e3,
        hooks,
        model
            .unit("app/0")
            .map(|u| u.workload.current.status.clone())
            .unwrap_or_default(),
        model
            .unit("app/1")
            .map(|u| u.workload.current.status.clone())
            .unwrap_or_default(),
    );
    controller.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> Option<std::path::PathBuf> {
    let mut bytes = [0u8; 6];
    indico_substrate::model::fill_random(&mut bytes);
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("substrate-bench-{name}"));
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir).filter(|d| Path::new(d).is_dir())
}
