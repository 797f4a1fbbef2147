//! Running the charm's `dispatch` for one hook, the way Juju's uniter does (contract
//! §1.1): `<charm dir>/dispatch` with no arguments, the environment cleared and set
//! exactly, the charm dir as working directory, stdin `/dev/null`, stdout and stderr
//! captured, and each line handed to the caller as soon as the charm writes it (Juju's
//! debug-log shows hook output live).
//!
//! [`PodDispatcher`] runs it inside the unit pod's `charm` container with `podman exec`;
//! [`LocalDispatcher`] runs it as a host process (a charm directory on this machine),
//! which is what fast agent tests use. Both lay the unit out as Juju does: the charm dir,
//! the tools dir of `jujuc` links, and the agent socket under the data dir.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::AgentError;
use super::env::{UnitLayout, unit_tag};
use crate::engine::{CHARM_CONTAINER, Engine, PodSpec, UnitName};
use crate::hook_tools::TOOL_NAMES;
use std::time::Duration;

/// The files of a charm the substrate installs into a unit's charm dir.
pub const CHARM_FILES: [&str; 4] = ["metadata.yaml", "config.yaml", "actions.yaml", "dispatch"];

/// How one dispatch ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchOutcome {
    /// The exit code (`None`: killed by a signal, or not started).
    pub code: Option<i32>,
    /// Captured standard output.
    pub stdout: Vec<u8>,
    /// Captured standard error.
    pub stderr: Vec<u8>,
    /// Why the process could not start, if it did not.
    pub start_error: Option<String>,
}

impl DispatchOutcome {
    /// Whether the hook succeeded (exit 0).
    pub fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    /// Juju's description of a failure: `exit status N`, `signal: killed`, or the start error.
    pub fn failure(&self) -> String {
        match (&self.start_error, self.code) {
            (Some(err), _) => err.clone(),
            (None, Some(code)) => format!("exit status {code}"),
            (None, None) => "signal: killed".to_owned(),
        }
    }
}

/// Which of the charm's output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Receives each line of the charm's output as it is written (without its newline; a
/// last line without one is delivered when the stream ends).
pub type OutputSink<'a> = &'a (dyn Fn(OutputStream, &str) + Sync);

/// Where and how a unit's charm runs.
pub trait Dispatcher: Send + Sync + 'static {
    /// The unit's paths as the charm process sees them.
    fn layout(&self, unit: &str) -> UnitLayout;
    /// Where, on this host, the agent listens for the unit's hook tool calls.
    fn host_socket(&self, unit: &str) -> PathBuf;
    /// Brings the unit's runtime up (its pod, when there is one) and installs the charm
    /// files and hook tools (idempotent). Returns the unit's address when it has one.
    fn start_unit(&self, unit: &str) -> Result<Option<String>, AgentError>;
    /// Takes the unit's runtime down.
    fn stop_unit(&self, unit: &str) -> Result<(), AgentError>;
    /// Where, on this host, workload `container`'s Pebble socket is, if it has one.
    fn pebble_socket(&self, unit: &str, container: &str) -> Option<PathBuf>;
    /// Runs `dispatch` with exactly `env`, handing each output line to `output` while it
    /// runs; the outcome still holds the whole output.
    fn dispatch(
        &self,
        unit: &str,
        env: &[(String, String)],
        output: OutputSink<'_>,
    ) -> DispatchOutcome;
}

fn start_failure(err: &std::io::Error) -> DispatchOutcome {
    DispatchOutcome {
        start_error: Some(format!("cannot start dispatch: {err}")),
        ..DispatchOutcome::default()
    }
}

/// Reads `source` to its end, handing each line to `output` as it arrives; returns
/// every byte read.
fn relay(mut source: impl Read, stream: OutputStream, output: OutputSink<'_>) -> Vec<u8> {
    let mut reader = BufReader::new(&mut source);
    let mut all = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {
                all.extend_from_slice(&line);
                let text = String::from_utf8_lossy(&line);
                output(stream, text.trim_end_matches(['\n', '\r']));
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => {
                tracing::warn!(%err, ?stream, "cannot read the charm's output");
                break;
            }
        }
    }
    all
}

