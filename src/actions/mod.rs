//! The charm's actions (actions.yaml, indico-charm.md §5): `add-admin`, `anonymize-user` and
//! `refresh-external-resources`. Each runs its commands in the workload containers through
//! Pebble exec and reports with `action-set`, or fails loudly with `action-fail` naming what
//! failed. An action never reconciles the pod and never writes relation data.

pub mod add_admin;
pub mod anonymize_user;
pub mod refresh_external_resources;

use std::collections::BTreeMap;
use std::time::Duration;

use juju_runtime::{ActionEvent, HookToolError, HookTools, JujuContext};
use pebble_client::{Error as PebbleError, ExecRequest, Pebble};
use thiserror::Error;

use crate::containers::ContainerName;
use crate::plan::files::VENV;
use crate::plan::layers::INDICO_SERVICE;

/// How long one Indico CLI command may run (it loads all of Indico, ~10 s, then one query).
pub const INDICO_COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

/// An action could not even report its outcome: a hook tool failed. (Everything else,
/// including an unreachable container, is an `action-fail`, not an error.)
#[derive(Debug, Error)]
pub enum ActionError {
    /// `action-get`, `action-set`, `action-fail` or `config-get` failed.
    #[error(transparent)]
    HookTool(#[from] HookToolError),
}

/// What an action ended with, before it is reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionOutcome {
    /// Results for `action-set` (set even when the action fails, for what did succeed).
    pub results: BTreeMap<String, String>,
    /// The `action-fail` message, when the action failed.
    pub failure: Option<String>,
}

impl ActionOutcome {
    /// A failed action with no results.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            results: BTreeMap::new(),
            failure: Some(message.into()),
        }
    }
}

/// Runs the action of `event` and reports its outcome through the hook tools.
pub async fn run<H: HookTools, P: Pebble>(
    context: &JujuContext,
    event: &ActionEvent,
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
) -> Result<ActionOutcome, ActionError> {
    let indico = pebbles.get(&ContainerName::Indico);
    let outcome = match event.name.as_str() {
        add_admin::NAME => {
            let params = tools.action_get()?;
            add_admin::run(&params, indico).await
        }
        anonymize_user::NAME => {
            let params = tools.action_get()?;
            anonymize_user::run(&params, indico).await
        }
        refresh_external_resources::NAME => {
            refresh_external_resources::run(context, tools, pebbles).await?
        }
        other => ActionOutcome::failed(format!("Unknown action {other}")),
    };
    report(tools, &outcome)?;
    Ok(outcome)
}

fn report<H: HookTools>(tools: &H, outcome: &ActionOutcome) -> Result<(), HookToolError> {
    if !outcome.results.is_empty() {
        tools.action_set(&outcome.results)?;
    }
    if let Some(message) = &outcome.failure {
        tracing::warn!("action failed: {message}");
        tools.action_fail(message)?;
    }
    Ok(())
}

/// `indico <args...>` in the `indico` container, in the context of the `indico` service: its
/// user (`indico`), working directory and environment (database, secret key, proxy), exactly
/// as the running Indico sees them.
pub fn indico_command<S: Into<String>>(args: impl IntoIterator<Item = S>) -> ExecRequest {
    let mut command = vec![format!("{VENV}/bin/indico")];
    command.extend(args.into_iter().map(Into::into));
    ExecRequest {
        command,
        service_context: Some(INDICO_SERVICE.to_owned()),
        timeout: Some(INDICO_COMMAND_TIMEOUT),
        ..ExecRequest::default()
    }
}

/// What a failed command said, for a failure message: its output (stderr, then stdout) when
/// it ran, else why it could not run (Pebble unreachable, refused, timed out).
pub fn failure_output(error: &PebbleError) -> String {
    match error {
        PebbleError::Exec(e) => {
            let text = [e.stderr_text(), e.stdout_text()]
                .iter()
                .map(|t| t.trim())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            if text.is_empty() {
                format!("exited with code {}", e.exit_code)
            } else {
                text
            }
        }
        other => other.to_string(),
    }
}

/// Runs `request` on `pebble`, treating a missing Pebble like an unreachable one.
pub async fn exec_on<P: Pebble>(
    pebble: Option<&P>,
    request: &ExecRequest,
) -> Result<String, String> {
    let Some(pebble) = pebble else {
        return Err("the indico container is not known to this charm".to_owned());
    };
    match pebble.exec(request).await {
        Ok(output) => Ok(output.stdout_text().trim().to_owned()),
        Err(e) => Err(failure_output(&e)),
    }
}

/// A plausible email address for a command argument: non-empty, one `@` with text on both
/// sides, no whitespace or control characters. Indico decides the rest.
pub fn plausible_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_an_at_sign_and_no_whitespace() {
        assert!(plausible_email("admin@example.com"));
        for bad in ["", "admin", "@example.com", "admin@", "a b@c.d", "a@b\nc"] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn failure_output_prefers_what_the_command_said() {
        let err = PebbleError::Exec(pebble_client::ExecError {
            program: "indico".into(),
            exit_code: 1,
            stdout: b"partial\n".to_vec(),
            stderr: b"A user with email \"a@b.c\" already exists\n".to_vec(),
        });
        assert_eq!(
            failure_output(&err),
            "A user with email \"a@b.c\" already exists\npartial"
        );
        let silent = PebbleError::Exec(pebble_client::ExecError {
            program: "indico".into(),
            exit_code: 3,
            stdout: Vec::new(),
            stderr: Vec::new(),
        });
        assert_eq!(failure_output(&silent), "exited with code 3");
    }
}
