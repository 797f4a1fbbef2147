//! Maps a failed hook tool (exit code + stderr) to a [`HookToolError`] variant, the way
//! `docs/juju-contract.md` §2.0 describes Juju's errors and ops classifies them.

use crate::error::HookToolError;

/// The error for a tool that exited with `exit_code` (`None`: killed by a signal) and
/// printed `stderr`. The message is stderr without Juju's `ERROR ` prefix, trimmed.
///
/// Rules, first match wins:
/// - `not running an action` → [`HookToolError::NotRunningAction`];
/// - `relation not found` from `relation-*`, `network-get` or any `-r` parse error
///   (exit 2 included) → [`HookToolError::RelationNotFound`];
/// - exit 2 → [`HookToolError::Usage`];
/// - `not found` from `secret-*` → [`HookToolError::SecretNotFound`];
/// - `not the leader`, `cannot write relation settings` → [`HookToolError::NotLeader`];
/// - `permission denied`, `access denied` → [`HookToolError::PermissionDenied`];
/// - anything else → [`HookToolError::Failed`].
pub fn classify_failure(
    tool: &'static str,
    exit_code: Option<i32>,
    stderr: &[u8],
) -> HookToolError {
    let text = String::from_utf8_lossy(stderr);
    let trimmed = text.trim();
    let message = trimmed
        .strip_prefix("ERROR ")
        .unwrap_or(trimmed)
        .trim()
        .to_owned();
    let lower = message.to_ascii_lowercase();
    if lower.contains("not running an action") {
        return HookToolError::NotRunningAction { tool };
    }
    if lower.contains("relation not found") {
        return HookToolError::RelationNotFound { tool, message };
    }
    if exit_code == Some(2) {
        return HookToolError::Usage { tool, message };
    }
    if tool.starts_with("secret-") && lower.contains("not found") {
        return HookToolError::SecretNotFound { tool, message };
    }
    if lower.contains("not the leader") || lower.contains("cannot write relation settings") {
        return HookToolError::NotLeader { tool, message };
    }
    if lower.contains("permission denied") || lower.contains("access denied") {
        return HookToolError::PermissionDenied { tool, message };
    }
    HookToolError::Failed {
        tool,
        exit_code,
        message,
    }
}
