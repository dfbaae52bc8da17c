//! Logs: JSON lines with the request id, `cold_start` and the live mapping; rule outcomes at
//! debug level; and at the most verbose level no attribute value of any fixture in any line.

use crate::support;

use serde_json::Value;
use support::lambda::Lambda;

/// Attribute and client-metadata values of every fixture. Booleans and values shorter than 5
/// characters (`25`, `true`, `gold`) are left out: they occur in logs by coincidence, as counts
/// and flags (`cold_start=false`).
fn private_values() -> Vec<String> {
    let mut values = Vec::new();
    for (_, event) in all_events() {
        for key in ["userAttributes", "clientMetadata"] {
            if let Some(map) = event["request"][key].as_object() {
                values.extend(map.values().filter_map(Value::as_str).map(str::to_owned));
            }
        }
    }
    values.retain(|v| v.len() >= 5 && v != "false");
    values.sort();
    values.dedup();
    assert!(values.len() > 20, "too few values to check");
    values
}

/// The fixtures of `examples/events` and of `examples/features/events`.
fn all_events() -> Vec<(String, Value)> {
    let mut events = support::fixture_events();
    events.extend(support::events_in("examples/features/events"));
    events
}

fn run_all_fixtures(mut env: Vec<(&'static str, String)>) -> String {
    env.push(("AWS_LAMBDA_LOG_FORMAT", "JSON".into()));
    env.push(("AWS_LAMBDA_LOG_LEVEL", "trace".into()));
    env.push(("RUST_LOG", "trace".into()));
    let mut lambda = Lambda::start(&env);
    for (_, event) in all_events() {
        lambda.invoke(&event);
    }
    lambda.stop()
}

fn assert_no_private_values(logs: &str) {
    for value in private_values() {
        assert!(
            !logs.contains(&value),
            "attribute value {value:?} leaked into the logs"
        );
        // JSON logs escape quotes; check the escaped form too.
        let escaped = serde_json::to_string(&value).unwrap();
        assert!(
            !logs.contains(escaped.trim_matches('"')),
            "{value:?} leaked (escaped)"
        );
    }
}

fn json_lines(logs: &str) -> Vec<Value> {
    logs.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

#[test]
fn file_mapping_logs_are_json_with_context_and_no_values() {
    let logs = run_all_fixtures(vec![("CLAIM_MAPPING_FILE", "mappings/default.yaml".into())]);
    assert_no_private_values(&logs);
    let lines = json_lines(&logs);
    let rules: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "rule")
        .collect();
    assert!(
        rules.len() >= 8 * 8,
        "a debug line per rule and event: {}",
        rules.len()
    );
    for line in &rules {
        assert!(
            line["fields"]["rule"].is_string() && line["fields"]["claim"].is_string(),
            "{line}"
        );
        assert!(line["fields"]["outcome"].is_string(), "{line}");
        assert!(
            line["span"]["live"].as_str().unwrap().starts_with("file "),
            "{line}"
        );
        let spans = line["spans"].to_string();
        assert!(spans.contains("requestId"), "request id on {line}");
    }
    let cold: Vec<bool> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "claims mapped")
        .map(|l| l["span"]["cold_start"].as_bool().unwrap())
        .collect();
    assert_eq!(cold.len(), all_events().len());
    assert!(cold[0] && cold[1..].iter().all(|c| !c), "{cold:?}");
    let outcomes: Vec<&str> = rules
        .iter()
        .map(|l| l["fields"]["outcome"].as_str().unwrap())
        .collect();
    for expected in [
        "applied",
        "skipped: source missing",
        "skipped: condition `groups` is false",
        "skipped: no target token in this event",
        "failed: transform `to_number` failed: not a number",
    ] {
        assert!(outcomes.contains(&expected), "{expected} in {outcomes:?}");
    }
}

#[test]
fn group_pipeline_overlays_and_shadow_mode_log_no_values() {
    for mode in ["apply", "shadow"] {
        let logs = run_all_fixtures(vec![
            (
                "CLAIM_MAPPING_FILE",
                "examples/features/mapping.yaml".into(),
            ),
            ("CLAIM_MAPPING_MODE", mode.into()),
        ]);
        assert_no_private_values(&logs);
        // Group names from attributes are values too.
        for group in ["app-Sales", "app-Support", "Domain Users", "Billing"] {
            assert!(!logs.contains(group), "{mode}: group {group:?} in the logs");
        }
        let lines = json_lines(&logs);
        assert!(
            lines
                .iter()
                .any(|l| l["fields"]["message"] == "group pipeline"
                    && l["fields"]["groups"].is_u64()),
            "{mode}: group steps are logged by count"
        );
        assert!(
            logs.contains("skipped: condition `attributes.email_verified` is false"),
            "{mode}: a value condition is logged by its key"
        );
    }
}

