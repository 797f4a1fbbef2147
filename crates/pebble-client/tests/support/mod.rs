//! The real-daemon fixture: each test starts its own `pebble run --hold` in a temporary
//! `PEBBLE` directory and gets a [`Client`] for its socket; the daemon is killed on drop.
//!
//! The binary is `$PEBBLE_BIN`, else `pebble` on `PATH`, else `/root/go/bin/pebble`. If none
//! exists the test fails with a message saying how to install it.

#![allow(dead_code)] // Each test binary uses a different part of the fixture.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pebble_client::Client;

const FALLBACK_PEBBLE: &str = "/root/go/bin/pebble";
const SOCKET_WAIT: Duration = Duration::from_secs(15);

/// A running `pebble run --hold` with its own directory.
pub struct Daemon {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
    binary: PathBuf,
}

/// Finds the Pebble binary, failing the test loudly if there is none.
pub fn pebble_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PEBBLE_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "PEBBLE_BIN={} does not exist; install Pebble with \
             `go install github.com/canonical/pebble/cmd/pebble@v1.19.2`",
            path.display()
        );
        return path;
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("pebble");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let fallback = PathBuf::from(FALLBACK_PEBBLE);
    assert!(
        fallback.is_file(),
        "no Pebble binary: set PEBBLE_BIN, put `pebble` on PATH, or install it with \
         `go install github.com/canonical/pebble/cmd/pebble@v1.19.2` (expected at {FALLBACK_PEBBLE})"
    );
    fallback
}

impl Daemon {
    /// Starts a daemon and waits until its socket answers.
    pub fn start() -> Self {
        let binary = pebble_binary();
        let dir = tempfile::tempdir().expect("temp dir for PEBBLE");
        let socket = dir.path().join(".pebble.socket");
        let log = std::fs::File::create(dir.path().join("pebble.log")).expect("pebble log file");
        let child = Command::new(&binary)
            .args(["run", "--hold"])
            .env("PEBBLE", dir.path())
            .env("PEBBLE_SOCKET", &socket)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut daemon = Self {
            child,
            dir,
            socket,
            binary,
        };
        daemon.wait_for_socket();
        daemon
    }

    fn wait_for_socket(&mut self) {
        let deadline = Instant::now() + SOCKET_WAIT;
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pebble exited early ({status}); log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "pebble socket did not appear in {SOCKET_WAIT:?}; log:\n{}",
            self.log()
        );
    }

    /// A client for this daemon.
    pub fn client(&self) -> Client {
        Client::new(&self.socket).expect("client")
    }

    /// The daemon's socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A scratch directory next to the daemon's state (removed on drop).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&path).expect("scratch dir");
        path
    }

    /// Runs the `pebble` CLI against this daemon (for calls the client does not make, such as
    /// `pebble notify`).
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(&self.binary)
            .args(args)
            .env("PEBBLE", self.dir.path())
            .env("PEBBLE_SOCKET", &self.socket)
            .output()
            .expect("run pebble CLI");
        assert!(
            output.status.success(),
            "pebble {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Debian's Python, used as a small real HTTP server (`python3 -m http.server`).
pub fn python3() -> String {
    std::env::var("PYTHON3").unwrap_or_else(|_| "/usr/bin/python3".to_owned())
}

/// Polls `probe` every 100 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
