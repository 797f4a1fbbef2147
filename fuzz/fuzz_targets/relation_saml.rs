//! The `saml` relation parser (saml-integrator's identity provider metadata).
//!
//! Invariants: a parsed provider has base64 certificates, http(s) service URLs and SAML 2.0
//! bindings, and its Indico settings are JSON naming the first certificate; an error names a
//! key.
#![no_main]

use indico_charm::interfaces::{Availability, saml};
use indico_charm_fuzz::RelationInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = RelationInput::from_json(data, saml::ENDPOINT, 14) else {
        return;
    };
    match saml::parse(Some(&input.snapshot)) {
        Ok(Availability::Ready(idp)) => {
            assert!(!idp.certificates.is_empty());
            for cert in &idp.certificates {
                assert!(cert.len() >= 64);
                assert!(
                    cert.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
                );
            }
            assert!(!idp.entity_id.chars().any(char::is_control));
            for service in std::iter::once(&idp.single_sign_on).chain(&idp.single_logout) {
                let url = url::Url::parse(&service.url).expect("a service URL parses");
                assert!(matches!(url.scheme(), "http" | "https"));
                assert!(
                    service
                        .binding
                        .starts_with("urn:oasis:names:tc:SAML:2.0:bindings:")
                );
            }
            let [(_, auth), (_, identity)] = idp.variables("https://events.example.com");
            let auth: serde_json::Value = serde_json::from_str(&auth).expect("JSON");
            serde_json::from_str::<serde_json::Value>(&identity).expect("JSON");
            let config = &auth[saml::PROVIDER_NAME]["saml_config"]["idp"];
            assert_eq!(
                config["x509cert"].as_str(),
                Some(idp.certificates[0].as_str())
            );
            assert_eq!(config["entityId"].as_str(), Some(idp.entity_id.as_str()));
        }
        Ok(Availability::NotRelated) => panic!("a relation was given"),
        Ok(Availability::Pending) => {}
        Err(error) => {
            assert!(!error.key.is_empty());
            assert!(error.to_string().contains(&error.key));
        }
    }
});
