//! The `redis-broker` / `redis-cache` relation parser (redis interface).
//!
//! Invariants: a ready endpoint is a valid host and a non-zero port, its `redis://` URL parses
//! back to them, and the host came from `leader-host` or a provider unit's `hostname`.
#![no_main]

use indico_charm::interfaces::{Availability, redis};
use indico_charm_fuzz::RelationInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = RelationInput::from_json(data, redis::BROKER_ENDPOINT, 4) else {
        return;
    };
    let broker = redis::parse(redis::BROKER_ENDPOINT, Some(&input.snapshot));
    let cache = redis::parse(redis::CACHE_ENDPOINT, Some(&input.snapshot));
    // The endpoint only names the relation in errors.
    assert_eq!(broker.as_ref().ok(), cache.as_ref().ok());
    match broker {
        Ok(Availability::Ready(endpoint)) => {
            assert_ne!(endpoint.port, 0);
            let url = url::Url::parse(&endpoint.url(1)).expect("the redis URL is a URL");
            assert_eq!(url.port(), Some(endpoint.port));
            assert_eq!(url.path(), "/1");
            let bag = &input.snapshot;
            let published = |v: &String| v.trim() == endpoint.host;
            assert!(
                bag.app_data.get("leader-host").is_some_and(published)
                    || bag
                        .units
                        .values()
                        .any(|u| u.get("hostname").is_some_and(published)),
                "the host was not published"
            );
        }
        Ok(Availability::NotRelated) => panic!("a relation was given"),
        Ok(Availability::Pending) => {}
        Err(error) => {
            assert_eq!(error.relation, redis::BROKER_ENDPOINT);
            assert!(matches!(error.key, "leader-host" | "hostname" | "port"));
        }
    }
});
