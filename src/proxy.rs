//! The model's HTTP proxy settings (`JUJU_CHARM_HTTP_PROXY`, `JUJU_CHARM_HTTPS_PROXY`,
//! `JUJU_CHARM_NO_PROXY` in the hook environment): validated, and turned into the proxy
//! variables every workload process gets (pip, git and Indico's own outbound requests).

use std::fmt;

use thiserror::Error;
use url::Url;

/// Hook environment variable carrying the HTTP proxy URL.
pub const HTTP_PROXY_VAR: &str = "JUJU_CHARM_HTTP_PROXY";
/// Hook environment variable carrying the HTTPS proxy URL.
pub const HTTPS_PROXY_VAR: &str = "JUJU_CHARM_HTTPS_PROXY";
/// Hook environment variable carrying the comma-separated no-proxy list.
pub const NO_PROXY_VAR: &str = "JUJU_CHARM_NO_PROXY";

/// The model's proxy settings; all absent when the model sets none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// Proxy for `http://` requests.
    pub http: Option<ProxyUrl>,
    /// Proxy for `https://` requests.
    pub https: Option<ProxyUrl>,
    /// Hosts, domains and networks reached directly.
    pub no_proxy: Vec<String>,
}

/// A validated proxy URL. It may carry credentials, so `Debug` hides them.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(Url);

impl ProxyUrl {
    /// The URL as the workload's `HTTP(S)_PROXY` variables carry it.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        if !shown.username().is_empty() || shown.password().is_some() {
            // Both setters only fail for URLs that cannot have credentials, which a
            // validated proxy URL (http/https with a host) never is.
            let _ = shown.set_username("<redacted>");
            let _ = shown.set_password(None);
        }
        write!(f, "ProxyUrl({shown})")
    }
}

/// A model proxy setting is unusable. `Display` is the Blocked status message: it names the
/// setting and never shows the value (which may hold credentials).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ProxyError {
    /// The proxy URL does not parse, is not http(s), or has no host.
    #[error("Model proxy setting {variable} is not valid: {reason}")]
    InvalidUrl {
        /// The hook environment variable.
        variable: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An entry of the no-proxy list is malformed.
    #[error("Model proxy setting {NO_PROXY_VAR} is not valid: entry {position} {reason}")]
    InvalidNoProxy {
        /// 1-based position of the entry in the list.
        position: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl ProxySettings {
    /// Reads and validates the settings through `lookup` (the hook environment).
    /// Empty variables count as unset, as Juju always exports them.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProxyError> {
        let http = proxy_url(HTTP_PROXY_VAR, lookup(HTTP_PROXY_VAR))?;
        let https = proxy_url(HTTPS_PROXY_VAR, lookup(HTTPS_PROXY_VAR))?;
        let no_proxy = no_proxy(lookup(NO_PROXY_VAR).as_deref().unwrap_or(""))?;
        Ok(Self {
            http,
            https,
            no_proxy,
        })
    }

    /// The variables a workload process needs, both spellings (curl and Python's `requests`
    /// read the lower case ones, others the upper case): `HTTP_PROXY`, `http_proxy`,
    /// `HTTPS_PROXY`, `https_proxy`, `NO_PROXY`, `no_proxy`. Unset settings give no variable.
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        if let Some(http) = &self.http {
            env.push(("HTTP_PROXY", http.as_str().to_owned()));
            env.push(("http_proxy", http.as_str().to_owned()));
        }
        if let Some(https) = &self.https {
            env.push(("HTTPS_PROXY", https.as_str().to_owned()));
            env.push(("https_proxy", https.as_str().to_owned()));
        }
        if !self.no_proxy.is_empty() {
            let list = self.no_proxy.join(",");
            env.push(("NO_PROXY", list.clone()));
            env.push(("no_proxy", list));
        }
        env
    }
}

fn proxy_url(
    variable: &'static str,
    value: Option<String>,
) -> Result<Option<ProxyUrl>, ProxyError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let invalid = |reason: String| ProxyError::InvalidUrl { variable, reason };
    // url::ParseError messages describe the problem without echoing the input.
    let url = Url::parse(&value).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("a host is required".into()));
    }
    Ok(Some(ProxyUrl(url)))
}

fn no_proxy(value: &str) -> Result<Vec<String>, ProxyError> {
    let mut entries = Vec::new();
    for (index, entry) in value.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        let invalid = |reason| ProxyError::InvalidNoProxy {
            position: index + 1,
            reason,
        };
        if entry.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains whitespace"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-._*:/[]".contains(c);
        if !entry.chars().all(allowed) {
            return Err(invalid("is not a host, domain, IP address or network"));
        }
        entries.push(entry.to_owned());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<ProxySettings, ProxyError> {
        let env: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxySettings::from_env(|name| env.get(name).cloned())
    }

    #[test]
    fn empty_variables_mean_no_proxy_and_no_environment() {
        let s = settings(&[(HTTP_PROXY_VAR, ""), (NO_PROXY_VAR, " ")]).unwrap();
        assert_eq!(s, ProxySettings::default());
        assert!(s.environment().is_empty());
    }

    #[test]
    fn every_proxy_variable_reaches_the_workload_in_both_spellings() {
        let s = settings(&[
            (HTTP_PROXY_VAR, "http://squid.internal:3128"),
            (HTTPS_PROXY_VAR, "http://squid.internal:3129"),
            (
                NO_PROXY_VAR,
                "127.0.0.1,localhost, .svc.cluster.local,10.0.0.0/8,::1",
            ),
        ])
        .unwrap();
        let env: BTreeMap<_, _> = s.environment().into_iter().collect();
        assert_eq!(env["HTTP_PROXY"], "http://squid.internal:3128/");
        assert_eq!(env["http_proxy"], "http://squid.internal:3128/");
        assert_eq!(env["https_proxy"], "http://squid.internal:3129/");
        assert_eq!(
            env["no_proxy"],
            "127.0.0.1,localhost,.svc.cluster.local,10.0.0.0/8,::1"
        );
        assert_eq!(env.len(), 6);
    }

    #[test]
    fn invalid_urls_name_the_setting_and_never_echo_the_value() {
        let err = settings(&[(HTTPS_PROXY_VAR, "squid:3128 with secret")]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("Model proxy setting JUJU_CHARM_HTTPS_PROXY is not valid"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
        let err = settings(&[(HTTP_PROXY_VAR, "ftp://proxy:21")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Model proxy setting JUJU_CHARM_HTTP_PROXY is not valid: the scheme must be http or https"
        );
        let err = settings(&[(NO_PROXY_VAR, "a.example,b c")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Model proxy setting JUJU_CHARM_NO_PROXY is not valid: entry 2 contains whitespace"
        );
    }

    #[test]
    fn debug_hides_proxy_credentials() {
        let s = settings(&[(HTTP_PROXY_VAR, "http://user:pa55@squid:3128")]).unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("pa55") && !shown.contains("user"),
            "{shown}"
        );
        assert_eq!(
            s.environment()[0].1,
            "http://user:pa55@squid:3128/",
            "the workload still gets the real URL"
        );
    }
}