/// Spawns `command` (stdout and stderr piped; stdin piped when `input` is given, and
/// closed once written), relays both output streams line by line while it runs, and
/// waits for it.
fn run_streaming(
    command: &mut Command,
    input: Option<&[u8]>,
    output: OutputSink<'_>,
) -> DispatchOutcome {
    command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child: Child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return start_failure(&err),
    };
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let (stdout, stderr) = std::thread::scope(|scope| {
        // Written from its own thread, so a child that writes before reading cannot
        // deadlock against us; dropping the pipe closes the child's stdin.
        if let (Some(mut stdin), Some(bytes)) = (stdin, input) {
            scope.spawn(move || {
                if let Err(err) = stdin.write_all(bytes) {
                    tracing::warn!(%err, "cannot pass the hook environment");
                }
            });
        }
        let err_reader =
            stderr.map(|s| scope.spawn(move || relay(s, OutputStream::Stderr, output)));
        let out = stdout
            .map(|s| relay(s, OutputStream::Stdout, output))
            .unwrap_or_default();
        let err = err_reader.and_then(|h| h.join().ok()).unwrap_or_default();
        (out, err)
    });
    match child.wait() {
        Ok(status) => DispatchOutcome {
            code: status.code(),
            stdout,
            stderr,
            start_error: None,
        },
        Err(err) => DispatchOutcome {
            stdout,
            stderr,
            start_error: Some(format!("cannot wait for dispatch: {err}")),
            code: None,
        },
    }
}

/// Runs the charm as a host process, laid out under `root` as Juju lays out
/// `/var/lib/juju`.
#[derive(Debug, Clone)]
pub struct LocalDispatcher {
    root: PathBuf,
    charm_source: PathBuf,
    jujuc: PathBuf,
    pebble_dir: Option<PathBuf>,
}

impl LocalDispatcher {
    /// Units get their data dir under `root`, a copy of the charm files in
    /// `charm_source`, and hook tools linked to the `jujuc` binary.
    pub fn new(root: &Path, charm_source: &Path, jujuc: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            charm_source: charm_source.to_path_buf(),
            jujuc: jujuc.to_path_buf(),
            pebble_dir: None,
        }
    }

    /// Workload `<c>`'s Pebble listens on `<dir>/<unit-tag>/<c>/pebble.socket`.
    pub fn with_pebble_dir(mut self, dir: &Path) -> Self {
        self.pebble_dir = Some(dir.to_path_buf());
        self
    }
}

impl Dispatcher for LocalDispatcher {
    fn start_unit(&self, unit: &str) -> Result<Option<String>, AgentError> {
        self.prepare(unit)?;
        Ok(None)
    }

    fn stop_unit(&self, unit: &str) -> Result<(), AgentError> {
        let layout = self.layout(unit);
        for dir in [layout.tools_dir, layout.charm_dir] {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(AgentError::io("remove", dir, e)),
            }
        }
        Ok(())
    }

    fn pebble_socket(&self, unit: &str, container: &str) -> Option<PathBuf> {
        self.pebble_dir
            .as_ref()
            .map(|d| d.join(unit_tag(unit)).join(container).join("pebble.socket"))
    }

    fn layout(&self, unit: &str) -> UnitLayout {
        UnitLayout::juju(&self.root.to_string_lossy(), unit)
    }

    fn host_socket(&self, unit: &str) -> PathBuf {
        PathBuf::from(self.layout(unit).agent_socket)
    }

    fn dispatch(
        &self,
        unit: &str,
        env: &[(String, String)],
        output: OutputSink<'_>,
    ) -> DispatchOutcome {
        let layout = self.layout(unit);
        let program = Path::new(&layout.charm_dir).join("dispatch");
        run_streaming(
            Command::new(&program)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v)))
                .current_dir(&layout.charm_dir),
            None,
            output,
        )
    }
}

impl LocalDispatcher {
    fn prepare(&self, unit: &str) -> Result<(), AgentError> {
        let layout = self.layout(unit);
        let charm_dir = Path::new(&layout.charm_dir);
        let tools_dir = Path::new(&layout.tools_dir);
        for dir in [charm_dir, tools_dir] {
            std::fs::create_dir_all(dir).map_err(|e| AgentError::io("create", dir, e))?;
        }
        for name in CHARM_FILES {
            let source = self.charm_source.join(name);
            if source.exists() {
                let dest = charm_dir.join(name);
                std::fs::copy(&source, &dest).map_err(|e| AgentError::io("copy", &source, e))?;
            }
        }
        for tool in TOOL_NAMES {
            let link = tools_dir.join(tool);
            if std::fs::symlink_metadata(&link).is_err() {
                symlink(&self.jujuc, &link).map_err(|e| AgentError::io("link", &link, e))?;
            }
        }
        Ok(())
    }
}

