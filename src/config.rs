//! The charm's configuration (config.yaml): parsed from `config-get --format=json` into typed,
//! validated values. A bad value is a [`ConfigError`] naming the option, which becomes a
//! Blocked status, never a failed hook.

use serde_json::{Map, Value};
use thiserror::Error;
use url::Url;

/// The validated configuration of the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharmConfig {
    /// Public URL of the site (`site_url`, or `http://<app>.local` when empty).
    pub site: SiteUrl,
    /// `indico_support_email` (Indico `SUPPORT_EMAIL`).
    pub support_email: EmailAddress,
    /// `indico_public_support_email` (Indico `PUBLIC_SUPPORT_EMAIL`).
    pub public_support_email: EmailAddress,
    /// `indico_no_reply_email` (Indico `NO_REPLY_EMAIL`).
    pub no_reply_email: EmailAddress,
    /// `enable_roombooking` (Indico `ENABLE_ROOMBOOKING`).
    pub enable_roombooking: bool,
    /// `customization_debug` (Indico `CUSTOMIZATION_DEBUG`).
    pub customization_debug: bool,
    /// `customization_sources_url`: a git repository, absent when empty.
    pub customization_sources_url: Option<String>,
    /// `external_plugins`: pip requirement specs, in the order given.
    pub external_plugins: Vec<String>,
    /// `uwsgi_processes`: uWSGI worker processes (1 to [`MAX_UWSGI_PROCESSES`]).
    pub uwsgi_processes: u32,
    /// `uwsgi_threads`: threads per uWSGI worker (1 to [`MAX_UWSGI_THREADS`]).
    pub uwsgi_threads: u32,
}

/// The most uWSGI worker processes `uwsgi_processes` accepts.
pub const MAX_UWSGI_PROCESSES: u32 = 32;
/// The most threads per worker `uwsgi_threads` accepts.
pub const MAX_UWSGI_THREADS: u32 = 16;

/// Scheme of the public URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTPS (TLS terminated in front of the pod; nginx then sends HSTS).
    Https,
}

/// The public URL of the site: scheme, host and an explicit port when it is not the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteUrl {
    scheme: Scheme,
    host: String,
    port: Option<u16>,
}

impl SiteUrl {
    /// Parses `site_url`; an empty value means `http://<app_name>.local`.
    ///
    /// Valid: an absolute `http`/`https` URL with a host, no credentials, no query or fragment
    /// and no path beyond `/` (Indico is served at the root of its host).
    pub fn parse(value: &str, app_name: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(Self {
                scheme: Scheme::Http,
                host: format!("{app_name}.local"),
                port: None,
            });
        }
        let invalid = || ConfigError::Invalid {
            option: "site_url",
            reason: None,
        };
        let url = Url::parse(value).map_err(|_| invalid())?;
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(invalid()),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(invalid)?;
        // A name DNS can resolve (253 characters, labels of 63; IDNs arrive as punycode),
        // and a port a client can connect to.
        if let Some(url::Host::Domain(name)) = url.host() {
            if !crate::interfaces::valid_host(name) {
                return Err(invalid());
            }
        }
        if url.port() == Some(0)
            || !url.username().is_empty()
            || url.password().is_some()
            || url.query().is_some()
            || url.fragment().is_some()
            || !matches!(url.path(), "" | "/")
        {
            return Err(invalid());
        }
        Ok(Self {
            scheme,
            host: host.to_owned(),
            port: url.port(),
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Whether the site is served over HTTPS.
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::Https
    }

    /// The host name (or IP literal, IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, absent when it is the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Indico's `BASE_URL`: `scheme://host[:port]`, without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        match self.port {
            Some(port) => format!("{scheme}://{}:{port}", self.host),
            None => format!("{scheme}://{}", self.host),
        }
    }
}

