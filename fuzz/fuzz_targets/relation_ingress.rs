//! The `ingress` relation parser (ingress v2: the provider's `{"url": ...}`).
//!
//! Invariant: a URL read back is an http(s) URL with a host, exactly as published.
#![no_main]

use indico_charm::interfaces::ingress;
use indico_charm_fuzz::RelationInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = RelationInput::from_json(data, ingress::ENDPOINT, 20) else {
        return;
    };
    match ingress::parse_url(Some(&input.snapshot)) {
        Ok(Some(url)) => {
            let parsed = url::Url::parse(&url).expect("an accepted URL parses");
            assert!(matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some());
            let raw = &input.snapshot.app_data["ingress"];
            let published: serde_json::Value = serde_json::from_str(raw).expect("it was JSON");
            assert_eq!(published["url"].as_str(), Some(url.as_str()));
        }
        Ok(None) => {}
        Err(error) => assert_eq!(error.key, "ingress"),
    }
});
