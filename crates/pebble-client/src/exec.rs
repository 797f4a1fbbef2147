//! Running a command in the workload container: `POST /v1/exec`, then the task's websockets
//! (control, stdio, stderr) over the same Unix socket, then the exit code from the change.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use tokio::net::UnixStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};

use crate::client::Client;
use crate::duration::GoDuration;
use crate::error::{Error, ExecError};

/// A command to run through Pebble.
///
/// `environment` and `stdin` may carry secrets: they are never logged, and `Debug` shows only
/// the variable names and the stdin length.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExecRequest {
    /// argv; `command[0]` is looked up in Pebble's PATH (no shell).
    pub command: Vec<String>,
    /// Extra environment, merged over Pebble's own (and the service context's).
    pub environment: BTreeMap<String, String>,
    /// Working directory (default: the target user's home, else `/`).
    pub working_dir: Option<String>,
    /// Run as this user name.
    pub user: Option<String>,
    /// Run as this UID.
    pub user_id: Option<u32>,
    /// Run with this group name.
    pub group: Option<String>,
    /// Run with this GID.
    pub group_id: Option<u32>,
    /// Pebble kills the process after this long; the call then fails with
    /// [`Error::Timeout`](crate::Error::Timeout).
    pub timeout: Option<Duration>,
    /// Bytes written to the process's stdin (then stdin is closed).
    pub stdin: Option<Vec<u8>>,
    /// Inherit environment, user, group and working dir of this service.
    pub service_context: Option<String>,
}

impl ExecRequest {
    /// A request to run `command` with everything else unset.
    pub fn new<I, S>(command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            command: command.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for ExecRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecRequest")
            .field("command", &self.command.first())
            .field("args", &self.command.len().saturating_sub(1))
            .field("environment", &self.environment.keys().collect::<Vec<_>>())
            .field("working_dir", &self.working_dir)
            .field("user", &self.user)
            .field("user_id", &self.user_id)
            .field("group", &self.group)
            .field("group_id", &self.group_id)
            .field("timeout", &self.timeout)
            .field("stdin_len", &self.stdin.as_ref().map(Vec::len))
            .field("service_context", &self.service_context)
            .finish()
    }
}

/// A command that exited 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Always 0 here (a non-zero exit is an [`ExecError`](crate::ExecError)).
    pub exit_code: i32,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Largest stdin chunk sent in one websocket frame.
const STDIN_CHUNK: usize = 64 * 1024;
/// Extra time, beyond the command's own timeout, for Pebble to record the exit code.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// The TEXT frame that marks the end of a stream, in both directions.
const END_OF_STREAM: &str = r#"{"command":"end"}"#;

/// Body of `POST /v1/exec`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ExecBody<'a> {
    command: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    service_context: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    environment: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_dir: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    terminal: bool,
    interactive: bool,
    split_stderr: bool,
}

/// `result` of `POST /v1/exec`.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ExecStarted {
    task_id: String,
}

type Socket = WebSocketStream<UnixStream>;

