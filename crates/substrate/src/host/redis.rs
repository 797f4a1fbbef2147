//! Private Redis servers for the pods, run by the substrate (not the system's Redis):
//! no persistence, bound to loopback and the service address only.

use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::HostError;
use super::error::run;

/// One private Redis server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRedis {
    /// Port on both addresses.
    pub port: u16,
    /// The service address the pods use.
    pub address: Ipv4Addr,
    /// Directory for its config, pid and log files.
    pub dir: PathBuf,
}

impl HostRedis {
    /// Starts the server unless it already runs. Returns `true` when started now. A port
    /// taken by a server this one did not start (per its pid file) is an error, never
    /// adopted: two users of one port would stop each other's server.
    pub fn ensure_running(&self) -> Result<bool, HostError> {
        if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
            if self.own_pid().is_some() {
                return Ok(false);
            }
            return Err(HostError::Invalid {
                what: "Redis port",
                detail: format!(
                    "{} is in use by a server not started from {}",
                    self.port,
                    self.dir.display()
                ),
            });
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|source| HostError::io("create directory", &self.dir, source))?;
        let conf_path = self.dir.join("redis.conf");
        // No password: the server is reachable only from this machine and its pods.
        let conf = format!(
            "bind 127.0.0.1 {address}\nport {port}\nprotected-mode no\ndaemonize yes\npidfile {pid}\nlogfile {log}\ndir {dir}\nsave \"\"\nappendonly no\n",
            address = self.address,
            port = self.port,
            pid = self.dir.join("redis.pid").display(),
            log = self.dir.join("redis.log").display(),
            dir = self.dir.display(),
        );
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&conf_path)
            .map_err(|source| HostError::io("write", &conf_path, source))?;
        std::io::Write::write_all(&mut file, conf.as_bytes())
            .map_err(|source| HostError::io("write", &conf_path, source))?;
        run(
            crate::daemon_fds::close_inherited_fds(Command::new("redis-server").arg(&conf_path)),
            "redis-server",
            None,
        )?;
        let start = Instant::now();
        while TcpStream::connect((self.address, self.port)).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                return Err(HostError::Timeout {
                    what: format!("redis on {}:{}", self.address, self.port),
                    seconds: 10.0,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(true)
    }

    /// A TCP port nobody listens on right now (the kernel's pick from its ephemeral
    /// range, far from the fixed ports other tools count up from).
    pub fn free_port() -> Result<u16, HostError> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|source| HostError::io("bind", "127.0.0.1:0", source))?;
        let port = listener
            .local_addr()
            .map_err(|source| HostError::io("inspect", "127.0.0.1:0", source))?
            .port();
        Ok(port)
    }

    /// `redis://<service address>:<port>/<db>`, the URL pods use.
    pub fn url(&self, db: u8) -> String {
        format!("redis://{}:{}/{db}", self.address, self.port)
    }

    /// The pid of the server started from this directory, if it still runs.
    fn own_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("redis.pid")).ok()?;
        let pid: u32 = text.trim().parse().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        (comm.trim() == "redis-server").then_some(pid)
    }

    /// Shuts the server down (no save). Not running, or a port held by a server this one
    /// did not start, is left alone and is not an error.
    pub fn stop(&self) -> Result<(), HostError> {
        if self.own_pid().is_none() || TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err()
        {
            return Ok(());
        }
        let port = self.port.to_string();
        run(
            Command::new("redis-cli").args(["-p", &port, "shutdown", "nosave"]),
            "redis-cli shutdown nosave",
            None,
        )
        .map(drop)
        .or_else(|err| match err {
            // redis-cli reports the dropped connection of a successful shutdown as failure on some versions.
            HostError::CommandFailed { .. }
                if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() =>
            {
                Ok(())
            }
            other => Err(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_held_by_someone_else_is_neither_adopted_nor_stopped() {
        let foreign = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let redis = HostRedis {
            port: foreign.local_addr().unwrap().port(),
            address: Ipv4Addr::LOCALHOST,
            dir: dir.path().to_path_buf(),
        };
        let err = redis.ensure_running().unwrap_err();
        assert!(err.to_string().contains("in use"), "{err}");
        redis.stop().unwrap();
        assert!(
            TcpStream::connect((Ipv4Addr::LOCALHOST, redis.port)).is_ok(),
            "foreign server was touched"
        );
    }

    #[test]
    fn free_port_is_free() {
        let port = HostRedis::free_port().unwrap();
        assert!(std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok());
    }
}
