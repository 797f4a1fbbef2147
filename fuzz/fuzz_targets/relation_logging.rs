//! The `logging` relation parser (loki_push_api: each Loki unit's `endpoint`) and the Pebble
//! log targets built from it.
//!
//! Input: a JSON list of relations (the endpoint may have several). Invariants: each
//! endpoint read is an http(s) URL published by that unit; each becomes one enabled target
//! at that URL; dropping them all leaves only disabled targets.
#![no_main]

use indico_charm::interfaces::{JujuTopology, logging};
use indico_charm_fuzz::RelationInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(inputs) = RelationInput::list_from_json(data, logging::ENDPOINT) else {
        return;
    };
    let relations: Vec<_> = inputs.into_iter().map(|i| i.snapshot).collect();
    let endpoints = match logging::parse(&relations) {
        Ok(endpoints) => endpoints,
        Err(error) => {
            assert!(relations.iter().any(|r| r.units.contains_key(&error.unit)));
            return;
        }
    };
    for (unit, url) in &endpoints {
        let parsed = url::Url::parse(url).expect("an accepted URL parses");
        assert!(matches!(parsed.scheme(), "http" | "https"));
        assert!(relations.iter().any(|r| r.units.contains_key(unit)));
    }
    let topology = JujuTopology {
        model: "indico-model".into(),
        model_uuid: "6b5d5e26-1d5c-4b7a-8e31-2c7e1d3d1e42".into(),
        application: "indico".into(),
        unit: "indico/0".into(),
        charm_name: "indico".into(),
    };
    let targets = logging::log_targets(&endpoints, &topology, None);
    assert_eq!(targets.len(), endpoints.len());
    for (unit, target) in &targets {
        assert_eq!(target.location.as_ref(), endpoints.get(unit));
        assert_eq!(target.services, ["all"]);
    }
    let dropped = logging::log_targets(&Default::default(), &topology, Some(&targets));
    assert_eq!(dropped.len(), targets.len());
    assert!(dropped.values().all(|t| t.services == ["-all"]));
});
