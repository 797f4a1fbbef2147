//! `saml` (interface `saml`, provider saml-integrator through its `saml` library v0): the
//! identity provider's metadata, turned into Indico's SAML authentication and identity
//! providers (flask-multipass `saml` type, whose `saml_config` is python3-saml's settings).
//! This charm writes nothing.
//!
//! Provider application bag (`SamlRelationData.to_relation_data`): `entity_id`, `x509certs`
//! (comma-separated base64 certificates), `metadata_url` when known, and per endpoint and HTTP
//! method `<endpoint>_<method>_url`, `_binding` and `_response_url` (e.g.
//! `single_sign_on_service_redirect_url`,
//! `single_logout_service_post_binding`). The service provider's entity id is this site's base
//! URL (`site_url`). python3-saml takes one binding per service, so the redirect binding is
//! preferred over POST when the provider offers both.

use serde_json::{Value, json};
use thiserror::Error;

use super::{Availability, Databag, RelationSnapshot};

/// The relation endpoint in metadata.yaml.
pub const ENDPOINT: &str = "saml";
/// The name of the authentication and identity provider in Indico (the login page shows
/// [`PROVIDER_TITLE`]).
pub const PROVIDER_NAME: &str = "saml";
/// What the login form calls the provider.
pub const PROVIDER_TITLE: &str = "SAML SSO";
/// The SAML 2.0 binding URN prefix.
const BINDING_PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:bindings:";

/// The provider's answer is unusable. Names the relation and the key, never the value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("relation saml: key {key} is not valid: {reason}")]
pub struct SamlError {
    /// The databag key.
    pub key: String,
    /// What is wrong.
    pub reason: &'static str,
}

fn invalid(key: impl Into<String>, reason: &'static str) -> SamlError {
    SamlError {
        key: key.into(),
        reason,
    }
}

/// One SAML service of the identity provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlService {
    /// Where to send the request.
    pub url: String,
    /// The SAML binding URN.
    pub binding: String,
    /// Where logout responses go, when different from `url`.
    pub response_url: Option<String>,
}

/// The identity provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlIdentityProvider {
    /// Its entity id.
    pub entity_id: String,
    /// Its signing certificates (base64 DER, no PEM armour), first one first.
    pub certificates: Vec<String>,
    /// Single sign-on.
    pub single_sign_on: SamlService,
    /// Single logout, when offered.
    pub single_logout: Option<SamlService>,
}

impl SamlIdentityProvider {
    /// python3-saml's settings with `sp_entity_id` as the service provider's entity id.
    pub fn saml_config(&self, sp_entity_id: &str) -> Value {
        let service = |s: &SamlService| {
            let mut value = json!({"url": s.url, "binding": s.binding});
            if let Some(response_url) = &s.response_url {
                value["responseUrl"] = json!(response_url);
            }
            value
        };
        let mut idp = json!({
            "entityId": self.entity_id,
            "x509cert": self.certificates.first(),
            "singleSignOnService": service(&self.single_sign_on),
        });
        if self.certificates.len() > 1 {
            idp["x509certMulti"] = json!({"signing": self.certificates});
        }
        if let Some(slo) = &self.single_logout {
            idp["singleLogoutService"] = service(slo);
        }
        json!({
            "strict": true,
            "sp": {"entityId": sp_entity_id},
            "idp": idp,
        })
    }

    /// `INDICO_AUTH_PROVIDERS` and `INDICO_IDENTITY_PROVIDERS` (JSON objects). The same name
    /// links the two, so a SAML login becomes an Indico identity; the IdP vouches for emails.
    pub fn variables(&self, sp_entity_id: &str) -> [(&'static str, String); 2] {
        let auth = json!({
            PROVIDER_NAME: {
                "type": "saml",
                "title": PROVIDER_TITLE,
                "saml_config": self.saml_config(sp_entity_id),
            }
        });
        let identity = json!({
            PROVIDER_NAME: {
                "type": "saml",
                "title": PROVIDER_TITLE,
                "trusted_email": true,
            }
        });
        [
            ("INDICO_AUTH_PROVIDERS", auth.to_string()),
            ("INDICO_IDENTITY_PROVIDERS", identity.to_string()),
        ]
    }
}

fn http_url(bag: &Databag, key: &str) -> Result<Option<String>, SamlError> {
    let Some(value) = bag.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(Some(value.to_owned()))
        }
        _ => Err(invalid(key, "not an http(s) URL")),
    }
}

