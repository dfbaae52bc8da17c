//! The fuzzers' corpora (`fuzz/corpus/`, grown by `cargo fuzz`) replayed in the normal test
//! suite: every input that ever reached new code must still be handled without a panic. Crash
//! inputs found by the fuzzers go into the same folders.

use crate::support;

#[path = "../../fuzz/structured.rs"]
mod structured;

use std::path::Path;

use claim_mapper::Mapping;
use support::TODAY;
use support::apply;

fn inputs(target: &str) -> Vec<Vec<u8>> {
    let dir = support::root().join("fuzz/corpus").join(target);
    let inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(inputs.len() > 100, "{target}: corpus too small");
    inputs
}

fn bench_mapping() -> Mapping {
    let text = std::fs::read_to_string(support::root().join("mappings/bench.yaml")).unwrap();
    Mapping::from_yaml(&text, "bench.yaml").unwrap()
}

#[test]
fn event_corpus_never_panics() {
    let mapping = bench_mapping();
    for input in inputs("event_bytes") {
        if let Ok(event) = serde_json::from_slice(&input) {
            let _ = apply(&mapping, event, TODAY);
        }
    }
}

#[test]
fn mapping_corpus_never_panics() {
    let event = support::fixture("v2-authentication-custom-attrs-groups");
    for input in inputs("mapping_bytes") {
        let Ok(text) = std::str::from_utf8(&input) else {
            continue;
        };
        if let Ok(mapping) = Mapping::from_yaml(text, Path::new("fuzz.yaml").to_str().unwrap()) {
            let _ = apply(&mapping, event.clone(), TODAY);
        }
    }
}

#[test]
fn structured_corpus_never_panics() {
    let features =
        std::fs::read_to_string(support::root().join("examples/features/mapping.yaml")).unwrap();
    let mappings = [
        bench_mapping(),
        Mapping::from_yaml(&features, "features.yaml").unwrap(),
    ];
    for input in inputs("structured_event") {
        let (mapping, event) = structured::event(&input);
        let _ = apply(&mappings[mapping], event, TODAY);
    }
}
