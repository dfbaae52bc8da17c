//! Arbitrary bytes as the event given to the handler, with a rich mapping.
#![no_main]

use std::sync::LazyLock;

use claim_mapper::Mapping;
use libfuzzer_sys::fuzz_target;

static MAPPING: LazyLock<Mapping> = LazyLock::new(|| {
    Mapping::from_yaml(include_str!("../../mappings/bench.yaml"), "bench.yaml").unwrap()
});

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice(data) {
        let _ = claim_mapper::engine::apply(&MAPPING, &event, time::macros::date!(2026 - 11 - 26), &mut ())
            .and_then(claim_mapper::engine::Reply::into_owned);
    }
});
