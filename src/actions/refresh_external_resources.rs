//! `refresh-external-resources`: pull the customization repository again, upgrade the
//! external plugins to the newest versions their specs allow (Indico still pinned), and make
//! the running Indico pick both up (touch uWSGI's reload file; restart the Celery worker when
//! a plugin changed).

use std::collections::BTreeMap;

use juju_runtime::{HookToolError, HookTools, JujuContext};
use pebble_client::{ExecRequest, Pebble};

use super::{ActionOutcome, failure_output};
use crate::config::CharmConfig;
use crate::containers::ContainerName;
use crate::customization;
use crate::gather::VERSION_FILE;
use crate::plan::files::UWSGI_INI_PATH;
use crate::plan::layers::CELERY_SERVICE;
use crate::plugins;
use crate::proxy::{self, ProxySettings};

/// The action's name in actions.yaml.
pub const NAME: &str = "refresh-external-resources";

fn failed(reason: impl std::fmt::Display) -> ActionOutcome {
    ActionOutcome::failed(format!("Failed to refresh external resources: {reason}"))
}

/// Refreshes; results `customization-changes` (`true`/`false`) and `plugin-updates` (a JSON
/// list of what pip installed, `name-version`).
pub async fn run<H: HookTools, P: Pebble>(
    context: &JujuContext,
    tools: &H,
    pebbles: &BTreeMap<ContainerName, P>,
) -> Result<ActionOutcome, HookToolError> {
    let values: serde_json::Map<String, serde_json::Value> =
        tools.config_get()?.into_iter().collect();
    let config = match CharmConfig::parse(&values, &context.app) {
        Ok(config) => config,
        Err(e) => return Ok(failed(e)),
    };
    let raw = &context.proxy;
    let proxy = match ProxySettings::from_env(|name| match name {
        proxy::HTTP_PROXY_VAR => raw.http.clone(),
        proxy::HTTPS_PROXY_VAR => raw.https.clone(),
        proxy::NO_PROXY_VAR => raw.no_proxy.clone(),
        _ => None,
    }) {
        Ok(proxy) => plugins::proxy_environment(&proxy),
        Err(e) => return Ok(failed(e)),
    };
    let Some(indico) = pebbles.get(&ContainerName::Indico) else {
        return Ok(failed("the indico container is not known to this charm"));
    };

    let mut changed = false;
    if let Some(url) = config.customization_sources_url.as_deref() {
        match customization::pull(indico, url, &proxy).await {
            Ok(c) => changed = c,
            Err(e) => return Ok(failed(e)),
        }
    }

    let mut updates: Vec<String> = Vec::new();
    if !config.external_plugins.is_empty() {
        let version = match indico.pull(VERSION_FILE).await {
            Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
            Err(e) => return Ok(failed(e)),
        };
        for container in plugins::CONTAINERS {
            let Some(pebble) = pebbles.get(&container) else {
                continue;
            };
            let specs = &config.external_plugins;
            match plugins::install(pebble, container, specs, &version, &proxy, true).await {
                Ok(report) => {
                    for item in report.updated {
                        if !updates.contains(&item) {
                            updates.push(item);
                        }
                    }
                }
                Err(e) => return Ok(failed(e)),
            }
        }
        if let (false, Some(celery)) = (
            updates.is_empty(),
            pebbles.get(&ContainerName::IndicoCelery),
        ) {
            // Only a running worker has old code loaded; one not configured yet starts fresh.
            let running = match celery.services(&[CELERY_SERVICE]).await {
                Ok(infos) => infos.iter().any(|i| i.is_running()),
                Err(e) => return Ok(failed(e)),
            };
            if running {
                if let Err(e) = celery.restart(&[CELERY_SERVICE]).await {
                    return Ok(failed(e));
                }
            }
        }
    }

    // uWSGI reloads its workers when its ini is touched: new templates, upgraded plugins.
    let touch = ExecRequest::new(["touch", UWSGI_INI_PATH]);
    if let Err(e) = indico.exec(&touch).await {
        return Ok(failed(failure_output(&e)));
    }
    let results = BTreeMap::from([
        ("customization-changes".to_owned(), changed.to_string()),
        (
            "plugin-updates".to_owned(),
            serde_json::to_string(&updates).unwrap_or_else(|_| "[]".to_owned()),
        ),
    ]);
    Ok(ActionOutcome {
        results,
        failure: None,
    })
}
