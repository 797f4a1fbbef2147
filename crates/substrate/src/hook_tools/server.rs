//! The agent's hook-tool socket: accepts connections from `jujuc` on a Unix socket,
//! reads one [`ToolRequest`], asks a [`ToolHost`] to answer it, writes one
//! [`ToolResponse`]. One thread accepts; each connection gets a short-lived thread (the
//! host serialises calls itself, as Juju's `Jujuc.Main` mutex does).

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use super::{ToolOutput, ToolRequest, ToolResponse};

/// Largest request accepted (state-set is limited to 2 MiB in total; base64 and JSON
/// add a third).
const MAX_REQUEST: u64 = 8 * 1024 * 1024;

/// Whoever answers tool calls: finds the context named by the request and runs the tool.
pub trait ToolHost: Send + Sync + 'static {
    /// Answers one call.
    fn call(&self, request: &ToolRequest) -> ToolOutput;
}

/// A listening hook-tool socket; stops and removes the socket when dropped.
#[derive(Debug)]
pub struct ToolServer {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ToolServer {
    /// Binds `path` (replacing a stale socket) and serves `host` until dropped. The socket
    /// is made accessible to any user of the charm container (mode 0666 in a 0700
    /// directory the substrate owns), as the charm may not run as root.
    pub fn start(path: &Path, host: Arc<dyn ToolHost>) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("hook-tools".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop_flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let host = Arc::clone(&host);
                    let spawned = std::thread::Builder::new()
                        .name("hook-tool-call".into())
                        .spawn(move || serve(stream, host.as_ref()));
                    if let Err(err) = spawned {
                        tracing::warn!(%err, "cannot start a hook tool thread");
                    }
                }
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            stop,
            thread: Some(thread),
        })
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ToolServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag. If the socket file is already gone
        // nothing can wake it: leave the thread blocked rather than hang here.
        let woken = UnixStream::connect(&self.path).is_ok();
        if let Some(thread) = self.thread.take()
            && woken
        {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn serve(mut stream: UnixStream, host: &dyn ToolHost) {
    let mut body = Vec::new();
    if let Err(err) = (&mut stream).take(MAX_REQUEST).read_to_end(&mut body) {
        tracing::warn!(%err, "reading a hook tool request");
        return;
    }
    if body.is_empty() {
        return; // the wake-up connection of a stopping server
    }
    let output = match serde_json::from_slice::<ToolRequest>(&body) {
        Ok(request) => host.call(&request),
        Err(err) => ToolOutput::error(&super::ToolError::Run(format!("bad request: {err}"))),
    };
    let response = ToolResponse {
        code: output.code,
        stdout: output.stdout,
        stderr: output.stderr,
    };
    // Serialising plain bytes and an integer cannot fail.
    let json = serde_json::to_vec(&response).unwrap_or_default();
    if let Err(err) = stream.write_all(&json) {
        tracing::warn!(%err, "writing a hook tool response");
    }
}

/// The client side, used by `jujuc`: sends `request` to the socket at `path` and
/// returns the answer.
pub fn call(path: &Path, request: &ToolRequest) -> std::io::Result<ToolResponse> {
    let mut stream = UnixStream::connect(path)?;
    let json = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    stream.write_all(&json)?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body)?;
    serde_json::from_slice(&body).map_err(std::io::Error::other)
}
