//! The `indico-peers` relation parser (the leader's shared application bag).
//!
//! Invariants: the inline secret key never changes the Debug output; a parsed celery unit is
//! a unit name; the raw bag is kept as given.
#![no_main]

use indico_charm::interfaces::peers;
use indico_charm_fuzz::{RelationInput, assert_same_debug};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(input) = RelationInput::from_json(data, peers::ENDPOINT, 1) else {
        return;
    };
    let parsed = peers::parse(Some(&input.snapshot));
    if let Some(other) = input.with_other_app_secret(peers::SECRET_KEY_KEY) {
        let other = peers::parse(Some(&other.snapshot));
        // The raw bag holds the key by design (it is what the leader diffs against); what is
        // parsed out of it must not show it.
        assert_same_debug(
            &parsed.as_ref().map(|p| p.as_ref().map(|p| &p.app)),
            &other.as_ref().map(|p| p.as_ref().map(|p| &p.app)),
            "the secret key",
        );
    }
    match parsed {
        Ok(Some(peers)) => {
            assert_eq!(peers.raw_app, input.snapshot.app_data);
            if let Some(unit) = &peers.app.celery_unit {
                assert!(unit.parse::<juju_runtime::UnitName>().is_ok());
            }
            assert_eq!(peers.other_units.len(), input.snapshot.units.len());
        }
        Ok(None) => panic!("a relation was given"),
        Err(error) => assert!(error.to_string().contains(error.key)),
    }
});