/// Runs the charm in the unit pod's `charm` container (as the engine lays pods out).
///
/// The engine mounts only `/charm/containers` into the charm container, so the agent
/// socket lives on the host at `<unit>/containers/.juju-agent/agent.socket` and Juju's
/// path `/var/lib/juju/agents/unit-<app>-<n>/agent.socket` is a link to it; the charm
/// files and `jujuc` are copied in with `podman cp`.
#[derive(Debug, Clone)]
pub struct PodDispatcher {
    engine: Engine,
    charm_source: PathBuf,
    jujuc: PathBuf,
    images: Option<PodImages>,
}

/// The images a unit pod is made of, when the dispatcher brings pods up itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodImages {
    /// The charm container's image.
    pub charm: String,
    /// The `indico` and `indico-celery` image.
    pub indico: String,
    /// The `indico-nginx` image.
    pub nginx: String,
    /// The exporter image.
    pub exporter: String,
}

/// Where `jujuc` is installed in the charm container.
const JUJUC_IN_CONTAINER: &str = "/charm/bin/jujuc";
/// The agent socket's directory under the unit's `/charm/containers`.
const AGENT_DIR: &str = ".juju-agent";

impl PodDispatcher {
    /// Charm files from `charm_source`, hook tools from `jujuc`.
    pub fn new(engine: Engine, charm_source: &Path, jujuc: &Path) -> Self {
        Self {
            engine,
            charm_source: charm_source.to_path_buf(),
            jujuc: jujuc.to_path_buf(),
            images: None,
        }
    }

    /// Brings each unit's pod up from `images` (and down on removal).
    pub fn with_images(mut self, images: PodImages) -> Self {
        self.images = Some(images);
        self
    }

    fn container(unit: &str) -> Result<String, AgentError> {
        let name = UnitName::parse(unit)?;
        Ok(format!("{}-{CHARM_CONTAINER}", name.pod_name()))
    }
}

impl Dispatcher for PodDispatcher {
    fn layout(&self, unit: &str) -> UnitLayout {
        UnitLayout::juju("/var/lib/juju", unit)
    }

    fn host_socket(&self, unit: &str) -> PathBuf {
        let pod = unit.replace('/', "-");
        self.engine
            .state()
            .unit_containers_dir(&pod)
            .join(AGENT_DIR)
            .join("agent.socket")
    }

    fn start_unit(&self, unit: &str) -> Result<Option<String>, AgentError> {
        let mut address = None;
        if let Some(images) = &self.images {
            let name = UnitName::parse(unit)?;
            let exists = self
                .engine
                .podman()
                .check(["pod", "exists", name.pod_name().as_str()])?;
            if !exists {
                let spec = PodSpec::indico_unit(
                    name,
                    &images.charm,
                    &images.indico,
                    &images.nginx,
                    &images.exporter,
                );
                let pod = spec.up(&self.engine, Duration::from_secs(60))?;
                address = Some(pod.ip.to_string());
            }
        }
        self.prepare(unit)?;
        Ok(address)
    }

    fn stop_unit(&self, unit: &str) -> Result<(), AgentError> {
        if self.images.is_some() {
            PodSpec::down(&self.engine, &UnitName::parse(unit)?)?;
        }
        Ok(())
    }

    fn pebble_socket(&self, unit: &str, container: &str) -> Option<PathBuf> {
        Some(
            self.engine
                .state()
                .pebble_socket(&unit.replace('/', "-"), container),
        )
    }

    fn dispatch(
        &self,
        unit: &str,
        env: &[(String, String)],
        output: OutputSink<'_>,
    ) -> DispatchOutcome {
        self.dispatch_in_pod(unit, env, output)
    }
}

