//! The playground's engine: what `validate`, `dry-run` (with and without `--tokens`) and `explain`
//! print for one mapping and one event, computed by the same library code as the CLI, compiled to
//! WebAssembly for the page in `web/`. Nothing here reads a file, a clock or the network: the page
//! hands in the texts and the date.

use std::path::Path;

use claim_mapper::Mapping;
use claim_mapper::engine::Payload;
use claim_mapper::report::validation::{Validation, problem_json};
use claim_mapper::report::{dry_run, explain};
use serde_json::{Value, json};
use time::Date;
use wasm_bindgen::prelude::wasm_bindgen;

/// Everything the page shows for `mapping` (named `mapping_name` in messages, as the CLI names the
/// file) over `event` (named `event_name`) as of `today` (`YYYY-MM-DD`), as a JSON object:
///
/// - `validate`: what `claim-mapper validate` prints; `valid`; `problems` and `warnings`, each
///   `{line, column, rule, claim, field, message}` as `validate --json` gives them;
/// - `changes`, `tokens`: what `dry-run` and `dry-run --tokens` print for the event; `reply`: the
///   Lambda's reply (or `error`: what the Lambda would return as its error);
/// - `explain`: what `explain` prints after its `mapping` and `event` lines.
///
/// The last three are `null` when the mapping is refused; `today` not a date is a problem of its
/// own (`date`).
#[wasm_bindgen]
pub fn evaluate(
    mapping_name: &str,
    mapping: &str,
    event_name: &str,
    event: &str,
    today: &str,
) -> String {
    evaluated(mapping_name, mapping, event_name, event, today).to_string()
}

/// The trigger sources Cognito documents for Pre Token Generation, as a JSON array: what the
/// page offers to switch an event to.
#[wasm_bindgen]
pub fn trigger_sources() -> String {
    json!(claim_mapper::cognito::TRIGGER_SOURCES).to_string()
}

fn evaluated(
    mapping_name: &str,
    mapping: &str,
    event_name: &str,
    event: &str,
    today: &str,
) -> Value {
    let result = Mapping::from_yaml(mapping, mapping_name);
    let validation = Validation {
        file: mapping_name,
        result: &result,
        strict: false,
    };
    let mut out = json!({
        "validate": validation.to_human(),
        "valid": result.is_ok(),
        "problems": [],
        "warnings": [],
        "changes": null,
        "tokens": null,
        "reply": null,
        "error": null,
        "explain": null,
    });
    let mapping = match &result {
        Ok(mapping) => mapping,
        Err(error) => {
            if let claim_mapper::MappingError::Invalid { problems, .. } = error {
                out["problems"] = problems.iter().map(problem_json).collect();
            }
            return out;
        }
    };
    out["warnings"] = mapping.warnings().iter().map(problem_json).collect();
    let Some(today) = parse_date(today) else {
        out["date"] = json!(format!("`{today}` is not a date (YYYY-MM-DD)"));
        return out;
    };
    let file = Path::new(event_name);
    let run = match Payload::from_file(event.as_bytes()) {
        Ok(value) => {
            // The page has no table: a rule reading a lookup says no item was given, as the
            // CLI does without `--lookup-items`.
            let items = Default::default();
            out["explain"] =
                json!(explain::explain(mapping, value.clone(), &items, today).to_human());
            dry_run::run_event(mapping, file, &value, &items, today)
        }
        Err(not_an_event) => {
            // As `explain` on such a file: the command cannot run.
            out["explain"] = json!(format!("{event_name}: {not_an_event}"));
            dry_run::EventRun {
                file: file.to_path_buf(),
                result: Err(not_an_event.to_string()),
            }
        }
    };
    out["changes"] = json!(run.to_human(false));
    out["tokens"] = json!(run.to_human(true));
    match &run.result {
        Ok(done) => out["reply"] = json!(done.written.get()),
        Err(error) => out["error"] = json!(error),
    }
    out
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str =
        include_str!("../../examples/events/v2-authentication-custom-attrs-groups.json");

    #[test]
    fn a_valid_mapping_gives_every_report() {
        let mapping =
            "version: 1\nclaims:\n  - { claim: dept, from: custom:tenant_id, tokens: [id] }\n";
        let out = evaluated("m.yaml", mapping, "e.json", EVENT, "2026-11-26");
        assert_eq!(out["valid"], true);
        assert!(
            out["validate"]
                .as_str()
                .unwrap()
                .starts_with("m.yaml: valid (1 rule,")
        );
        assert!(out["changes"].as_str().unwrap().starts_with("e.json\n"));
        assert!(out["tokens"].as_str().unwrap().contains("dept"));
        let reply: Value = serde_json::from_str(out["reply"].as_str().unwrap()).unwrap();
        assert!(reply["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]
            ["claimsToAddOrOverride"]
            .get("dept")
            .is_some());
        assert!(out["explain"].as_str().unwrap().contains("dept"));
    }

    #[test]
    fn a_refused_mapping_gives_its_problems_where_they_are() {
        let mapping = "version: 1\nclaims:\n  - { claim: dept, form: custom:tenant_id }\n";
        let out = evaluated("m.yaml", mapping, "e.json", EVENT, "2026-11-26");
        assert_eq!(out["valid"], false);
        assert_eq!(out["problems"][0]["line"], 3);
        assert!(
            out["validate"]
                .as_str()
                .unwrap()
                .contains("\n  m.yaml:3:20: rule 1"),
            "{out}"
        );
        assert_eq!(out["tokens"], Value::Null);
    }

    #[test]
    fn an_event_that_is_not_json_fails_as_the_lambda_would() {
        let mapping = "version: 1\nclaims: []\n";
        let out = evaluated("m.yaml", mapping, "e.json", "{", "2026-11-26");
        assert!(
            out["error"]
                .as_str()
                .unwrap()
                .starts_with("the event is not JSON")
        );
        assert!(
            out["changes"]
                .as_str()
                .unwrap()
                .contains("ERROR the event is not JSON")
        );
        assert_eq!(out["reply"], Value::Null);
    }

    #[test]
    fn a_date_that_is_not_one_is_said() {
        let out = evaluated(
            "m.yaml",
            "version: 1\nclaims: []\n",
            "e.json",
            EVENT,
            "26/11/2026",
        );
        assert!(out["date"].as_str().unwrap().contains("26/11/2026"));
        assert_eq!(out["tokens"], Value::Null);
    }
}
