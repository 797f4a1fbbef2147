//! Fires `<container>-pebble-ready` the way Juju's pebble poller does: it asks each
//! workload container's Pebble for `GET /v1/system-info` every few seconds and reports a
//! container whenever its boot id is new (first seen, or Pebble restarted).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running poller; stops when dropped.
#[derive(Debug)]
pub struct PebbleWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PebbleWatch {
    /// Polls `sockets` (container name to the host path of its Pebble socket) every
    /// `interval` and calls `ready(container)` on each new boot id.
    pub fn start(
        sockets: BTreeMap<String, PathBuf>,
        interval: Duration,
        ready: impl Fn(&str) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pebble-watch".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(err) => {
                        tracing::error!(%err, "cannot start the Pebble poller's runtime");
                        return;
                    }
                };
                let mut clients = BTreeMap::new();
                for (name, socket) in &sockets {
                    match pebble_client::Client::new(socket.clone()) {
                        Ok(c) => {
                            clients.insert(name.clone(), c.with_request_timeout(interval));
                        }
                        Err(err) => tracing::warn!(%err, container = %name, "no Pebble client"),
                    }
                }
                let mut boot_ids: BTreeMap<String, String> = BTreeMap::new();
                while !flag.load(Ordering::SeqCst) {
                    for (name, client) in &clients {
                        let Ok(info) = runtime.block_on(client.system_info()) else {
                            continue;
                        };
                        if boot_ids.get(name) != Some(&info.boot_id) {
                            boot_ids.insert(name.clone(), info.boot_id);
                            ready(name);
                        }
                    }
                    // Sleep in small steps so that stopping is quick.
                    let mut slept = Duration::ZERO;
                    while slept < interval && !flag.load(Ordering::SeqCst) {
                        let step = Duration::from_millis(50).min(interval - slept);
                        std::thread::sleep(step);
                        slept += step;
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for PebbleWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
