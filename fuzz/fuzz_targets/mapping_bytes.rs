//! Arbitrary bytes as a mapping file; valid mappings are then applied to a fixture event.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mapping) = claim_mapper::Mapping::from_yaml(text, "fuzz.yaml") {
        let event = serde_json::from_str(include_str!(
            "../../examples/events/v2-authentication-custom-attrs-groups.json"
        ))
        .unwrap();
        let _ = claim_mapper::engine::apply(&mapping, &event, time::macros::date!(2026 - 11 - 26), &mut ())
            .and_then(claim_mapper::engine::Reply::into_owned);
    }
});
