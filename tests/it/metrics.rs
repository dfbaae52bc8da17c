//! Metrics: the Lambda binaries under the local Runtime API write one valid EMF line per
//! invocation, with the right counts for events that apply, skip and fail, and none when
//! metrics are disabled.

use crate::support;

use serde_json::{Value, json};
use support::emf;
use support::lambda::{Lambda, binaries};

/// One rule that always applies and one that fails for a seat count that is not a number.
const MAPPING: &str = "version: 1
on_error: ON_ERROR
claims:
  - claim: email
    from: email
    transform: [lowercase]
  - claim: seats
    from: custom:seat_count
    transform: [to_number]
";

const V2: &str = "v2-authentication-custom-attrs-groups";

fn event(seats: &str) -> Value {
    let mut event = support::fixture(V2);
    event["request"]["userAttributes"]["custom:seat_count"] = json!(seats);
    event
}

/// Starts `binary` with the mapping under `on_error` and `env`; the mapping file lives as long
/// as the returned directory.
fn start(binary: &str, on_error: &str, env: &[(&str, &str)]) -> (Lambda, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.yaml");
    std::fs::write(&file, MAPPING.replace("ON_ERROR", on_error)).unwrap();
    let mut vars = vec![("CLAIM_MAPPING_FILE", file.to_str().unwrap().to_owned())];
    vars.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    (Lambda::start_bin(binary, &vars), dir)
}

/// The metric lines of a stopped function, each checked against the specification.
fn valid_lines(lambda: Lambda) -> Vec<Value> {
    let lines = emf::lines(&lambda.stop());
    lines.iter().for_each(emf::validate);
    lines
}

#[test]
fn each_invocation_writes_one_valid_line_counting_what_it_did() {
    for binary in binaries() {
        let (mut skip, _dir) = start(binary, "skip", &[("AWS_LAMBDA_FUNCTION_NAME", "fn-a")]);
        skip.invoke(&event("12"));
        skip.invoke(&event("many"));
        // Not JSON: refused.
        skip.invoke_bytes(b"{not json".to_vec());
        let lines = valid_lines(skip);
        assert_eq!(lines.len(), 3, "one line per invocation: {lines:?}");
        let column = |metric: &str| lines.iter().map(|l| l[metric].clone()).collect::<Vec<_>>();
        assert_eq!(column("ColdStart"), [json!(1), json!(0), json!(0)]);
        assert_eq!(column("RulesApplied"), [json!(2), json!(1), json!(0)]);
        assert_eq!(column("RulesSkipped"), [json!(0), json!(1), json!(0)]);
        assert_eq!(column("InvocationsRefused"), [json!(0), json!(0), json!(1)]);
        for line in &lines {
            assert_eq!(
                line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
                "ClaimMapper"
            );
            assert_eq!(line["service"], "claim-mapper");
            assert_eq!(line["function_name"], "fn-a");
            assert_eq!(line["mapping_source"], "file");
            assert!(
                line["mapping_digest"]
                    .as_str()
                    .unwrap()
                    .starts_with("sha256:")
            );
            let names = emf::metric_names(line);
            assert!(
                !names.contains(&"FallbackServed"),
                "no parameter: {names:?}"
            );
            assert!(
                !names.contains(&"ShadowWouldChange"),
                "not shadow mode: {names:?}"
            );
        }

        let (mut fail, _dir) = start(binary, "fail", &[]);
        fail.invoke_bytes(serde_json::to_vec(&event("many")).unwrap());
        let lines = valid_lines(fail);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["InvocationsRefused"], 1, "a refused sign-in");
        assert_eq!(lines[0]["RulesSkipped"], 0);
        assert_eq!(
            lines[0]["function_name"], "claim-mapper",
            "the function's own name"
        );
    }
}

#[test]
fn shadow_mode_counts_what_would_change_and_what_would_fail() {
    let (mut shadow, _dir) = start(
        binaries()[0],
        "fail",
        &[
            ("CLAIM_MAPPING_MODE", "shadow"),
            ("POWERTOOLS_METRICS_NAMESPACE", "Auth"),
        ],
    );
    shadow.invoke(&event("12"));
    shadow.invoke(&event("many"));
    let lines = valid_lines(shadow);
    assert_eq!(lines.len(), 2);
    assert_eq!(emf::sum(&lines, "ShadowWouldChange"), 1);
    assert_eq!(lines[1]["ShadowWouldFail"], 1);
    assert_eq!(
        emf::sum(&lines, "InvocationsRefused"),
        0,
        "shadow mode refuses nothing"
    );
    assert!(!emf::metric_names(&lines[0]).contains(&"RulesApplied"));
    assert_eq!(
        lines[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Auth"
    );
}

#[test]
fn disabled_metrics_write_no_line() {
    let (mut quiet, _dir) = start(
        binaries()[0],
        "skip",
        &[("POWERTOOLS_METRICS_DISABLED", "true")],
    );
    quiet.invoke(&event("12"));
    let logs = quiet.stop();
    assert!(emf::lines(&logs).is_empty(), "{logs}");
    assert!(logs.contains("metrics=false"), "{logs}");
}

#[test]
fn the_check_refuses_a_line_that_breaks_the_specification() {
    let good = json!({
        "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["service"]], "Metrics": [{"Name": "M", "Unit": "Count"}]}]},
        "service": "s", "M": 1
    });
    emf::validate(&good);
    for broken in [
        json!({"_aws": {"CloudWatchMetrics": []}}),
        {
            let mut b = good.clone();
            b.as_object_mut().unwrap().remove("M");
            b
        },
        {
            let mut b = good.clone();
            b["service"] = json!(3);
            b
        },
    ] {
        let refused = std::panic::catch_unwind(|| emf::validate(&broken));
        assert!(refused.is_err(), "{broken}");
    }
}
