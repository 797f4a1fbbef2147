//! The customization repository (`customization_sources_url`, indico-charm.md §3): a git
//! repository cloned as user `indico` into `/srv/indico/custom` in the `indico` container,
//! Indico's `CUSTOMIZATION_DIR`. A changed URL replaces the clone; the model's proxy applies.
//!
//! As for the plugins, the `indico` service environment records what is cloned (a hash of the
//! URL, never the URL, which may carry a token), so a hook in which the URL did not change
//! runs no exec, and a changed URL restarts Indico with the new templates.

use std::collections::BTreeMap;
use std::time::Duration;

use pebble_client::{Error as PebbleError, ExecRequest, MakeDirOptions, Pebble, Plan};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::containers::ContainerName;
use crate::plan::layers::INDICO_SERVICE;
use crate::state::State;

/// Indico's customization directory in the `indico` container.
pub const CUSTOM_DIR: &str = "/srv/indico/custom";
/// The service environment variable recording the cloned URL's hash.
pub const MARKER_VAR: &str = "CHARM_CUSTOMIZATION_HASH";
/// How long one git command may take.
pub const GIT_TIMEOUT: Duration = Duration::from_secs(300);
/// The remote URL git sees on its command line and records in `.git/config`; the real URL
/// (which may carry a token) reaches git only through the exec environment, as
/// `url.<real>.insteadOf = <alias>` (`GIT_CONFIG_COUNT`/`_KEY_0`/`_VALUE_0`, git >= 2.31).
pub const REMOTE_ALIAS: &str = "charm-customization:";

/// Cloning or pulling failed. The message never contains the URL (it may carry credentials).
#[derive(Debug, Error)]
#[error("Failed to {step} the customization repository: {reason}")]
pub struct CustomizationError {
    /// `clone`, `pull`, `remove`.
    pub step: &'static str,
    /// git's last error line, or why Pebble could not run it.
    pub reason: String,
    /// Whether the `indico` container's Pebble went away.
    pub unreachable: bool,
}