impl PodDispatcher {
    fn prepare(&self, unit: &str) -> Result<(), AgentError> {
        let container = Self::container(unit)?;
        let layout = self.layout(unit);
        let tag = unit_tag(unit);
        let links: Vec<String> = TOOL_NAMES
            .iter()
            .map(|t| format!("ln -sf {JUJUC_IN_CONTAINER} {}/{t}", layout.tools_dir))
            .collect();
        let script = format!(
            "set -e\nmkdir -p {charm} {tools} /charm/bin\nln -sf /charm/containers/{AGENT_DIR}/agent.socket {socket}\n{links}\n",
            charm = layout.charm_dir,
            tools = layout.tools_dir,
            socket = layout.agent_socket,
            links = links.join("\n"),
        );
        let podman = self.engine.podman();
        podman.run(["exec", container.as_str(), "sh", "-c", script.as_str()])?;
        let jujuc_dest = format!("{container}:{JUJUC_IN_CONTAINER}");
        let jujuc = self.jujuc.to_string_lossy().into_owned();
        podman.run(["cp", jujuc.as_str(), jujuc_dest.as_str()])?;
        for name in CHARM_FILES {
            let source = self.charm_source.join(name);
            if source.exists() {
                let source = source.to_string_lossy().into_owned();
                let dest = format!("{container}:{}/{name}", layout.charm_dir);
                podman.run(["cp", source.as_str(), dest.as_str()])?;
            }
        }
        // podman cp keeps the host file's mode; make sure dispatch runs whatever it was.
        let chmod = format!(
            "chmod 0755 {}/dispatch {JUJUC_IN_CONTAINER}",
            layout.charm_dir
        );
        podman.run(["exec", container.as_str(), "sh", "-c", chmod.as_str()])?;
        tracing::debug!(
            unit,
            tag,
            "charm and hook tools installed in the charm container"
        );
        let host_dir = self.host_socket(unit);
        if let Some(dir) = host_dir.parent() {
            std::fs::create_dir_all(dir).map_err(|e| AgentError::io("create", dir, e))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| AgentError::io("chmod", dir, e))?;
        }
        Ok(())
    }

    fn dispatch_in_pod(
        &self,
        unit: &str,
        env: &[(String, String)],
        output: OutputSink<'_>,
    ) -> DispatchOutcome {
        let container = match Self::container(unit) {
            Ok(c) => c,
            Err(err) => {
                return DispatchOutcome {
                    start_error: Some(err.to_string()),
                    ..DispatchOutcome::default()
                };
            }
        };
        let layout = self.layout(unit);
        let dispatch = format!("{}/dispatch", layout.charm_dir);
        // The environment goes through stdin to `jujuc --run-dispatch`, which clears its
        // own environment, sets exactly this one, makes stdin /dev/null and execs
        // dispatch: nothing of it (proxy URLs may hold credentials) shows in argv.
        let mut command = self.engine.podman().command();
        command.args([
            "exec",
            "-i",
            "--workdir",
            &layout.charm_dir,
            &container,
            JUJUC_IN_CONTAINER,
            RUN_DISPATCH_FLAG,
            &dispatch,
        ]);
        run_streaming(&mut command, Some(&encode_env(env)), output)
    }
}

/// The flag that makes `jujuc` a dispatch launcher (see [`encode_env`]).
pub const RUN_DISPATCH_FLAG: &str = "--run-dispatch";

/// `KEY=VALUE` pairs, each followed by a NUL byte: what `jujuc --run-dispatch` reads on
/// stdin.
pub fn encode_env(env: &[(String, String)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (key, value) in env {
        bytes.extend_from_slice(key.as_bytes());
        bytes.push(b'=');
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
    }
    bytes
}

/// Parses [`encode_env`]'s output; entries without `=` are refused.
pub fn decode_env(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
    bytes
        .split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let text = std::str::from_utf8(entry)
                .map_err(|e| format!("environment entry is not UTF-8: {e}"))?;
            text.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("environment entry {text:?} has no '='"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_round_trips_with_any_value() {
        let env = vec![
            ("A".to_owned(), "x=y z".to_owned()),
            ("EMPTY".to_owned(), String::new()),
            ("P".to_owned(), "http://u:p@proxy:3128".to_owned()),
        ];
        assert_eq!(decode_env(&encode_env(&env)).unwrap(), env);
        assert!(decode_env(b"NOEQUALS\0").is_err());
    }
}
