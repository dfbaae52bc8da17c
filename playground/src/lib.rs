//! The playground's engine: what `validate`, `dry-run` (with and without `--tokens`) and `explain`
//! print for one mapping and one event, computed by the same library code as the CLI, compiled to
//! WebAssembly for the page in `web/`. Nothing here reads a file, a clock or the network: the page
//! hands in the texts and the date.

use std::path::Path;

use claim_mapper::Mapping;
use claim_mapper::engine::{KnownItems, Payload};
use claim_mapper::report::validation::{Validation, problem_json};
use claim_mapper::report::{dry_run, explain};
use serde_json::{Value, json};
use time::Date;
use wasm_bindgen::prelude::wasm_bindgen;

/// Everything the page shows for `mapping` (named `mapping_name` in messages, as the CLI names the
/// file) over `event` (named `event_name`) as of `today` (`YYYY-MM-DD`), its lookups finding
/// `items` (a `--lookup-items` file's YAML named `items_name`; blank: none given), as a JSON
/// object:
///
/// - `validate`: what `claim-mapper validate` prints; `valid`; `problems` and `warnings`, each
///   `{line, column, rule, claim, field, message}` as `validate --json` gives them;
/// - `changes`, `tokens`: what `dry-run` and `dry-run --tokens` print for the event; `reply`: the
///   Lambda's reply (or `error`: what the Lambda would return as its error);
/// - `explain`: what `explain` prints after its `mapping` and `event` lines.
///
/// The last three are `null` when the mapping is refused; `today` not a date is a problem of its
/// own (`date`), and so are items the CLI would refuse (`items`: their problems, as the CLI prints
/// them).
#[wasm_bindgen]
pub fn evaluate(
    mapping_name: &str,
    mapping: &str,
    event_name: &str,
    event: &str,
    items_name: &str,
    items: &str,
    today: &str,
) -> String {
    let texts = Texts {
        mapping_name,
        mapping,
        event_name,
        event,
        items_name,
        items,
        today,
    };
    evaluated(&texts).to_string()
}

/// What the page hands in, each text with the name messages give it.
struct Texts<'a> {
    mapping_name: &'a str,
    mapping: &'a str,
    event_name: &'a str,
    event: &'a str,
    items_name: &'a str,
    items: &'a str,
    today: &'a str,
}

/// The trigger sources Cognito documents for Pre Token Generation, as a JSON array: what the
/// page offers to switch an event to.
#[wasm_bindgen]
pub fn trigger_sources() -> String {
    json!(claim_mapper::cognito::TRIGGER_SOURCES).to_string()
}

fn evaluated(texts: &Texts) -> Value {
    let result = Mapping::from_yaml(texts.mapping, texts.mapping_name);
    let validation = Validation {
        file: texts.mapping_name,
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
        "items": [],
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
    let Some(today) = parse_date(texts.today) else {
        out["date"] = json!(format!("`{}` is not a date (YYYY-MM-DD)", texts.today));
        return out;
    };
    // No table here: without items, a rule reading a lookup says no item was given, as the CLI
    // does without `--lookup-items`.
    let items = if texts.items.trim().is_empty() {
        KnownItems::default()
    } else {
        match KnownItems::from_yaml(texts.items, texts.items_name) {
            Ok(items) => items,
            Err(problems) => {
                out["items"] = json!(problems);
                return out;
            }
        }
    };
    let file = Path::new(texts.event_name);
    let run = match Payload::from_file(texts.event.as_bytes()) {
        Ok(value) => {
            out["explain"] =
                json!(explain::explain(mapping, value.clone(), &items, today).to_human());
            dry_run::run_event(mapping, file, &value, &items, today)
        }
        Err(not_an_event) => {
            // As `explain` on such a file: the command cannot run.
            out["explain"] = json!(format!("{}: {not_an_event}", texts.event_name));
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

    /// `mapping` over `event`, with no items, on a fixed date.
    fn on<'a>(mapping: &'a str, event: &'a str) -> Texts<'a> {
        Texts {
            mapping_name: "m.yaml",
            mapping,
            event_name: "e.json",
            event,
            items_name: "items.yaml",
            items: "",
            today: "2026-11-26",
        }
    }

    #[test]
    fn a_valid_mapping_gives_every_report() {
        let mapping =
            "version: 1\nclaims:\n  - { claim: dept, from: custom:tenant_id, tokens: [id] }\n";
        let out = evaluated(&on(mapping, EVENT));
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
        let out = evaluated(&on(mapping, EVENT));
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
        let out = evaluated(&on(mapping, "{"));
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
        let out = evaluated(&Texts {
            today: "26/11/2026",
            ..on("version: 1\nclaims: []\n", EVENT)
        });
        assert!(out["date"].as_str().unwrap().contains("26/11/2026"));
        assert_eq!(out["tokens"], Value::Null);
    }

    const LOOKUPS: &str = include_str!("../../examples/lookups/mapping.yaml");
    const ACME: &str = include_str!("../../examples/lookups/events/v2-acme.json");

    #[test]
    fn lookups_find_the_items_given() {
        let items = include_str!("../../examples/lookups/items.yaml");
        let out = evaluated(&Texts {
            items,
            ..on(LOOKUPS, ACME)
        });
        let tokens = out["tokens"].as_str().unwrap();
        assert!(tokens.contains("+ plan: \"enterprise\""), "{tokens}");
        assert!(tokens.contains("+ seats: 250"), "{tokens}");
        assert_eq!(out["items"], json!([]));
        // Without items, the lookup is not fetched: its claims are left out, saying why.
        let out = evaluated(&on(LOOKUPS, ACME));
        let tokens = out["tokens"].as_str().unwrap();
        assert!(!tokens.contains("plan:"), "{tokens}");
        assert!(tokens.contains("rule 2 (claim `plan`): lookup `tenant`: no item was given"));
    }

    #[test]
    fn items_the_cli_would_refuse_are_refused_with_its_messages() {
        let items = "tenant:\n  - { key: { pk: a }, missing: true, fails: error }\n";
        let out = evaluated(&Texts {
            items,
            ..on(LOOKUPS, ACME)
        });
        assert_eq!(
            out["items"],
            json!([
                "items.yaml: tenant[0]: give exactly one of `item`, `missing: true` and `fails`"
            ])
        );
        assert_eq!(out["valid"], true);
        assert_eq!(out["tokens"], Value::Null);
        let out = evaluated(&Texts {
            items: "tenant: [",
            ..on(LOOKUPS, ACME)
        });
        assert!(
            out["items"][0].as_str().unwrap().starts_with("items.yaml:"),
            "{out}"
        );
    }
}
