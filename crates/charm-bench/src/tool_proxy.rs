//! Counting hook-tool calls: a Unix-socket proxy in front of the unit agent's socket. The
//! measuring dispatch points the charm's `JUJU_AGENT_SOCKET_ADDRESS` at it; each call (one
//! JSON request, half-close, one response, per connection) is passed through unchanged and
//! recorded with its time, tool name and arguments' log level, so calls can be attributed
//! to the run whose time window holds them.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::BenchError;

/// A request larger than this is not a hook-tool call.
const MAX_REQUEST: u64 = 64 * 1024 * 1024;

/// One proxied hook-tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// When the call arrived (Unix time, microseconds).
    pub at_unix_us: u64,
    /// The tool (`config-get`, `relation-get`, ...).
    pub tool: String,
}

/// The running proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct ToolProxy {
    calls: Arc<Mutex<Vec<ToolCall>>>,
    stop: Arc<AtomicBool>,
    socket: PathBuf,
    thread: Option<JoinHandle<()>>,
}

impl ToolProxy {
    /// Listens on `socket` (replacing a stale one) and forwards to `upstream`.
    pub fn start(socket: &Path, upstream: &Path) -> Result<Self, BenchError> {
        match std::fs::remove_file(socket) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BenchError::io("remove", socket, e)),
        }
        // Blocking accepts: a polling loop would add its sleep to every call the charm makes.
        let listener = UnixListener::bind(socket).map_err(|e| BenchError::io("bind", socket, e))?;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (calls2, stop2, upstream) =
            (Arc::clone(&calls), Arc::clone(&stop), upstream.to_owned());
        let thread = std::thread::Builder::new()
            .name("tool-proxy".into())
            .spawn(move || accept_loop(&listener, &upstream, &calls2, &stop2))
            .map_err(|e| BenchError::io("start a thread for", socket, e))?;
        Ok(Self {
            calls,
            stop,
            socket: socket.to_owned(),
            thread: Some(thread),
        })
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<ToolCall> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Drop for ToolProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocking accept so that it sees the flag.
        let _ = UnixStream::connect(&self.socket);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn accept_loop(
    listener: &UnixListener,
    upstream: &Path,
    calls: &Arc<Mutex<Vec<ToolCall>>>,
    stop: &AtomicBool,
) {
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match accepted {
            Ok((stream, _)) => {
                let (upstream, calls) = (upstream.to_owned(), Arc::clone(calls));
                std::thread::spawn(move || {
                    if let Err(e) = forward(stream, &upstream, &calls) {
                        eprintln!("charm-bench: tool proxy: {e}");
                    }
                });
            }
            Err(e) => {
                eprintln!("charm-bench: tool proxy accept: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn forward(
    mut client: UnixStream,
    upstream: &Path,
    calls: &Mutex<Vec<ToolCall>>,
) -> std::io::Result<()> {
    let at_unix_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let mut request = Vec::new();
    (&mut client).take(MAX_REQUEST).read_to_end(&mut request)?;
    let tool = serde_json::from_slice::<serde_json::Value>(&request)
        .ok()
        .and_then(|v| v.get("tool").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    if let Ok(mut all) = calls.lock() {
        all.push(ToolCall { at_unix_us, tool });
    }
    let mut server = UnixStream::connect(upstream)?;
    server.write_all(&request)?;
    server.shutdown(Shutdown::Write)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    client.write_all(&response)?;
    client.shutdown(Shutdown::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that answers every request with its reverse.
    fn echo_server(path: &Path) -> JoinHandle<()> {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let mut stream = stream.unwrap();
                let mut body = Vec::new();
                stream.read_to_end(&mut body).unwrap();
                body.reverse();
                stream.write_all(&body).unwrap();
            }
        })
    }

    fn call(socket: &Path, body: &[u8]) -> Vec<u8> {
        let mut stream = UnixStream::connect(socket).unwrap();
        stream.write_all(body).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn calls_pass_through_unchanged_and_are_recorded_by_tool() {
        let dir = tempfile::tempdir().unwrap();
        let upstream = dir.path().join("agent.socket");
        let server = echo_server(&upstream);
        let proxy = ToolProxy::start(&dir.path().join("proxy.socket"), &upstream).unwrap();
        let body = br#"{"context_id":"c","tool":"config-get","args":[]}"#;
        let mut expected = body.to_vec();
        expected.reverse();
        assert_eq!(call(&dir.path().join("proxy.socket"), body), expected);
        assert_eq!(
            call(&dir.path().join("proxy.socket"), b"not json"),
            b"nosj ton"
        );
        server.join().unwrap();
        let tools: Vec<String> = proxy.calls().into_iter().map(|c| c.tool).collect();
        assert_eq!(tools, vec!["config-get", "?"]);
    }
}