/// An email address, checked for the shape `local@domain` (no whitespace, a dotless or dotted
/// domain without empty labels). Deliverability is not the charm's business.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates `value` as the email address of `option`.
    pub fn parse(option: &'static str, value: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        let invalid = |reason: &str| ConfigError::Invalid {
            option,
            reason: Some(reason.to_owned()),
        };
        if value.is_empty() {
            return Err(invalid("an email address is required"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("an email address has no whitespace"));
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(invalid("expected an address of the form name@domain"));
        };
        if local.is_empty() || domain.is_empty() || domain.split('.').any(str::is_empty) {
            return Err(invalid("expected an address of the form name@domain"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A configuration value is unusable. Its `Display` is the Blocked status message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The value does not satisfy the option's rules.
    #[error("Configuration option {option} is not valid{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Invalid {
        /// The option name as in config.yaml.
        option: &'static str,
        /// What is wrong, when more than "not valid" helps the operator.
        reason: Option<String>,
    },
    /// Juju handed over a value of another type than config.yaml declares.
    #[error("Configuration option {option} is not valid: expected a {expected}")]
    WrongType {
        /// The option name as in config.yaml.
        option: &'static str,
        /// The declared type.
        expected: &'static str,
    },
}

impl ConfigError {
    /// The option the error is about.
    pub fn option(&self) -> &'static str {
        match self {
            Self::Invalid { option, .. } | Self::WrongType { option, .. } => option,
        }
    }
}

impl CharmConfig {
    /// Validates the map printed by `config-get --format=json`. Options missing from the map
    /// take config.yaml's defaults.
    pub fn parse(values: &Map<String, Value>, app_name: &str) -> Result<Self, ConfigError> {
        let site = SiteUrl::parse(string(values, "site_url", "")?, app_name)?;
        let support_email = EmailAddress::parse(
            "indico_support_email",
            string(
                values,
                "indico_support_email",
                "support-tech@mydomain.local",
            )?,
        )?;
        let public_support_email = EmailAddress::parse(
            "indico_public_support_email",
            string(
                values,
                "indico_public_support_email",
                "support@mydomain.local",
            )?,
        )?;
        let no_reply_email = EmailAddress::parse(
            "indico_no_reply_email",
            string(values, "indico_no_reply_email", "noreply@mydomain.local")?,
        )?;
        Ok(Self {
            site,
            support_email,
            public_support_email,
            no_reply_email,
            enable_roombooking: boolean(values, "enable_roombooking", false)?,
            customization_debug: boolean(values, "customization_debug", false)?,
            customization_sources_url: customization_sources_url(string(
                values,
                "customization_sources_url",
                "",
            )?)?,
            external_plugins: external_plugins(string(values, "external_plugins", "")?)?,
            uwsgi_processes: count(values, "uwsgi_processes", 2, MAX_UWSGI_PROCESSES)?,
            uwsgi_threads: count(values, "uwsgi_threads", 2, MAX_UWSGI_THREADS)?,
        })
    }
}

/// A whole number from 1 to `max` (Juju's `int` options arrive as JSON integers).
fn count(
    values: &Map<String, Value>,
    option: &'static str,
    default: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let number = match values.get(option) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n,
        Some(_) => {
            return Err(ConfigError::WrongType {
                option,
                expected: "whole number",
            });
        }
    };
    number
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| ConfigError::Invalid {
            option,
            reason: Some(format!("expected 1 to {max}")),
        })
}

fn string<'a>(
    values: &'a Map<String, Value>,
    option: &'static str,
    default: &'a str,
) -> Result<&'a str, ConfigError> {
    match values.get(option) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ConfigError::WrongType {
            option,
            expected: "string",
        }),
    }
}

fn boolean(
    values: &Map<String, Value>,
    option: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match values.get(option) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ConfigError::WrongType {
            option,
            expected: "boolean",
        }),
    }
}

