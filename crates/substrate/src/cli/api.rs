//! The controller's command socket: CLI commands that change the model send one JSON
//! [`Request`] over `<state>/controller.socket` and read one JSON [`Response`]; reads
//! (`status`, `pods`, `config`) use the persisted model instead.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::agent::PodImages;
use crate::model::ActionRecord;

/// How a charm's units run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Runtime {
    /// One podman pod per unit, built from these images.
    Pods {
        /// The pod's images.
        charm: String,
        /// The indico image.
        indico: String,
        /// The nginx image.
        nginx: String,
        /// The exporter image.
        exporter: String,
    },
    /// Host processes (no pods): for charms without workloads, and for tests.
    Local,
}

impl Runtime {
    /// The pod images, when units run in pods.
    pub fn images(&self) -> Option<PodImages> {
        match self {
            Self::Pods {
                charm,
                indico,
                nginx,
                exporter,
            } => Some(PodImages {
                charm: charm.clone(),
                indico: indico.clone(),
                nginx: nginx.clone(),
                exporter: exporter.clone(),
            }),
            Self::Local => None,
        }
    }
}

/// A command for the controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "request")]
pub enum Request {
    /// Is it up?
    Ping,
    /// Deploy a charm directory.
    Deploy {
        /// Application name.
        app: String,
        /// The staged charm directory.
        charm_dir: PathBuf,
        /// Number of units.
        units: u32,
        /// Where units run.
        runtime: Runtime,
    },
    /// Add a remote application played by a provider.
    AddRemote {
        /// Application name.
        app: String,
        /// `postgresql` or `redis`.
        provider: String,
    },
    /// Relate two endpoints.
    Integrate {
        /// `app` or `app:endpoint`.
        a: String,
        /// `app` or `app:endpoint`.
        b: String,
    },
    /// Remove a relation.
    RemoveRelation {
        /// `app` or `app:endpoint`.
        a: String,
        /// `app` or `app:endpoint`.
        b: String,
    },
    /// Set config values.
    ConfigSet {
        /// Application.
        app: String,
        /// Values as text.
        values: BTreeMap<String, String>,
    },
    /// Reset options to their defaults.
    ConfigReset {
        /// Application.
        app: String,
        /// Options.
        keys: Vec<String>,
    },
    /// Run an action.
    Run {
        /// Unit.
        unit: String,
        /// Action name.
        action: String,
        /// Parameters as text.
        params: BTreeMap<String, String>,
        /// Wait this many seconds for the result (0: do not wait).
        wait_seconds: u64,
    },
    /// Change the number of units.
    Scale {
        /// Application.
        app: String,
        /// Units wanted.
        units: u32,
    },
    /// Remove an application.
    Remove {
        /// Application.
        app: String,
    },
    /// Make the next calls of a hook tool fail.
    Fault {
        /// Tool name.
        tool: String,
        /// Only this unit's calls.
        unit: Option<String>,
        /// How many calls.
        count: u32,
    },
    /// Remove everything and exit.
    Down,
}

impl Request {
    /// The request as it may be logged: config values and action parameters (which may be
    /// passwords, e.g. `add-admin password=...`) replaced by `<redacted>`, names kept.
    pub fn redacted(&self) -> Request {
        let hide = |map: &BTreeMap<String, String>| {
            map.keys()
                .map(|k| (k.clone(), "<redacted>".to_owned()))
                .collect()
        };
        match self {
            Request::ConfigSet { app, values } => Request::ConfigSet {
                app: app.clone(),
                values: hide(values),
            },
            Request::Run {
                unit,
                action,
                params,
                wait_seconds,
            } => Request::Run {
                unit: unit.clone(),
                action: action.clone(),
                params: hide(params),
                wait_seconds: *wait_seconds,
            },
            other => other.clone(),
        }
    }
}

/// The controller's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "response")]
pub enum Response {
    /// Done; a line for the user (may be empty).
    Ok {
        /// What happened.
        message: String,
    },
    /// An action's record.
    Action {
        /// The action.
        action: ActionRecord,
    },
    /// Refused or failed.
    Error {
        /// Why.
        message: String,
    },
}

/// The command socket in `state_dir`.
pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join("controller.socket")
}

/// Sends `request` and waits (up to `timeout`) for the answer.
pub fn send(state_dir: &Path, request: &Request, timeout: Duration) -> std::io::Result<Response> {
    let mut stream = UnixStream::connect(socket_path(state_dir))?;
    stream.set_read_timeout(Some(timeout))?;
    let body = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    stream.write_all(&body)?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    serde_json::from_slice(&answer).map_err(std::io::Error::other)
}

/// Whether a controller answers on `state_dir`'s socket.
pub fn is_running(state_dir: &Path) -> bool {
    matches!(
        send(state_dir, &Request::Ping, Duration::from_secs(2)),
        Ok(Response::Ok { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_requests_keep_names_and_drop_values() {
        let run = Request::Run {
            unit: "indico/0".into(),
            action: "add-admin".into(),
            params: BTreeMap::from([
                ("email".to_owned(), "a@example.com".to_owned()),
                ("password".to_owned(), "s3cret-pw".to_owned()),
            ]),
            wait_seconds: 60,
        };
        let config = Request::ConfigSet {
            app: "indico".into(),
            values: BTreeMap::from([("smtp_password".to_owned(), "s3cret-pw".to_owned())]),
        };
        for request in [run, config] {
            let logged = format!("{:?}", request.redacted());
            assert!(!logged.contains("s3cret-pw"), "{logged}");
            assert!(logged.contains("<redacted>"), "{logged}");
            assert!(format!("{request:?}").contains("s3cret-pw"));
        }
        let logged = format!(
            "{:?}",
            Request::Scale {
                app: "indico".into(),
                units: 2
            }
            .redacted()
        );
        assert!(
            logged.contains("indico") && logged.contains('2'),
            "{logged}"
        );
    }
}
