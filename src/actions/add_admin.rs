//! `add-admin email=<email> password=<password>`: `indico autocreate admin` in the `indico`
//! container. The password goes to the command's stdin (`--password-stdin`), never onto its
//! argv, into a log, a result or a failure message.

use juju_runtime::ActionParams;
use pebble_client::Pebble;

use super::{ActionOutcome, exec_on, indico_command, plausible_email};

/// The action's name in actions.yaml.
pub const NAME: &str = "add-admin";

/// Creates the admin; results `user` and `output`, or the failure
/// `Failed to create admin <email>: <output>`.
pub async fn run<P: Pebble>(params: &ActionParams, indico: Option<&P>) -> ActionOutcome {
    let email = params
        .get_str("email")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let password = params.get_str("password").unwrap_or_default();
    if !plausible_email(&email) {
        return ActionOutcome::failed(format!(
            "Failed to create admin {email}: not a valid email address"
        ));
    }
    if password.is_empty() {
        return ActionOutcome::failed(format!(
            "Failed to create admin {email}: the password must not be empty"
        ));
    }
    // `--` ends the options: the email is an argument whatever it looks like.
    let mut request = indico_command(["autocreate", "admin", "--password-stdin", "--", &email]);
    request.stdin = Some(format!("{password}\n").into_bytes());
    match exec_on(indico, &request).await {
        Ok(output) => ActionOutcome {
            results: [("user", email), ("output", output)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            failure: None,
        },
        Err(output) => ActionOutcome::failed(format!("Failed to create admin {email}: {output}")),
    }
}
