//! The config parser (`indico_charm::config::CharmConfig::parse`) on `config-get
//! --format=json` output.
//!
//! Invariants: a parsed configuration's normalised values parse back to themselves (the
//! site's base URL, each email address, the plugin list, the customization URL), the uWSGI
//! counts stay within their bounds, and an error names a config.yaml option.
#![no_main]

use indico_charm::config::{
    CharmConfig, EmailAddress, MAX_UWSGI_PROCESSES, MAX_UWSGI_THREADS, SiteUrl,
};
use indico_charm_fuzz::config_map;
use libfuzzer_sys::fuzz_target;

const APP: &str = "indico";
const OPTIONS: [&str; 10] = [
    "site_url",
    "indico_support_email",
    "indico_public_support_email",
    "indico_no_reply_email",
    "enable_roombooking",
    "customization_debug",
    "customization_sources_url",
    "external_plugins",
    "uwsgi_processes",
    "uwsgi_threads",
];

fuzz_target!(|data: &[u8]| {
    let Some(values) = config_map(data) else {
        return;
    };
    match CharmConfig::parse(&values, APP) {
        Ok(config) => {
            let site = SiteUrl::parse(&config.site.base_url(), APP);
            assert_eq!(
                site.as_ref(),
                Ok(&config.site),
                "base URL does not parse back"
            );
            assert!(!config.site.host().is_empty());
            assert_ne!(config.site.port(), Some(0));
            for (option, email) in [
                ("indico_support_email", &config.support_email),
                ("indico_public_support_email", &config.public_support_email),
                ("indico_no_reply_email", &config.no_reply_email),
            ] {
                assert_eq!(
                    EmailAddress::parse(option, email.as_str()).as_ref(),
                    Ok(email)
                );
            }
            // The normalised values, fed back as config, give the same configuration.
            let mut again = values.clone();
            again.insert("site_url".into(), config.site.base_url().into());
            again.insert(
                "external_plugins".into(),
                config.external_plugins.join(",").into(),
            );
            again.insert(
                "customization_sources_url".into(),
                config
                    .customization_sources_url
                    .clone()
                    .unwrap_or_default()
                    .into(),
            );
            assert_eq!(CharmConfig::parse(&again, APP).as_ref(), Ok(&config));
            for plugin in &config.external_plugins {
                assert!(!plugin.is_empty() && !plugin.starts_with('-') && !plugin.contains(','));
            }
            assert!((1..=MAX_UWSGI_PROCESSES).contains(&config.uwsgi_processes));
            assert!((1..=MAX_UWSGI_THREADS).contains(&config.uwsgi_threads));
            if let Some(url) = &config.customization_sources_url {
                assert!(!url.starts_with('-') && !url.contains(char::is_whitespace));
            }
        }
        Err(error) => {
            assert!(OPTIONS.contains(&error.option()), "{error:?}");
            assert!(error.to_string().contains(error.option()), "{error}");
        }
    }
});