#[test]
#[cfg(feature = "ssm")]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn ssm_mapping_logs_carry_no_values_and_no_parameter_content() {
    use support::ssm::{aws_env, endpoint, put_raw, unique};
    let name = unique("logs");
    let mapping = std::fs::read_to_string(support::root().join("mappings/default.yaml")).unwrap();
    put_raw(
        &name,
        &mapping,
        aws_sdk_ssm::types::ParameterType::SecureString,
    );
    let mut env = aws_env(&endpoint());
    env.push(("CLAIM_MAPPING_SSM_PARAMETER", name.clone()));
    env.push(("CLAIM_MAPPING_REFRESH_SECONDS", "1".into()));
    let logs = run_all_fixtures(env);
    assert_no_private_values(&logs);
    for fragment in [
        "custom:tenant_id",
        "orders-api/read",
        "{given_name} {family_name}",
    ] {
        assert!(
            !logs.contains(fragment),
            "parameter content {fragment:?} leaked"
        );
    }
    assert!(
        logs.contains(&format!("ssm {name} version 1")),
        "the live source is named"
    );
}

/// The Logs Insights queries of docs/operations.md (fences marked `logs-insights`).
fn documented_queries() -> Vec<String> {
    crate::docs::Page::read(&support::root().join("docs/operations.md"))
        .blocks
        .into_iter()
        .filter(|b| b.info == "logs-insights")
        .map(|b| b.content)
        .collect()
}

/// The quoted literal after `key = "` in `query`, if any.
fn literal_after<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    let start = query.find(&format!("{key} = \""))? + key.len() + 4;
    query[start..].split('"').next()
}

#[test]
fn the_documented_queries_read_fields_the_function_writes() {
    let mapping = "version: 1\non_error: ON_ERROR\nclaims:\n  - claim: seats\n    from: custom:seat_count\n    transform: [to_number]\n";
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for (on_error, mode) in [("skip", "apply"), ("fail", "apply"), ("skip", "shadow")] {
        let file = dir.path().join(format!("{on_error}.yaml"));
        std::fs::write(&file, mapping.replace("ON_ERROR", on_error)).unwrap();
        let mut lambda = Lambda::start(&[
            ("CLAIM_MAPPING_FILE", file.to_str().unwrap().to_owned()),
            ("CLAIM_MAPPING_MODE", mode.into()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ]);
        let mut event = support::fixture("v2-authentication-custom-attrs-groups");
        event["request"]["userAttributes"]["custom:seat_count"] = "many".into();
        lambda.invoke_bytes(serde_json::to_vec(&event).unwrap());
        event["request"]["userAttributes"]["custom:seat_count"] = "12".into();
        lambda.invoke_bytes(serde_json::to_vec(&event).unwrap());
        lines.extend(json_lines(&lambda.stop()));
    }
    let queries = documented_queries();
    // The canary's query reads metrics only a canary writes: tests/it/candidates.rs checks it.
    let queries: Vec<String> = queries
        .into_iter()
        .filter(|q| !q.contains("CanaryServed"))
        .collect();
    // The canary's query reads metrics only a canary writes: tests/it/candidates.rs checks it.
    let queries: Vec<String> = queries
        .into_iter()
        .filter(|q| !q.contains("CanaryServed"))
        .collect();
    assert_eq!(queries.len(), 5, "{queries:?}");
    for query in &queries {
        // The lines a query selects: by message, or the metric lines.
        let selected: Vec<&Value> = match literal_after(query, "fields.message") {
            Some(message) => lines
                .iter()
                .filter(|l| l["fields"]["message"] == message)
                .collect(),
            None => lines.iter().filter(|l| l.get("_aws").is_some()).collect(),
        };
        assert!(!selected.is_empty(), "no line is selected by:\n{query}");
        let words = query.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'));
        for word in words {
            let field = match word.strip_prefix("fields.") {
                Some(name) => &selected[0]["fields"][name],
                // With a file mapping there is no version (ssm.rs checks it on SSM lines).
                None if word == "mapping_version" => continue,
                None if word.starts_with("mapping_") => &selected[0][word],
                None => continue,
            };
            assert!(!field.is_null(), "`{word}` is not in {}", selected[0]);
        }
    }
}
