//! Structured events (`fuzz/structured.rs`): the fuzzer's bytes choose the mapping, version,
//! trigger source, app client, groups and attributes, so most inputs reach the rules, the group
//! pipeline and the overlays.
#![no_main]

use std::sync::LazyLock;

use claim_mapper::Mapping;
use libfuzzer_sys::fuzz_target;

#[path = "../structured.rs"]
mod structured;

static MAPPINGS: LazyLock<[Mapping; 2]> = LazyLock::new(|| {
    [
        Mapping::from_yaml(include_str!("../../mappings/bench.yaml"), "bench.yaml").unwrap(),
        Mapping::from_yaml(
            include_str!("../../examples/features/mapping.yaml"),
            "features.yaml",
        )
        .unwrap(),
    ]
});

fuzz_target!(|data: &[u8]| {
    let (mapping, event) = structured::event(data);
    let _ = claim_mapper::engine::apply(&MAPPINGS[mapping], &event, time::macros::date!(2026 - 11 - 26), &mut ())
            .and_then(claim_mapper::engine::Reply::into_owned);
});
