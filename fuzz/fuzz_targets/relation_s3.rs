//! The `s3` relation parser (s3 interface) and the storage_s3 backend string it becomes.
//!
//! Invariants: neither key changes the Debug output of what is parsed; the backend string
//! splits back into exactly the parsed values (no value can inject an option); the
//! variables are valid JSON.
#![no_main]

use indico_charm::interfaces::{Availability, s3};
use indico_charm_fuzz::{RelationInput, assert_same_debug, other_secret};
use libfuzzer_sys::fuzz_target;

/// Whether the provider's value would pass as a backend value (so a replacement of it keeps
/// the parse outcome).
fn usable(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty()
        && !value
            .chars()
            .any(|c| matches!(c, ',' | '=') || c.is_whitespace() || c.is_control())
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = RelationInput::from_json(data, s3::ENDPOINT, 12) else {
        return;
    };
    let parsed = s3::parse(Some(&input.snapshot));
    for key in ["secret-key", "access-key"] {
        if let Some(value) = input.snapshot.app_data.get(key).filter(|v| usable(v)) {
            let other = input.with_app_value(key, other_secret(value));
            assert_same_debug(&parsed, &s3::parse(Some(&other.snapshot)), key);
        }
    }
    let Ok(Availability::Ready(storage)) = parsed else {
        return;
    };
    let backend = storage.backend();
    let options = backend
        .expose()
        .strip_prefix("s3:")
        .expect("the backend starts with s3:");
    let mut seen = std::collections::BTreeMap::new();
    for option in options.split(',') {
        let (key, value) = option.split_once('=').expect("each option is key=value");
        assert!(!value.contains('='), "{key} has a stray =");
        assert!(seen.insert(key, value).is_none(), "{key} twice");
    }
    assert_eq!(seen.get("bucket"), Some(&storage.bucket.as_str()));
    assert_eq!(
        seen.get("access_key"),
        Some(&storage.access_key.expose().as_str())
    );
    assert_eq!(
        seen.get("secret_key"),
        Some(&storage.secret_key.expose().as_str())
    );
    assert_eq!(seen.get("host").copied(), storage.endpoint.as_deref());
    assert_eq!(
        seen.get("addressing_style").copied(),
        storage.addressing_style
    );
    assert_eq!(seen.get("proxy"), Some(&"true"));
    assert!(seen.len() <= 6);
    assert!((3..=63).contains(&storage.bucket.len()));
    for (name, value) in storage.variables() {
        if name == "INDICO_STORAGE_BACKENDS" {
            let backends: serde_json::Value = serde_json::from_str(&value).expect("JSON");
            assert_eq!(backends["s3"].as_str(), Some(backend.expose().as_str()));
        }
    }
});
