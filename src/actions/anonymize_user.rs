//! `anonymize-user email=<a>,<b>,...`: `indico anonymize user <email>` in the `indico`
//! container, once per address, in the order given, stopping at the first failure.

use juju_runtime::ActionParams;
use pebble_client::Pebble;

use super::{ActionOutcome, exec_on, indico_command, plausible_email};

/// The action's name in actions.yaml.
pub const NAME: &str = "anonymize-user";
/// The most addresses one run accepts.
pub const MAX_EMAILS: usize = 50;
/// The failure for more than [`MAX_EMAILS`] addresses (indico-charm.md §5, verbatim).
pub const TOO_MANY_MESSAGE: &str =
    "Failed to anonymize user: List of more than 50 emails are not allowed";

/// The addresses of a comma-separated list, trimmed, empty entries dropped.
pub fn parse_emails(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Anonymizes every address; results `user` (the addresses done) and `output` (the
/// commands' outputs, one per line), or a failure naming the address that failed (with the
/// results of those done before it).
pub async fn run<P: Pebble>(params: &ActionParams, indico: Option<&P>) -> ActionOutcome {
    let emails = parse_emails(params.get_str("email").unwrap_or_default());
    if emails.len() > MAX_EMAILS {
        return ActionOutcome::failed(TOO_MANY_MESSAGE);
    }
    if emails.is_empty() {
        return ActionOutcome::failed("Failed to anonymize user: no email address given");
    }
    if let Some(bad) = emails.iter().find(|e| !plausible_email(e)) {
        return ActionOutcome::failed(format!(
            "Failed to anonymize user {bad}: not a valid email address"
        ));
    }
    let mut done = Vec::new();
    let mut outputs = Vec::new();
    let mut failure = None;
    for email in &emails {
        let request = indico_command(["anonymize", "user", "--", email.as_str()]);
        match exec_on(indico, &request).await {
            Ok(output) => {
                done.push(email.clone());
                outputs.push(output);
            }
            Err(output) => {
                failure = Some(format!("Failed to anonymize user {email}: {output}"));
                break;
            }
        }
    }
    let results = if done.is_empty() {
        Default::default()
    } else {
        [("user", done.join(",")), ("output", outputs.join("\n"))]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    };
    ActionOutcome { results, failure }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_trimmed_and_empty_entries_dropped() {
        assert_eq!(
            parse_emails(" a@b.c ,,d@e.f, "),
            ["a@b.c".to_owned(), "d@e.f".to_owned()]
        );
        assert!(parse_emails(" , ").is_empty());
    }
}