/// The record of `url` (a hash prefix).
pub fn marker(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What the `indico` container's current plan records as cloned.
pub fn observed(plan: &Plan) -> Option<String> {
    plan.services
        .get(INDICO_SERVICE)?
        .environment
        .get(MARKER_VAR)
        .cloned()
}

/// The record this hook wants (`Some(None)`: no repository); `None` when the config is not
/// valid.
pub fn wanted(state: &State) -> Option<Option<String>> {
    let config = state.config.as_ref().ok()?;
    Some(config.customization_sources_url.as_deref().map(marker))
}

/// Whether the clone must be (re)made or removed before Indico is configured in this hook.
/// Pure.
pub fn due(state: &State) -> bool {
    let Some(wanted) = wanted(state) else {
        return false;
    };
    crate::plan::configures_indico(state)
        && state.reachable(ContainerName::Indico)
        && state.extensions.customization != wanted
}

/// The variables the `indico` service gets: the record when a repository is cloned; `None`
/// while the clone does not match the config (then Indico is not configured in this hook).
/// Pure.
pub fn environment(state: &State) -> Option<BTreeMap<String, String>> {
    let wanted = wanted(state)?;
    if state.extensions.customization != wanted {
        return None;
    }
    Some(
        wanted
            .map(|m| BTreeMap::from([(MARKER_VAR.to_owned(), m)]))
            .unwrap_or_default(),
    )
}

fn git(args: &[&str], url: &str, proxy: &BTreeMap<String, String>) -> ExecRequest {
    let mut command = vec!["git".to_owned()];
    command.extend(args.iter().map(|a| (*a).to_owned()));
    let mut environment = proxy.clone();
    // Never wait for a username on a terminal that is not there.
    environment.insert("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned());
    for (name, value) in [
        ("GIT_CONFIG_COUNT", "1".to_owned()),
        ("GIT_CONFIG_KEY_0", format!("url.{url}.insteadOf")),
        ("GIT_CONFIG_VALUE_0", REMOTE_ALIAS.to_owned()),
    ] {
        environment.insert(name.to_owned(), value);
    }
    ExecRequest {
        command,
        environment,
        user: Some("indico".to_owned()),
        group: Some("indico".to_owned()),
        working_dir: Some("/srv/indico".to_owned()),
        timeout: Some(GIT_TIMEOUT),
        ..ExecRequest::default()
    }
}

/// `git clone -- charm-customization: /srv/indico/custom` as user indico, `url` in the
/// environment only (see [`REMOTE_ALIAS`]).
pub fn clone_request(url: &str, proxy: &BTreeMap<String, String>) -> ExecRequest {
    git(
        &["clone", "--quiet", "--", REMOTE_ALIAS, CUSTOM_DIR],
        url,
        proxy,
    )
}

/// `text` with the user information of every `scheme://user:password@host` URL replaced by
/// `***`: git and pip echo URLs in their errors, and a status message must not show a token.
pub fn redact_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(userinfo_end) => {
                out.push_str("***");
                rest = &tail[userinfo_end..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// The last non-empty line a failed command wrote to stderr (credentials redacted), or the
/// Pebble error.
pub fn last_error_line(e: &PebbleError) -> String {
    let line = match e {
        PebbleError::Exec(exec) => exec
            .stderr_text()
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map_or_else(|| e.to_string(), str::to_owned),
        _ => e.to_string(),
    };
    redact_credentials(&line)
}

fn failure(step: &'static str, e: &PebbleError) -> CustomizationError {
    CustomizationError {
        step,
        reason: last_error_line(e),
        unreachable: matches!(e, PebbleError::CannotConnect { .. }),
    }
}

async fn empty_dir<P: Pebble>(pebble: &P) -> Result<(), PebbleError> {
    let options = MakeDirOptions {
        make_parents: true,
        permissions: Some(0o755),
        user: Some("indico".to_owned()),
        group: Some("indico".to_owned()),
        ..MakeDirOptions::default()
    };
    pebble.make_dir(CUSTOM_DIR, &options).await
}

/// Replaces whatever is in the customization directory with a fresh clone of `url`, or with
/// an empty directory when there is none.
pub async fn sync<P: Pebble>(
    pebble: &P,
    url: Option<&str>,
    proxy: &BTreeMap<String, String>,
) -> Result<(), CustomizationError> {
    pebble
        .remove_path(CUSTOM_DIR, true)
        .await
        .map_err(|e| failure("remove", &e))?;
    let Some(url) = url else {
        return empty_dir(pebble).await.map_err(|e| failure("remove", &e));
    };
    tracing::info!("cloning the customization repository into {CUSTOM_DIR}");
    if let Err(e) = pebble.exec(&clone_request(url, proxy)).await {
        // Leave Indico an empty directory rather than none; the error is what matters.
        if let Err(again) = empty_dir(pebble).await {
            tracing::debug!("cannot recreate {CUSTOM_DIR}: {again}");
        }
        return Err(failure("clone", &e));
    }
    Ok(())
}

/// Pulls the clone (fast-forward only); re-clones when the directory is not a clone.
/// Returns whether the checked-out commit changed.
pub async fn pull<P: Pebble>(
    pebble: &P,
    url: &str,
    proxy: &BTreeMap<String, String>,
) -> Result<bool, CustomizationError> {
    let head = git(&["-C", CUSTOM_DIR, "rev-parse", "HEAD"], url, proxy);
    let before = match pebble.exec(&head).await {
        Ok(output) => output.stdout_text().trim().to_owned(),
        Err(PebbleError::Exec(_)) => {
            sync(pebble, Some(url), proxy).await?;
            return Ok(true);
        }
        Err(e) => return Err(failure("pull", &e)),
    };
    pebble
        .exec(&git(
            &["-C", CUSTOM_DIR, "pull", "--ff-only", "--quiet"],
            url,
            proxy,
        ))
        .await
        .map_err(|e| failure("pull", &e))?;
    let after = pebble
        .exec(&head)
        .await
        .map_err(|e| failure("pull", &e))?
        .stdout_text();
    Ok(after.trim() != before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clone_runs_as_indico_with_the_url_only_in_its_environment_and_no_prompt() {
        let proxy = BTreeMap::from([("HTTPS_PROXY".to_owned(), "http://squid:3128/".to_owned())]);
        let url = "https://bot:t0ken@example.com/custom.git";
        let request = clone_request(url, &proxy);
        assert_eq!(
            request.command,
            ["git", "clone", "--quiet", "--", REMOTE_ALIAS, CUSTOM_DIR]
        );
        assert_eq!(
            request.environment["GIT_CONFIG_KEY_0"],
            format!("url.{url}.insteadOf")
        );
        assert_eq!(request.environment["GIT_CONFIG_VALUE_0"], REMOTE_ALIAS);
        assert_eq!(request.environment["GIT_CONFIG_COUNT"], "1");
        assert_eq!(request.user.as_deref(), Some("indico"));
        assert_eq!(request.environment["HTTPS_PROXY"], "http://squid:3128/");
        assert_eq!(request.environment["GIT_TERMINAL_PROMPT"], "0");
    }

    /// Runs `request` with the host's git, `CUSTOM_DIR` replaced by `dir`.
    fn run_locally(request: &ExecRequest, dir: &std::path::Path) -> std::process::Output {
        let dir = dir.to_string_lossy();
        let args: Vec<String> = request.command[1..]
            .iter()
            .map(|a| a.replace(CUSTOM_DIR, &dir))
            .collect();
        std::process::Command::new(&request.command[0])
            .args(args)
            .envs(&request.environment)
            .output()
            .expect("git is installed")
    }

    fn git_in(dir: &std::path::Path, args: &[&str]) {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t", "-C"])
            .arg(dir)
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn real_git_clones_and_pulls_through_the_alias_and_never_records_the_url() {
        let tmp = tempfile::tempdir().unwrap();
        let (origin, work, custom) = (
            tmp.path().join("origin.git"),
            tmp.path().join("work"),
            tmp.path().join("custom"),
        );
        git_in(
            tmp.path(),
            &["init", "-q", "--bare", &origin.to_string_lossy()],
        );
        git_in(
            tmp.path(),
            &["clone", "-q", &origin.to_string_lossy(), "work"],
        );
        git_in(&work, &["commit", "-q", "--allow-empty", "-m", "one"]);
        git_in(&work, &["push", "-q", "origin", "HEAD"]);
        let url = format!("file://{}", origin.display());
        let proxy = BTreeMap::new();

        let out = run_locally(&clone_request(&url, &proxy), &custom);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = std::fs::read_to_string(custom.join(".git/config")).unwrap();
        assert!(
            config.contains(REMOTE_ALIAS) && !config.contains(&url),
            "{config}"
        );

        git_in(&work, &["commit", "-q", "--allow-empty", "-m", "two"]);
        git_in(&work, &["push", "-q", "origin", "HEAD"]);
        let pull = git(
            &["-C", CUSTOM_DIR, "pull", "--ff-only", "--quiet"],
            &url,
            &proxy,
        );
        let out = run_locally(&pull, &custom);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let head = run_locally(
            &git(
                &["-C", CUSTOM_DIR, "log", "-1", "--format=%s"],
                &url,
                &proxy,
            ),
            &custom,
        );
        assert_eq!(String::from_utf8_lossy(&head.stdout).trim(), "two");
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_credentials(
                "fatal: unable to access 'https://bot:ghp_T0k3n@github.com/o/r.git/': 403"
            ),
            "fatal: unable to access 'https://***@github.com/o/r.git/': 403"
        );
        assert_eq!(
            redact_credentials("see https://example.com/a@b and git@host:x"),
            "see https://example.com/a@b and git@host:x"
        );
        assert_eq!(
            redact_credentials("x://u@h y://v:w@k/"),
            "x://***@h y://***@k/"
        );
    }

    #[test]
    fn the_marker_hides_the_url() {
        let url = "https://user:t0ken@example.com/custom.git";
        let m = marker(url);
        assert_eq!(m.len(), 32);
        assert!(!m.contains("t0ken"));
        assert_ne!(m, marker("https://example.com/other.git"));
    }
}