impl Client {
    /// Runs `request.command` to completion: `POST /v1/exec`, then stdin/stdout/stderr over the
    /// task's websockets, then the exit code from the change.
    ///
    /// Fails with [`Error::Exec`] on a non-zero exit (with the output), [`Error::Timeout`] when
    /// Pebble killed the command at `request.timeout`, and [`Error::Api`] when Pebble refused
    /// to start it (for example `cannot find executable`). Without a timeout the call lasts as
    /// long as the command. Neither the environment nor stdin is ever logged.
    pub async fn exec(&self, request: &ExecRequest) -> Result<ExecOutput, Error> {
        let program = request
            .command
            .first()
            .ok_or_else(|| Error::invalid("exec request", "the command is empty"))?;
        let what = format!("POST /v1/exec ({program})");
        let body = ExecBody {
            command: &request.command,
            service_context: request.service_context.as_deref(),
            environment: &request.environment,
            working_dir: request.working_dir.as_deref(),
            timeout: request.timeout.map(|t| GoDuration::from(t).to_string()),
            user_id: request.user_id,
            user: request.user.as_deref(),
            group_id: request.group_id,
            group: request.group.as_deref(),
            terminal: false,
            interactive: false,
            split_stderr: true,
        };
        let (change_id, started) = self
            .call_async(&what, self.request(Method::POST, "/v1/exec").json(&body))
            .await?;
        let started: ExecStarted = crate::client::decode(&what, started)?;
        let task = crate::changes::path_segment(&started.task_id)?;

        // Pebble starts the process once stdio and stderr are connected; control comes first,
        // as ops does, and is the only socket that must not be closed abnormally (Pebble
        // would SIGKILL the process).
        let control = self.websocket(task, "control").await?;
        let stdio = self.websocket(task, "stdio").await?;
        let stderr = self.websocket(task, "stderr").await?;
        let (stdin_sink, stdout_stream) = stdio.split();
        let stdin = request.stdin.as_deref().unwrap_or_default();
        let feed_stdin = async {
            // Pebble closes the control socket when the process exits. A process that exits
            // without reading all its stdin leaves the rest unread and Pebble stops reading
            // the socket, so stdin is abandoned then instead of blocking forever.
            let mut exited = std::pin::pin!(wait_for_exit(control));
            tokio::select! {
                sent = send_stdin(stdin_sink, stdin) => {
                    if let Err(error) = sent {
                        tracing::debug!(%error, "exec stdin not fully sent");
                    }
                    exited.await;
                }
                () = &mut exited => tracing::debug!("process exited before reading all of stdin"),
            }
            Ok(())
        };
        let ((), stdout, stderr) = tokio::try_join!(
            feed_stdin,
            read_until_end(stdout_stream, "stdout"),
            read_until_end(stderr.split().1, "stderr"),
        )?;

        let wait = request
            .timeout
            .map_or(self.change_timeout(), |t| t + EXIT_GRACE);
        let change = self.wait_change(&change_id, wait).await?;
        if let Some(err) = &change.err {
            if let Some(after) = request.timeout.filter(|_| err.contains("timed out")) {
                return Err(Error::Timeout {
                    what: format!("command {program:?} (Pebble killed it)"),
                    after,
                });
            }
            return Err(Error::ChangeFailed {
                id: change.id.clone(),
                kind: change.kind.clone(),
                err: err.clone(),
            });
        }
        let exit_code = change.exit_code().ok_or_else(|| {
            Error::protocol(&what, format!("change {} has no exit code", change.id))
        })?;
        if exit_code != 0 {
            return Err(Error::Exec(ExecError {
                program: program.clone(),
                exit_code,
                stdout,
                stderr,
            }));
        }
        Ok(ExecOutput {
            exit_code,
            stdout,
            stderr,
        })
    }

    /// Opens websocket `channel` of exec task `task` on its own connection to the socket.
    async fn websocket(&self, task: &str, channel: &str) -> Result<Socket, Error> {
        // The upgrade is a GET request of its own.
        self.count_request(false);
        let stream =
            UnixStream::connect(self.socket())
                .await
                .map_err(|e| Error::CannotConnect {
                    socket: self.socket().to_owned(),
                    source: e.into(),
                })?;
        let url = format!("ws://localhost/v1/tasks/{task}/websocket/{channel}");
        let (socket, _) = client_async(url, stream)
            .await
            .map_err(|e| Error::protocol(format!("exec {channel} websocket"), e))?;
        Ok(socket)
    }
}

/// Sends stdin as binary frames, then the end-of-stream marker (always, so a command reading
/// stdin does not hang).
async fn send_stdin(
    mut sink: futures_util::stream::SplitSink<Socket, Message>,
    stdin: &[u8],
) -> Result<(), Error> {
    for chunk in stdin.chunks(STDIN_CHUNK) {
        sink.send(Message::binary(chunk.to_vec()))
            .await
            .map_err(|e| Error::protocol("exec stdin", e))?;
    }
    sink.send(Message::text(END_OF_STREAM))
        .await
        .map_err(|e| Error::protocol("exec stdin", e))
}

/// Collects binary frames until the end-of-stream marker (or the socket closes).
async fn read_until_end(
    mut stream: futures_util::stream::SplitStream<Socket>,
    name: &str,
) -> Result<Vec<u8>, Error> {
    let mut output = Vec::new();
    while let Some(message) = stream.next().await {
        match message.map_err(|e| Error::protocol(format!("exec {name}"), e))? {
            Message::Binary(bytes) => output.extend_from_slice(&bytes),
            Message::Text(text) if is_end_marker(text.as_str()) => break,
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(output)
}

/// Reads the control socket until Pebble closes it, which it does when the process exits.
async fn wait_for_exit(mut control: Socket) {
    while let Some(message) = control.next().await {
        match message {
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn is_end_marker(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Command {
        command: String,
    }
    serde_json::from_str::<Command>(text).is_ok_and(|c| c.command == "end")
}
