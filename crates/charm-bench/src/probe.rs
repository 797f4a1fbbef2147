//! One HTTP GET against the pod with a chosen Host header, following redirects to paths on
//! the same server (Indico redirects `/` to `/bootstrap` on a fresh database, with an
//! absolute URL on the site's host name, which does not resolve here).

use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::redirect::Policy;

use crate::BenchError;

/// How many redirects are followed.
const MAX_REDIRECTS: usize = 5;

/// An HTTP prober for one server address (`10.210.0.5:8080`) and Host header.
#[derive(Debug, Clone)]
pub struct Probe {
    client: Client,
    address: String,
    host: String,
}

impl Probe {
    /// A prober with a short per-request timeout.
    pub fn new(address: &str, host: &str) -> Result<Self, BenchError> {
        let client = Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| BenchError::Command {
                command: "building the HTTP client".into(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            client,
            address: address.to_owned(),
            host: host.to_owned(),
        })
    }

    /// GETs `path`, following same-server redirects; returns the final status and path.
    /// A connection failure is `Ok(None)` (the server is not up yet).
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut path = path.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .client
                .get(format!("http://{}{path}", self.address))
                .header("Host", &self.host)
                .send()
                .ok()?;
            let status = response.status().as_u16();
            let next = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(location_path);
            match next {
                Some(next) if (300..400).contains(&status) => path = next,
                _ => return Some((status, path)),
            }
        }
        None
    }
}

/// The path (with query) of a Location header, absolute or relative.
pub fn location_path(location: &str) -> String {
    let rest = location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"));
    match rest {
        Some(rest) => rest
            .find('/')
            .map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned()),
        None if location.starts_with('/') => location.to_owned(),
        None => format!("/{location}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_paths_drop_scheme_and_host() {
        assert_eq!(location_path("http://indico.local/bootstrap"), "/bootstrap");
        assert_eq!(location_path("https://h:8443/a?b=c"), "/a?b=c");
        assert_eq!(location_path("http://h"), "/");
        assert_eq!(location_path("/login/"), "/login/");
        assert_eq!(location_path("x"), "/x");
    }
}
