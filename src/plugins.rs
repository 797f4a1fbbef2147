//! External Indico plugins (`external_plugins`, indico-charm.md §3): installed with pip into the
//! venv of the `indico` and `indico-celery` containers, Indico pinned to the image's version by
//! a pip constraint, and enabled through `INDICO_PLUGINS`. pip runs as root, like the image
//! build that made the venv: the venv stays read-only for the `indico` user the workload runs
//! as, so the application cannot rewrite its own code.
//!
//! What a container has installed is recorded in its own Pebble layer: the service
//! environment carries a marker (a hash of the specs and the Indico version) next to the
//! enabled plugin names. Gather reads it from the plan it reads anyway, so a hook in which
//! the list did not change runs no exec. A restarted container has a fresh filesystem and no
//! layer, so the missing marker correctly means "install again".

use std::collections::BTreeMap;
use std::time::Duration;

use pebble_client::{Error as PebbleError, ExecRequest, Pebble, Plan, PushOptions};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::containers::ContainerName;
use crate::plan::files::VENV;
use crate::plan::layers::{CELERY_SERVICE, INDICO_SERVICE};
use crate::proxy::ProxySettings;
use crate::state::State;

/// indico.conf's list of enabled plugins (added to the image's own CLI plugins).
pub const PLUGINS_VAR: &str = "INDICO_PLUGINS";
/// The service environment variable recording what was installed.
pub const MARKER_VAR: &str = "CHARM_PLUGINS_HASH";
/// The service environment variable recording the external plugins' names (`INDICO_PLUGINS`
/// may also hold plugins other parts of the charm enable, e.g. S3's `storage_s3`).
pub const NAMES_VAR: &str = "CHARM_EXTERNAL_PLUGINS";
/// The pip constraints file pinning Indico, pushed before each install.
pub const CONSTRAINTS_PATH: &str = "/srv/indico/etc/charm-plugin-constraints.txt";
/// The requirements file holding the specs (0600, user indico), pushed before each install:
/// a spec may be a URL with a token, which must not be on a command line.
pub const REQUIREMENTS_PATH: &str = "/srv/indico/etc/charm-plugins.txt";
/// The containers that run Indico code and need the plugins.
pub const CONTAINERS: [ContainerName; 2] = [ContainerName::Indico, ContainerName::IndicoCelery];
/// How long one pip run may take (downloads, maybe builds).
pub const PIP_TIMEOUT: Duration = Duration::from_secs(900);
/// Lists the plugin names the installed specs provide (run by the venv's Python).
const LIST_PLUGINS_SCRIPT: &str = include_str!("plugins/list_plugins.py");

/// What a container's layer records as installed and enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledPlugins {
    /// [`marker`] of the specs and Indico version installed.
    pub marker: String,
    /// The plugin names enabled (entry points `indico.plugins` of the installed specs).
    pub names: Vec<String>,
}

/// Installing failed: the message names the container and the step; the status is Blocked
/// and the next hook tries again.
#[derive(Debug, Error)]
#[error("Failed to install external plugins in {container}: {reason}")]
pub struct PluginError {
    /// The container.
    pub container: ContainerName,
    /// What went wrong (pip's last error line, or why Pebble could not run it).
    pub reason: String,
    /// Whether the container's Pebble went away (then it is Waiting for Pebble, not Blocked).
    pub unreachable: bool,
}

/// What one install did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstallReport {
    /// The plugin names to enable.
    pub names: Vec<String>,
    /// What pip installed or upgraded (`name-version`, from "Successfully installed ...").
    pub updated: Vec<String>,
}

