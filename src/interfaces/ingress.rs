//! `ingress` (interface `ingress` v2, provider e.g. traefik-k8s through its `ingress` v2
//! library): the request this charm publishes for its nginx port and the URL the provider
//! answers with.
//!
//! The library's databag models write every field JSON-encoded (`json.dumps`), leaving out
//! fields at their default. Requirer application bag (leader): `model`, `name`, `port`, and
//! `redirect-https` when the site is https (its default is false). Requirer unit bag (each
//! unit): `host` (the unit's FQDN) and `ip` (its bind address). Provider application bag:
//! `ingress`, JSON `{"url": "..."}`.

use thiserror::Error;

use super::{Databag, RelationSnapshot};

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "ingress";

/// The provider's answer is unusable. Names the relation and the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("relation ingress: key {key} is not valid: {reason}")]
pub struct IngressError {
    /// The databag key.
    pub key: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

fn json_string(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

/// The application bag this charm wants (leader only).
pub fn app_request(model: &str, app: &str, port: u16, redirect_https: bool) -> Databag {
    let mut bag = Databag::from([
        ("model".to_owned(), json_string(model)),
        ("name".to_owned(), json_string(app)),
        ("port".to_owned(), port.to_string()),
    ]);
    if redirect_https {
        bag.insert("redirect-https".to_owned(), "true".to_owned());
    }
    bag
}

/// The unit bag this unit wants: its FQDN and, when Juju gave one, its bind address.
pub fn unit_data(host: &str, ip: Option<&str>) -> Databag {
    let mut bag = Databag::from([("host".to_owned(), json_string(host))]);
    if let Some(ip) = ip {
        bag.insert("ip".to_owned(), json_string(ip));
    }
    bag
}

/// The URL the provider published (`None` until it did).
pub fn parse_url(relation: Option<&RelationSnapshot>) -> Result<Option<String>, IngressError> {
    let Some(raw) = relation
        .and_then(|r| r.app_data.get("ingress"))
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let invalid = |reason| IngressError {
        key: "ingress",
        reason,
    };
    let value: serde_json::Value = serde_json::from_str(raw).map_err(|_| invalid("not JSON"))?;
    let url = value
        .get("url")
        .and_then(serde_json::Value::as_str)
        .ok_or(invalid("has no url string"))?;
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(Some(url.to_owned()))
        }
        _ => Err(invalid("url is not an http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use juju_runtime::RelationId;

    fn relation(pairs: &[(&str, &str)]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("traefik-k8s".into()),
            app_data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..RelationSnapshot::new(RelationId::new(ENDPOINT, 20))
        }
    }

    #[test]
    fn the_request_is_json_encoded_as_the_v2_library_dumps_it() {
        let bag = app_request("events", "indico", 8080, false);
        assert_eq!(
            bag,
            Databag::from([
                ("model".into(), "\"events\"".into()),
                ("name".into(), "\"indico\"".into()),
                ("port".into(), "8080".into()),
            ])
        );
        assert_eq!(
            app_request("events", "indico", 8080, true)["redirect-https"],
            "true"
        );
        let unit = unit_data(
            "indico-0.indico-endpoints.events.svc.cluster.local",
            Some("10.1.2.3"),
        );
        assert_eq!(
            unit["host"],
            "\"indico-0.indico-endpoints.events.svc.cluster.local\""
        );
        assert_eq!(unit["ip"], "\"10.1.2.3\"");
        assert!(!unit_data("h", None).contains_key("ip"));
    }

    #[test]
    fn the_provider_url_is_read_back_and_garbage_names_the_key() {
        assert_eq!(parse_url(None), Ok(None));
        assert_eq!(parse_url(Some(&relation(&[]))), Ok(None));
        let ready = relation(&[(
            "ingress",
            r#"{"url": "http://traefik.example/events-indico"}"#,
        )]);
        assert_eq!(
            parse_url(Some(&ready)),
            Ok(Some("http://traefik.example/events-indico".into()))
        );
        for bad in [r#"{"url": 5}"#, "http://x", r#"{"url": "not a url"}"#] {
            let err = parse_url(Some(&relation(&[("ingress", bad)]))).unwrap_err();
            assert_eq!(err.key, "ingress", "{bad}");
        }
    }
}
