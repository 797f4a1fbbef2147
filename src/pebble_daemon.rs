//! Test support: a real Pebble daemon (`pebble run`) in a temporary directory, stopped when
//! dropped. The binary is `$PEBBLE_BIN`, else `/root/go/bin/pebble`, else `pebble` on PATH.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Pebble daemon owned by one test.
pub struct PebbleDaemon {
    child: Child,
    dir: tempfile::TempDir,
}

fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PEBBLE_BIN") {
        return PathBuf::from(path);
    }
    let go_bin = PathBuf::from("/root/go/bin/pebble");
    if go_bin.exists() {
        go_bin
    } else {
        PathBuf::from("pebble")
    }
}

impl PebbleDaemon {
    /// Starts a daemon with an empty Pebble directory and waits for its socket.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let child = Self::spawn(dir.path());
        let daemon = Self { child, dir };
        daemon.wait_for_socket();
        daemon
    }

    fn spawn(dir: &Path) -> Child {
        Command::new(binary())
            .args(["run", "--create-dirs"])
            .env("PEBBLE", dir.join("pebble"))
            .env("PEBBLE_SOCKET", dir.join("pebble.socket"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble must be installed (go install github.com/canonical/pebble/cmd/pebble@v1.19.2)")
    }

    /// Waits until the daemon accepts connections. The socket file appears when Pebble
    /// binds, a moment before it listens: a connect in between is refused, so wait for a
    /// connect to succeed, not for the file.
    fn wait_for_socket(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            assert!(
                Instant::now() < deadline,
                "pebble did not accept connections on its socket within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops this daemon and starts a new one on the same directory (as after a container
    /// restart: API-added layers are gone).
    pub fn restart(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(self.socket());
        self.child = Self::spawn(self.dir.path());
        self.wait_for_socket();
    }

    fn stop(&mut self) {
        // SIGTERM lets Pebble stop its services; fall back to SIGKILL via Child::kill.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The daemon's socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("pebble.socket")
    }

    /// A scratch directory for files the test pushes.
    pub fn scratch(&self) -> PathBuf {
        self.dir.path().join("files")
    }
}

impl Drop for PebbleDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}