/// The marker of `specs` installed against Indico `indico_version`; `None` without specs.
pub fn marker(specs: &[String], indico_version: &str) -> Option<String> {
    if specs.is_empty() {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(indico_version.as_bytes());
    for spec in specs {
        hasher.update([0]);
        hasher.update(spec.as_bytes());
    }
    let digest = hasher.finalize();
    Some(digest.iter().take(16).map(|b| format!("{b:02x}")).collect())
}

/// The model's proxy settings as the environment of a pip or git command.
pub fn proxy_environment(proxy: &ProxySettings) -> BTreeMap<String, String> {
    proxy
        .environment()
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// The Pebble service in `container` whose environment carries the record.
pub fn service_of(container: ContainerName) -> Option<&'static str> {
    match container {
        ContainerName::Indico => Some(INDICO_SERVICE),
        ContainerName::IndicoCelery => Some(CELERY_SERVICE),
        _ => None,
    }
}

/// What `plan` (a container's current plan) records as installed in `container`.
pub fn observed(plan: &Plan, container: ContainerName) -> Option<InstalledPlugins> {
    let environment = &plan.services.get(service_of(container)?)?.environment;
    let marker = environment.get(MARKER_VAR)?.clone();
    let names = environment
        .get(NAMES_VAR)
        .map(|list| {
            list.split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some(InstalledPlugins { marker, names })
}

/// The marker this hook wants, when the config is valid and the image's version known.
pub fn wanted(state: &State) -> Option<String> {
    let config = state.config.as_ref().ok()?;
    marker(
        &config.external_plugins,
        state.migration.image_version.as_deref()?,
    )
}

/// The containers where plugins must be installed before this hook can configure them: the
/// Indico layers are due, the container is reachable, and its record differs from the wanted
/// marker. Pure.
pub fn due(state: &State) -> Vec<ContainerName> {
    let Some(wanted) = wanted(state) else {
        return Vec::new();
    };
    if !crate::plan::configures_indico(state) {
        return Vec::new();
    }
    CONTAINERS
        .into_iter()
        .filter(|c| state.reachable(*c))
        .filter(|c| {
            state
                .extensions
                .plugins
                .get(c)
                .is_none_or(|p| p.marker != wanted)
        })
        .collect()
}

/// The variables `container`'s service gets for the plugins: none without external plugins;
/// the enabled names and the marker once installed; `None` while they are not installed
/// (then the container is not configured in this hook). Pure.
pub fn environment(state: &State, container: ContainerName) -> Option<BTreeMap<String, String>> {
    let Some(wanted) = wanted(state) else {
        return Some(BTreeMap::new());
    };
    let installed = state
        .extensions
        .plugins
        .get(&container)
        .filter(|p| p.marker == wanted)?;
    let names = installed.names.join(",");
    Some(BTreeMap::from([
        (PLUGINS_VAR.to_owned(), names.clone()),
        (NAMES_VAR.to_owned(), names),
        (MARKER_VAR.to_owned(), wanted),
    ]))
}

/// The pip command installing the specs of [`REQUIREMENTS_PATH`] with Indico pinned.
pub fn pip_request(upgrade: bool, proxy: &BTreeMap<String, String>) -> ExecRequest {
    let mut command = vec![format!("{VENV}/bin/pip"), "install".to_owned()];
    if upgrade {
        command.push("--upgrade".to_owned());
    }
    command.extend([
        "--no-input".to_owned(),
        "--root-user-action=ignore".to_owned(),
        "--constraint".to_owned(),
        CONSTRAINTS_PATH.to_owned(),
        "--requirement".to_owned(),
        REQUIREMENTS_PATH.to_owned(),
    ]);
    ExecRequest {
        command,
        environment: proxy.clone(),
        user: Some("root".to_owned()),
        group: Some("root".to_owned()),
        working_dir: Some("/srv/indico".to_owned()),
        timeout: Some(PIP_TIMEOUT),
        ..ExecRequest::default()
    }
}

/// The command listing the plugin names the specs of [`REQUIREMENTS_PATH`] provide.
pub fn list_request() -> ExecRequest {
    let command = vec![
        format!("{VENV}/bin/python3"),
        "-".to_owned(),
        REQUIREMENTS_PATH.to_owned(),
    ];
    ExecRequest {
        command,
        user: Some("indico".to_owned()),
        group: Some("indico".to_owned()),
        working_dir: Some("/srv/indico".to_owned()),
        timeout: Some(Duration::from_secs(60)),
        stdin: Some(LIST_PLUGINS_SCRIPT.as_bytes().to_vec()),
        ..ExecRequest::default()
    }
}

/// The items of pip's `Successfully installed a-1.0 b-2.0` line.
pub fn updated_by_pip(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Successfully installed "))
        .flat_map(str::split_whitespace)
        .map(str::to_owned)
        .collect()
}

#[derive(Deserialize)]
struct Listed {
    plugins: Vec<String>,
}

/// Installs (or with `upgrade`, upgrades) `specs` in `container` and lists the plugin names
/// they provide. `proxy` is the model's proxy environment.
pub async fn install<P: Pebble>(
    pebble: &P,
    container: ContainerName,
    specs: &[String],
    indico_version: &str,
    proxy: &BTreeMap<String, String>,
    upgrade: bool,
) -> Result<InstallReport, PluginError> {
    let fail = |e: PebbleError| PluginError {
        container,
        unreachable: matches!(e, PebbleError::CannotConnect { .. }),
        reason: crate::customization::last_error_line(&e),
    };
    let constraints = format!("indico=={indico_version}\n");
    let options = PushOptions {
        make_dirs: true,
        permissions: Some(0o644),
        ..PushOptions::default()
    };
    pebble
        .push(CONSTRAINTS_PATH, constraints.as_bytes(), &options)
        .await
        .map_err(fail)?;
    // The config refuses a spec starting with '-', so no line is read as a pip option.
    let requirements: String = specs.iter().map(|s| format!("{s}\n")).collect();
    let private = PushOptions {
        make_dirs: true,
        permissions: Some(0o600),
        user: Some("indico".to_owned()),
        group: Some("indico".to_owned()),
        ..PushOptions::default()
    };
    pebble
        .push(REQUIREMENTS_PATH, requirements.as_bytes(), &private)
        .await
        .map_err(fail)?;
    tracing::info!(
        "installing {} external plugin spec(s) in {container}",
        specs.len()
    );
    let pip = pebble
        .exec(&pip_request(upgrade, proxy))
        .await
        .map_err(fail)?;
    let listed = pebble.exec(&list_request()).await.map_err(fail)?;
    let names = serde_json::from_slice::<Listed>(&listed.stdout)
        .map_err(|e| PluginError {
            container,
            unreachable: false,
            reason: format!("cannot read the installed plugin list: {e}"),
        })?
        .plugins;
    Ok(InstallReport {
        names,
        updated: updated_by_pip(&pip.stdout_text()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_record_keeps_the_external_names_apart_from_other_enabled_plugins() {
        let environment = BTreeMap::from([
            (PLUGINS_VAR.to_owned(), "x,storage_s3".to_owned()),
            (NAMES_VAR.to_owned(), "x".to_owned()),
            (MARKER_VAR.to_owned(), "m".to_owned()),
        ]);
        let service = pebble_client::Service {
            environment,
            ..pebble_client::Service::default()
        };
        let plan = Plan {
            services: BTreeMap::from([(CELERY_SERVICE.to_owned(), service)]),
            ..Plan::default()
        };
        // storage_s3 belongs to the S3 relation: once it goes, it must not stay enabled
        // through this record.
        assert_eq!(
            observed(&plan, ContainerName::IndicoCelery),
            Some(InstalledPlugins {
                marker: "m".into(),
                names: vec!["x".into()]
            })
        );
        assert_eq!(observed(&plan, ContainerName::Indico), None);
    }

    #[test]
    fn the_marker_follows_specs_order_and_version() {
        let a = marker(&specs(&["x", "y"]), "3.2.9").unwrap();
        assert_eq!(a, marker(&specs(&["x", "y"]), "3.2.9").unwrap());
        assert_ne!(a, marker(&specs(&["y", "x"]), "3.2.9").unwrap());
        assert_ne!(a, marker(&specs(&["x", "y"]), "3.3.0").unwrap());
        assert_ne!(a, marker(&specs(&["xy"]), "3.2.9").unwrap());
        assert_eq!(marker(&[], "3.2.9"), None);
    }

    #[test]
    fn pip_runs_as_indico_with_the_constraint_and_the_specs_in_a_file() {
        let proxy = BTreeMap::from([("HTTPS_PROXY".to_owned(), "http://squid:3128/".to_owned())]);
        let request = pip_request(false, &proxy);
        assert_eq!(
            request.command,
            [
                "/srv/indico/.venv/bin/pip",
                "install",
                "--no-input",
                "--root-user-action=ignore",
                "--constraint",
                CONSTRAINTS_PATH,
                "--requirement",
                REQUIREMENTS_PATH
            ]
        );
        assert_eq!(request.user.as_deref(), Some("root"), "the venv is root's");
        assert_eq!(request.environment, proxy);
        assert!(
            pip_request(true, &proxy)
                .command
                .contains(&"--upgrade".to_owned())
        );
    }

    /// Writes an installed distribution's metadata (as pip leaves it) under `site`.
    fn fake_dist(site: &std::path::Path, name: &str, plugins: &[&str], url: Option<&str>) {
        let dir = site.join(format!("{}-1.0.dist-info", name.replace('-', "_")));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
        )
        .unwrap();
        let entries: String = plugins.iter().map(|p| format!("{p} = m:P\n")).collect();
        std::fs::write(
            dir.join("entry_points.txt"),
            format!("[indico.plugins]\n{entries}[console_scripts]\nnot-a-plugin = m:main\n"),
        )
        .unwrap();
        if let Some(url) = url {
            std::fs::write(
                dir.join("direct_url.json"),
                format!(r#"{{"url": "{url}", "vcs_info": {{"vcs": "git", "commit_id": "abc"}}}}"#),
            )
            .unwrap();
        }
    }

    /// Runs the real lister with the host's Python 3 over `site`.
    fn list(site: &std::path::Path, specs: &[&str]) -> (bool, String, String) {
        use std::io::Write;
        let requirements = site.join("requirements.txt");
        let lines: String = specs.iter().map(|s| format!("{s}\n\n")).collect();
        std::fs::write(&requirements, lines).unwrap();
        let mut child = std::process::Command::new("python3")
            .arg("-")
            .arg(&requirements)
            .env("PYTHONPATH", site)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is installed");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(LIST_PLUGINS_SCRIPT.as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[test]
    fn the_lister_finds_the_plugins_of_named_and_url_specs_only() {
        let site = tempfile::tempdir().unwrap();
        fake_dist(site.path(), "indico-plugin-piwik", &["piwik"], None);
        fake_dist(
            site.path(),
            "indico-plugin-x",
            &["x_one", "x_two"],
            Some("https://example.com/p/indico-plugin-x.git"),
        );
        fake_dist(site.path(), "indico-plugin-unrelated", &["unrelated"], None);
        let (ok, stdout, stderr) = list(
            site.path(),
            &[
                "Indico_Plugin.Piwik>=3.2",
                "git+https://example.com/p/indico-plugin-x.git@v1.0",
            ],
        );
        assert!(ok, "{stderr}");
        let listed: Listed = serde_json::from_str(&stdout).unwrap();
        assert_eq!(listed.plugins, ["piwik", "x_one", "x_two"]);

        let (ok, _, stderr) = list(site.path(), &["indico-plugin-missing"]);
        assert!(!ok);
        assert!(stderr.contains("'indico-plugin-missing'"), "{stderr}");
    }

    #[test]
    fn pip_updates_come_from_its_success_line() {
        let out = "Collecting x\nInstalling collected packages: a, b\nSuccessfully installed a-1.0 b-2.0\n";
        assert_eq!(updated_by_pip(out), ["a-1.0", "b-2.0"]);
        assert!(updated_by_pip("Requirement already satisfied: a\n").is_empty());
    }
}
