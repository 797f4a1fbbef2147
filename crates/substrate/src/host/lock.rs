//! One lock for changes to host-wide state (the service address, the PostgreSQL cluster's
//! configuration and run state). Tests, `up` and the providers may all prepare the host at
//! once, in threads of one process or in several processes; two `pg_ctlcluster start`s at
//! the same moment make one of them fail ("lock file postmaster.pid is empty"). An
//! advisory `flock` on a file under `/run` serialises them and is released when the holder
//! exits, however it exits.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use super::HostError;

/// Where the lock lives: `/run` is cleared at boot, so a stale file never outlives a crash
/// (and a stale file would not matter anyway: only a live holder's `flock` counts).
const LOCK_PATH: &str = "/run/indico-substrate-host.lock";

/// Holds the host lock until dropped.
#[derive(Debug)]
pub struct HostLock {
    _file: File,
}

impl HostLock {
    /// Blocks until this process holds the host-wide lock.
    pub fn acquire() -> Result<Self, HostError> {
        Self::acquire_at(Path::new(LOCK_PATH))
    }

    fn acquire_at(path: &Path) -> Result<Self, HostError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|source| HostError::io("open", PathBuf::from(path), source))?;
        file.lock()
            .map_err(|source| HostError::io("lock", PathBuf::from(path), source))?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    /// Eight threads enter the locked section at once; at no time are two inside it.
    #[test]
    fn holders_never_overlap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = Arc::new(dir.path().join("host.lock"));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (path, inside, most, barrier) =
                    (path.clone(), inside.clone(), most.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let _lock = HostLock::acquire_at(&path).expect("lock");
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
    }
}
