//! The model's debug log (what `juju debug-log` shows): one line per record,
//! `<entity>: <time> <LEVEL> <logger> <message>`, appended to a file in the state dir.
//! The charm's stdout is logged at DEBUG and its stderr at WARNING, per line as the
//! charm writes it (not when the hook ends), under `unit.<unit>.<hook>`; `juju-log`
//! under `unit.<unit>.juju-log`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An append-only debug log file.
#[derive(Debug)]
pub struct DebugLog {
    path: PathBuf,
    file: Mutex<Option<File>>,
}

impl DebugLog {
    /// Appends to `path` (created 0600 on first write).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            file: Mutex::new(None),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one record per line of `message`.
    pub fn write(&self, entity: &str, level: &str, logger: &str, message: &str) {
        let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        let mut text = String::new();
        for line in message.lines() {
            text.push_str(&format!("{entity}: {time} {level} {logger} {line}\n"));
        }
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        if guard.is_none() {
            match OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&self.path)
            {
                Ok(f) => *guard = Some(f),
                Err(err) => {
                    tracing::warn!(%err, path = %self.path.display(), "cannot open the debug log");
                    return;
                }
            }
        }
        if let Some(file) = guard.as_mut()
            && let Err(err) = file.write_all(text.as_bytes())
        {
            tracing::warn!(%err, "cannot write the debug log");
        }
    }
}
