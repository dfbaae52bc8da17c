//! The function's metric lines (CloudWatch embedded metric format), picked out of its logs and
//! checked against the format's specification.
//!
//! `emf-schema.json` is the JSON schema printed in "Specification: Embedded metric format"
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>),
//! as published in the page's source, repository `awsdocs/amazon-cloudwatch-user-guide`, file
//! `doc_source/CloudWatch_Embedded_Metric_Format_Specification.md` at commit `b35549706cab`
//! (2023-05-17, the last before the repository was archived), re-indented. What the schema cannot
//! say and the specification's text does is checked in [`validate`] as well.

use serde_json::Value;

/// Every metric line in `logs` (one JSON object per line with an `_aws` member), in order.
pub fn lines(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter(|l| l.starts_with('{') && l.contains("\"_aws\""))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Panics with what is wrong unless `line` is valid EMF: the schema, plus the specification's
/// rules that every metric and dimension a directive names is a member of the root node (metrics
/// numbers, dimensions strings), at most 100 metrics per directive and 30 dimensions per set.
pub fn validate(line: &Value) {
    static VALIDATOR: std::sync::LazyLock<jsonschema::Validator> = std::sync::LazyLock::new(|| {
        let schema: Value =
            serde_json::from_str(include_str!("emf-schema.json")).expect("the EMF schema");
        jsonschema::draft7::new(&schema).expect("a draft-07 schema")
    });
    let validator = &*VALIDATOR;
    let errors: Vec<String> = validator.iter_errors(line).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}: {line}");
    for directive in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
        let metrics = directive["Metrics"].as_array().unwrap();
        assert!(metrics.len() <= 100, "{line}");
        for metric in metrics {
            let name = metric["Name"].as_str().unwrap();
            assert!(
                line[name].is_number(),
                "metric {name} is not a number: {line}"
            );
        }
        for set in directive["Dimensions"].as_array().unwrap() {
            let set = set.as_array().unwrap();
            assert!(set.len() <= 30, "{line}");
            for dimension in set {
                let name = dimension.as_str().unwrap();
                assert!(
                    line[name].is_string(),
                    "dimension {name} is not a string: {line}"
                );
            }
        }
    }
}

/// The metric names `line` declares.
pub fn metric_names(line: &Value) -> Vec<&str> {
    line["_aws"]["CloudWatchMetrics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["Metrics"].as_array().unwrap())
        .map(|m| m["Name"].as_str().unwrap())
        .collect()
}

/// The sum of `metric` over `lines` (lines without it count 0).
pub fn sum(lines: &[Value], metric: &str) -> u64 {
    lines.iter().filter_map(|l| l[metric].as_u64()).sum()
}