/// A repository URL handed to `git clone`: no whitespace, and never something git would read
/// as an option.
fn customization_sources_url(value: &str) -> Result<Option<String>, ConfigError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let invalid = |reason: &str| ConfigError::Invalid {
        option: "customization_sources_url",
        reason: Some(reason.to_owned()),
    };
    if value.starts_with('-') {
        return Err(invalid("a repository URL cannot start with '-'"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("a repository URL has no whitespace"));
    }
    if !is_network_repository(value) {
        return Err(invalid(
            "only https, http, ssh and git URLs or user@host:path are supported",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// Whether git would fetch `value` over the network: a `https`, `http`, `ssh` or `git` URL
/// with a host, or scp-like `[user@]host:path`. Refused: local paths and `file://` (the
/// container's own files), and `<transport>::<address>` remote helpers such as `ext::`, which
/// run a command.
fn is_network_repository(value: &str) -> bool {
    if value.contains("::") {
        return false;
    }
    if let Some((scheme, _)) = value.split_once("://") {
        return matches!(
            scheme,
            "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
        ) && Url::parse(value).is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
    }
    // scp-like syntax: git reads `host:path` so only when no slash comes before the colon.
    match value.split_once(':') {
        Some((authority, _)) => {
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            !authority.contains('/') && !host.is_empty()
        }
        None => false,
    }
}

/// Comma-separated pip requirement specs; empty entries are skipped; an entry that pip would
/// read as an option, or that holds whitespace, is refused.
fn external_plugins(value: &str) -> Result<Vec<String>, ConfigError> {
    let mut plugins = Vec::new();
    for (index, spec) in value.split(',').map(str::trim).enumerate() {
        if spec.is_empty() {
            continue;
        }
        let invalid = |what: &str| ConfigError::Invalid {
            option: "external_plugins",
            reason: Some(format!("entry {} {what}", index + 1)),
        };
        if spec.starts_with('-') {
            return Err(invalid("starts with '-'"));
        }
        if spec.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains whitespace"));
        }
        plugins.push(spec.to_owned());
    }
    Ok(plugins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<CharmConfig, ConfigError> {
        let Value::Object(map) = v else {
            panic!("test input must be an object")
        };
        CharmConfig::parse(&map, "indico")
    }

    #[test]
    fn defaults_give_the_app_local_site_and_default_emails() {
        let config = parse(json!({})).unwrap();
        assert_eq!(config.site.base_url(), "http://indico.local");
        assert!(!config.site.is_https());
        assert_eq!(config.support_email.as_str(), "support-tech@mydomain.local");
        assert_eq!(config.no_reply_email.as_str(), "noreply@mydomain.local");
        assert!(!config.enable_roombooking);
        assert_eq!(config.customization_sources_url, None);
        assert!(config.external_plugins.is_empty());
        assert_eq!((config.uwsgi_processes, config.uwsgi_threads), (2, 2));
    }

    #[test]
    fn uwsgi_counts_are_whole_numbers_within_bounds() {
        let config = parse(json!({"uwsgi_processes": 32, "uwsgi_threads": 1})).unwrap();
        assert_eq!((config.uwsgi_processes, config.uwsgi_threads), (32, 1));
        for (value, reason) in [
            (json!(0), "expected 1 to 32"),
            (json!(33), "expected 1 to 32"),
            (json!(-1), "expected 1 to 32"),
            (json!(u64::MAX), "expected 1 to 32"),
            (json!(2.0), "expected a whole number"),
            (json!("4"), "expected a whole number"),
        ] {
            let error = parse(json!({ "uwsgi_processes": value })).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("Configuration option uwsgi_processes is not valid: {reason}"),
                "{value}"
            );
        }
        let error = parse(json!({"uwsgi_threads": 17})).unwrap_err();
        assert_eq!(error.option(), "uwsgi_threads");
    }

    #[test]
    fn https_site_url_keeps_a_non_default_port_only() {
        let with_port = SiteUrl::parse("https://events.example.com:8443/", "indico").unwrap();
        assert_eq!(with_port.base_url(), "https://events.example.com:8443");
        assert!(with_port.is_https());
        assert_eq!(with_port.port(), Some(8443));
        let idn = SiteUrl::parse("https://évents.example.com", "indico").unwrap();
        assert!(idn.host().starts_with("xn--"), "{}", idn.host());
        let default_port = SiteUrl::parse("https://events.example.com:443", "indico").unwrap();
        assert_eq!(default_port.base_url(), "https://events.example.com");
        assert_eq!(default_port.host(), "events.example.com");
    }

    #[test]
    fn site_url_without_host_or_with_junk_is_blocked_with_the_exact_message() {
        for bad in [
            "events.example.com",
            "https://",
            "ftp://events.example.com",
            "http://:8080",
            "https://user:pw@events.example.com",
            "https://events.example.com/indico",
            "https://events.example.com/?a=b",
            "not a url",
            "https://events.example.com:0",
            &format!("https://{}.example.com", "a".repeat(64)),
        ] {
            let err = SiteUrl::parse(bad, "indico").unwrap_err();
            assert_eq!(
                err.to_string(),
                "Configuration option site_url is not valid",
                "{bad}"
            );
        }
    }

    #[test]
    fn booleans_stay_booleans_and_wrong_types_name_the_option() {
        let config =
            parse(json!({"enable_roombooking": true, "customization_debug": false})).unwrap();
        assert!(config.enable_roombooking);
        assert!(!config.customization_debug);
        let err = parse(json!({"enable_roombooking": "False"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Configuration option enable_roombooking is not valid: expected a boolean"
        );
        assert_eq!(err.option(), "enable_roombooking");
    }

    #[test]
    fn bad_emails_name_the_option() {
        for bad in ["", "no-at-sign", "a@", "@b", "a b@c.d", "a@b..c"] {
            let err = parse(json!({ "indico_no_reply_email": bad })).unwrap_err();
            assert_eq!(err.option(), "indico_no_reply_email", "{bad}");
            assert!(
                err.to_string()
                    .starts_with("Configuration option indico_no_reply_email is not valid"),
                "{err}"
            );
        }
    }

    #[test]
    fn plugins_are_split_and_option_injection_is_refused() {
        let config = parse(json!({
            "external_plugins": " indico-plugin-a==3.2 ,, git+https://example.com/p.git ",
            "customization_sources_url": "https://example.com/custom.git",
        }))
        .unwrap();
        assert_eq!(
            config.external_plugins,
            ["indico-plugin-a==3.2", "git+https://example.com/p.git"]
        );
        assert_eq!(
            config.customization_sources_url.as_deref(),
            Some("https://example.com/custom.git")
        );
        let err = parse(json!({"external_plugins": "a, --index-url=http://evil"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Configuration option external_plugins is not valid: entry 2 starts with '-'"
        );
        let err = parse(json!({"customization_sources_url": "--upload-pack=x"})).unwrap_err();
        assert_eq!(err.option(), "customization_sources_url");
    }

    #[test]
    fn customization_comes_from_the_network_only() {
        for good in [
            "https://example.com/custom.git",
            "ssh://git@example.com/custom.git",
            "git@example.com:org/custom.git",
            "git://example.com/custom.git",
        ] {
            let config = parse(json!({ "customization_sources_url": good })).unwrap();
            assert_eq!(config.customization_sources_url.as_deref(), Some(good));
        }
        for bad in [
            "file:///etc",
            "/srv/indico",
            "ext::/tmp/x",
            "fd::17",
            "./custom:x",
            "ftp://example.com/x.git",
        ] {
            let err = parse(json!({ "customization_sources_url": bad })).unwrap_err();
            assert_eq!(
                err.to_string(),
                "Configuration option customization_sources_url is not valid: only https, http, ssh and git URLs or user@host:path are supported",
                "{bad}"
            );
        }
    }
}
