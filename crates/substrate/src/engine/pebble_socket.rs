//! Waiting for a workload container's Pebble to listen on its socket.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use super::EngineError;

/// Polls until something accepts connections on the Unix socket at `socket` (Pebble
/// creates it once its API is up), or `timeout` passes. Returns how long it took.
pub fn wait_for_pebble(socket: &Path, timeout: Duration) -> Result<Duration, EngineError> {
    let start = Instant::now();
    loop {
        if UnixStream::connect(socket).is_ok() {
            return Ok(start.elapsed());
        }
        if start.elapsed() >= timeout {
            return Err(EngineError::Timeout {
                what: format!("Pebble on {}", socket.display()),
                seconds: timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_once_a_listener_exists_and_times_out_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("pebble.socket");
        let err = wait_for_pebble(&socket, Duration::from_millis(120)).unwrap_err();
        assert!(matches!(err, EngineError::Timeout { .. }), "{err:?}");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        wait_for_pebble(&socket, Duration::from_secs(2)).unwrap();
    }
}
