//! Golden fixtures: every event in `examples/events/` run through `mappings/default.yaml` must
//! give exactly `examples/expected/<name>.json`. `UPDATE_GOLDEN=1 cargo test --test golden`
//! rewrites the expected files (review the diff before committing).

mod support;

use claim_mapper::load;

#[test]
fn default_mapping_matches_the_expected_outputs() {
    let loaded = load::load_file(&support::root().join("mappings/default.yaml")).unwrap();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let events = support::fixture_events();
    assert!(events.len() >= 8, "fixtures missing");
    for (name, event) in events {
        let done = claim_mapper::process(&loaded.mapping, event, support::TODAY).unwrap();
        let path = support::root().join(format!("examples/expected/{name}.json"));
        if update {
            let text = serde_json::to_string_pretty(&done.event).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
        }
        let expected: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&path).unwrap_or_else(|_| panic!("missing {}", path.display())),
        )
        .unwrap();
        assert_eq!(
            done.event,
            expected,
            "{name}: output differs from {}",
            path.display()
        );
    }
}

#[test]
fn every_bundled_mapping_is_valid() {
    for entry in std::fs::read_dir(support::root().join("mappings")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml") {
            load::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