/// The service `name` (e.g. `single_sign_on_service`), redirect binding first.
fn service(bag: &Databag, name: &str) -> Result<Option<SamlService>, SamlError> {
    for method in ["redirect", "post"] {
        let prefix = format!("{name}_{method}_");
        let Some(url) = http_url(bag, &format!("{prefix}url"))? else {
            continue;
        };
        let binding_key = format!("{prefix}binding");
        let binding = bag.get(&binding_key).map(|v| v.trim()).unwrap_or_default();
        if !binding.starts_with(BINDING_PREFIX) || binding.len() == BINDING_PREFIX.len() {
            return Err(invalid(binding_key, "not a SAML 2.0 binding URN"));
        }
        return Ok(Some(SamlService {
            url,
            binding: binding.to_owned(),
            response_url: http_url(bag, &format!("{prefix}response_url"))?,
        }));
    }
    Ok(None)
}

/// A certificate from `x509certs`: base64 (PEM armour and line breaks tolerated and removed).
fn certificate(raw: &str) -> Option<String> {
    let body: String = raw
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(|line| line.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let base64 = body
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='));
    (base64 && body.len() >= 64).then_some(body)
}

/// Reads the provider's application bag. Without `entity_id`, `x509certs` and a single sign-on
/// URL the provider has not answered yet.
pub fn parse(
    relation: Option<&RelationSnapshot>,
) -> Result<Availability<SamlIdentityProvider>, SamlError> {
    let Some(relation) = relation else {
        return Ok(Availability::NotRelated);
    };
    let bag = &relation.app_data;
    let get = |key: &str| bag.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let (Some(entity_id), Some(certs)) = (get("entity_id"), get("x509certs")) else {
        return Ok(Availability::Pending);
    };
    if entity_id.chars().any(char::is_control) || entity_id.len() > 1024 {
        return Err(invalid("entity_id", "not a SAML entity id"));
    }
    let certificates = certs
        .split(',')
        .map(certificate)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            invalid(
                "x509certs",
                "not a comma-separated list of base64 certificates",
            )
        })?;
    http_url(bag, "metadata_url")?;
    let Some(single_sign_on) = service(bag, "single_sign_on_service")? else {
        return Ok(Availability::Pending);
    };
    let single_logout = service(bag, "single_logout_service")?;
    Ok(Availability::Ready(SamlIdentityProvider {
        entity_id: entity_id.to_owned(),
        certificates,
        single_sign_on,
        single_logout,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use juju_runtime::RelationId;

    pub(crate) const CERT: &str = "MIIDuzCCAqOgAwIBAgIJALRwYFkmH3k9MA0GCSqGSIb3DQEBCwUAMHQxCzAJBgNVBAYTAkdCMRMwEQYDVQQIDApTb21lLVN0YXRlMQ0wCwYDVQQKDARVYnVudHU=";

    /// Shaped as saml-integrator writes it for login.ubuntu.com's metadata.
    fn relation(pairs: &[(&str, &str)]) -> RelationSnapshot {
        RelationSnapshot {
            remote_app: Some("saml-integrator".into()),
            app_data: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..RelationSnapshot::new(RelationId::new(ENDPOINT, 14))
        }
    }

    fn answer() -> Vec<(&'static str, String)> {
        vec![
            ("entity_id", "https://login.ubuntu.com".into()),
            (
                "metadata_url",
                "https://login.ubuntu.com/saml/metadata".into(),
            ),
            ("x509certs", format!("{CERT},{}", CERT.replace('M', "N"))),
            (
                "single_sign_on_service_redirect_url",
                "https://login.ubuntu.com/saml/".into(),
            ),
            (
                "single_sign_on_service_redirect_binding",
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect".into(),
            ),
            (
                "single_logout_service_redirect_url",
                "https://login.ubuntu.com/+logout".into(),
            ),
            (
                "single_logout_service_redirect_binding",
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect".into(),
            ),
            (
                "single_logout_service_redirect_response_url",
                "https://login.ubuntu.com/saml/logout/response".into(),
            ),
            (
                "single_sign_on_service_post_url",
                "https://login.ubuntu.com/saml/post".into(),
            ),
            (
                "single_sign_on_service_post_binding",
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST".into(),
            ),
        ]
    }

    fn parse_pairs(
        pairs: &[(&str, String)],
    ) -> Result<Availability<SamlIdentityProvider>, SamlError> {
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        parse(Some(&relation(&borrowed)))
    }

    #[test]
    fn the_relation_becomes_auth_and_identity_providers() {
        let Availability::Ready(idp) = parse_pairs(&answer()).unwrap() else {
            panic!("expected ready")
        };
        let [(auth_var, auth), (identity_var, identity)] =
            idp.variables("https://events.example.com");
        assert_eq!(auth_var, "INDICO_AUTH_PROVIDERS");
        assert_eq!(identity_var, "INDICO_IDENTITY_PROVIDERS");
        let auth: Value = serde_json::from_str(&auth).unwrap();
        let config = &auth["saml"]["saml_config"];
        assert_eq!(auth["saml"]["type"], "saml");
        assert_eq!(config["strict"], true);
        assert_eq!(config["sp"]["entityId"], "https://events.example.com");
        assert_eq!(config["idp"]["entityId"], "https://login.ubuntu.com");
        assert_eq!(config["idp"]["x509cert"], CERT);
        assert_eq!(
            config["idp"]["x509certMulti"]["signing"][1],
            CERT.replace('M', "N")
        );
        assert_eq!(
            config["idp"]["singleSignOnService"],
            json!({
                "url": "https://login.ubuntu.com/saml/",
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
            }),
            "the redirect binding wins over POST"
        );
        assert_eq!(
            config["idp"]["singleLogoutService"]["responseUrl"],
            "https://login.ubuntu.com/saml/logout/response"
        );
        let identity: Value = serde_json::from_str(&identity).unwrap();
        assert_eq!(identity["saml"]["type"], "saml");
        assert_eq!(identity["saml"]["trusted_email"], true);
    }

    #[test]
    fn post_only_and_pem_armoured_certificates_are_accepted() {
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n{}\n-----END CERTIFICATE-----",
            &CERT[..40],
            &CERT[40..]
        );
        let pairs = vec![
            ("entity_id", "https://idp.example.org/saml".to_owned()),
            ("x509certs", pem),
            (
                "single_sign_on_service_post_url",
                "https://idp.example.org/sso".into(),
            ),
            (
                "single_sign_on_service_post_binding",
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST".into(),
            ),
        ];
        let Availability::Ready(idp) = parse_pairs(&pairs).unwrap() else {
            panic!("expected ready")
        };
        assert_eq!(idp.certificates, [CERT]);
        assert_eq!(idp.single_sign_on.url, "https://idp.example.org/sso");
        assert_eq!(idp.single_logout, None);
        let config = idp.saml_config("http://indico.local");
        assert!(config["idp"].get("x509certMulti").is_none());
        assert!(config["idp"].get("singleLogoutService").is_none());
    }

    #[test]
    fn partial_answers_wait_and_bad_values_name_the_key() {
        assert_eq!(parse(None).unwrap(), Availability::NotRelated);
        assert_eq!(
            parse(Some(&relation(&[("entity_id", "https://idp")]))).unwrap(),
            Availability::Pending
        );
        let with = |key: &'static str, value: &str| {
            let mut pairs: Vec<(&str, String)> =
                answer().into_iter().filter(|(k, _)| *k != key).collect();
            pairs.push((key, value.to_owned()));
            parse_pairs(&pairs)
        };
        assert_eq!(
            with("x509certs", "not a certificate!")
                .unwrap_err()
                .to_string(),
            "relation saml: key x509certs is not valid: not a comma-separated list of base64 certificates"
        );
        assert_eq!(
            with("single_sign_on_service_redirect_url", "javascript:alert(1)")
                .unwrap_err()
                .key,
            "single_sign_on_service_redirect_url"
        );
        assert_eq!(
            with("single_logout_service_redirect_binding", "HTTP-Redirect")
                .unwrap_err()
                .key,
            "single_logout_service_redirect_binding"
        );
        assert_eq!(
            with("metadata_url", "metadata").unwrap_err().key,
            "metadata_url"
        );
        assert_eq!(with("entity_id", "a\u{0}b").unwrap_err().key, "entity_id");
    }
}
