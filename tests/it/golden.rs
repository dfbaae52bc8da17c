//! Golden fixtures, event in and expected output out:
//! - every event in `examples/events/` through `mappings/default.yaml` gives
//!   `examples/expected/<name>.json`;
//! - every event in `examples/features/events/` through `examples/features/mapping.yaml` (group
//!   pipeline, overlays) gives `examples/features/expected/<name>.json`, its `explain` report
//!   `examples/features/explain/<name>.txt` and its token preview `examples/features/tokens/<name>.txt`;
//! - every event in `examples/lookups/events/` through `examples/lookups/mapping.yaml`, its lookups
//!   finding `examples/lookups/items.yaml`, gives `examples/lookups/explain/<name>.txt` and
//!   `examples/lookups/tokens/<name>.txt`.
//!
//! `UPDATE_GOLDEN=1 cargo test --test it golden::` rewrites the expected files (review the diff before
//! committing).

use crate::support;

use std::path::Path;

use claim_mapper::load;
use claim_mapper::report::dry_run::EventRun;
use claim_mapper::report::{explain, preview};

/// Compares `actual` with the file at `path` (relative to the repository root), or rewrites it.
fn golden(path: &str, actual: &str) {
    let path = support::root().join(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

#[test]
fn default_mapping_matches_the_expected_outputs() {
    let loaded = load::load_file(&support::root().join("mappings/default.yaml")).unwrap();
    let events = support::fixture_events();
    assert!(events.len() >= 8, "fixtures missing");
    for (name, event) in events {
        let done = support::apply(&loaded.mapping, event, support::TODAY).unwrap();
        golden(
            &format!("examples/expected/{name}.json"),
            &pretty(&done.event),
        );
    }
}

#[test]
fn feature_mapping_matches_outputs_explanations_and_token_previews() {
    let loaded = load::load_file(&support::root().join("examples/features/mapping.yaml")).unwrap();
    let events = support::events_in("examples/features/events");
    assert!(events.len() >= 4, "fixtures missing");
    for (name, event) in events {
        let explained = explain::explain(
            &loaded.mapping,
            event.clone(),
            &Default::default(),
            support::TODAY,
        );
        let report = explained.to_human();
        assert!(explained.processed(), "{name}: {report}");
        golden(&format!("examples/features/explain/{name}.txt"), &report);
        // The JSON form says the same: every rule's outcome and the response.
        let json = explained.to_json();
        for rule in json["rules"].as_array().unwrap() {
            let outcome = rule["outcome"].as_str().unwrap();
            assert!(report.contains(outcome), "{name}: {outcome}");
        }
        let response: serde_json::Value =
            serde_json::from_str(report.split_once("\nresponse:\n").unwrap().1).unwrap();
        assert_eq!(json["response"], response, "{name}");

        let done = support::apply(&loaded.mapping, event, support::TODAY).unwrap();
        golden(
            &format!("examples/features/expected/{name}.json"),
            &pretty(&done.event),
        );
        let run = EventRun {
            file: Path::new(&format!("examples/features/events/{name}.json")).to_path_buf(),
            result: Ok(done),
        };
        golden(
            &format!("examples/features/tokens/{name}.txt"),
            &run.to_human(true),
        );
    }
}

#[test]
fn lookup_mapping_matches_explanations_and_token_previews_with_its_items() {
    let root = support::root().join("examples/lookups");
    let loaded = load::load_file(&root.join("mapping.yaml")).unwrap();
    let items = load::files::known_items(&root.join("items.yaml")).unwrap();
    let events = support::events_in("examples/lookups/events");
    assert!(events.len() >= 4, "fixtures missing");
    for (name, event) in events {
        let explained = explain::explain(&loaded.mapping, event.clone(), &items, support::TODAY);
        golden(
            &format!("examples/lookups/explain/{name}.txt"),
            &explained.to_human(),
        );
        let file = Path::new(&format!("examples/lookups/events/{name}.json")).to_path_buf();
        let run = claim_mapper::report::dry_run::run_event(
            &loaded.mapping,
            &file,
            &event,
            &items,
            support::TODAY,
        );
        golden(
            &format!("examples/lookups/tokens/{name}.txt"),
            &run.to_human(true),
        );
    }
}

#[test]
fn token_previews_mark_what_the_mapping_changed() {
    let loaded = load::load_file(&support::root().join("mappings/default.yaml")).unwrap();
    let (_, event) = support::fixture_events()
        .into_iter()
        .find(|(n, _)| n == "v2-authentication-custom-attrs-groups")
        .unwrap();
    let done = support::apply(&loaded.mapping, event, support::TODAY).unwrap();
    let tokens = preview::preview(&done);
    let json = preview::to_json(&tokens);
    // Suppressed from the ID token by the default mapping, kept in the access token's absence.
    assert_eq!(json["id"]["changes"]["phone_number"], "removed");
    assert!(json["id"]["payload"].get("phone_number").is_none());
    assert_eq!(json["id"]["changes"]["tenant"], "added");
    assert_eq!(json["access"]["payload"]["birthdate"], "1990-04-23");
    assert!(
        json["id"]["payload"].get("birthdate").is_some(),
        "attribute stays in the ID token"
    );
    assert!(
        json["id"]["changes"].get("birthdate").is_none(),
        "unchanged there"
    );
    // The `billing` group adds a scope: the scope claim changes.
    assert_eq!(json["access"]["changes"]["scope"], "changed");
    assert_eq!(
        json["access"]["payload"]["scope"],
        "aws.cognito.signin.user.admin orders-api/read"
    );
    let text = preview::render(&tokens);
    assert!(
        text.contains("    - phone_number: \"+15555550123\"  (removed)\n"),
        "{text}"
    );
    assert!(text.contains("    + tenant: \"tenant-42\"\n"), "{text}");
    // Attributes arrive as strings; the ID token types these.
    assert_eq!(json["id"]["payload"]["email_verified"], true);
    assert_eq!(json["id"]["payload"]["token_use"], "id");
    assert_eq!(
        json["access"]["payload"]["client_id"],
        "1h2j3k4l5m6n7o8p9q0r1s2t3u"
    );
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
