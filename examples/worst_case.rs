//! Writes the costliest mapping the load-time limits allow and the costliest event Lambda
//! accepts, for `scripts/bench-worst-case` (docs/performance.md, "Worst case").
//!
//! Usage: `worst_case DIR` writes `DIR/mapping.yaml` and `DIR/event.json`.
//!
//! The mapping uses every limit to the full, each part aimed at the event's largest parts:
//! - [`MAX_QUERY_PATHS`] JSONPaths `$..*`: each visits every node of the event and copies
//!   matches up to the value cap;
//! - [`MAX_REGEXES`] `replace` transforms with the largest pattern that compiles within
//!   [`MAX_REGEX_SIZE`], replacing every character of the largest value a rule works on
//!   ([`MAX_VALUE_BYTES`]) by two;
//! - the rest of [`MAX_RULES`] rules (and [`MAX_TRANSFORMS`]) each hashing that largest value
//!   with `sha256` (the costliest transform per byte), under a `when.groups` condition met only
//!   by the last of the event's many groups;
//! - a group pipeline with the largest `keep` pattern set, over every group;
//! - `limits.token_claim_bytes` at its largest.
//!
//! The event is a Cognito V2 event padded to just under Lambda's 6 MB limit for a synchronous
//! invocation's payload: 50 custom attributes of 2,048 characters (Cognito's largest value), one
//! `clientMetadata` value of [`MAX_VALUE_BYTES`], a hundred thousand groups, and the rest of
//! the bytes as small `clientMetadata` members (the most nodes per byte).

use std::fmt::Write as _;
use std::path::PathBuf;

use claim_mapper::mapping::{
    MAX_MAPPING_BYTES, MAX_QUERY_PATHS, MAX_REGEX_SIZE, MAX_REGEXES, MAX_RULES,
    MAX_TOKEN_CLAIM_BYTES, MAX_TRANSFORMS, MAX_VALUE_BYTES,
};
use serde_json::{Map, Value, json};

/// Lambda's limit on a synchronous invocation's request payload, in bytes ("Lambda quotas",
/// <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>).
const LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Groups in the event: far more than Cognito's quota per user, for the group pipeline and
/// `when.groups` to walk.
const GROUPS: usize = 100_000;

/// `\w{N}` for the largest `N` for which `compiles` holds.
fn largest(compiles: impl Fn(&str) -> bool) -> String {
    let pattern = |n: usize| format!(r"\w{{{n}}}");
    let (mut low, mut high) = (1, 4096);
    while low + 1 < high {
        let mid = (low + high) / 2;
        if compiles(&pattern(mid)) {
            low = mid
        } else {
            high = mid
        }
    }
    pattern(low)
}

/// The replace pattern: `\w` repeated as often as still compiles within [`MAX_REGEX_SIZE`].
fn replace_pattern() -> String {
    largest(|p| {
        regex::RegexBuilder::new(p)
            .size_limit(MAX_REGEX_SIZE)
            .dfa_size_limit(MAX_REGEX_SIZE)
            .build()
            .is_ok()
    })
}

/// The `keep` patterns: one that keeps every group of the event, and the largest `\w{N}` the set
/// still compiles with.
fn keep_patterns() -> [String; 2] {
    let every = "^g[0-9]+$".to_owned();
    let large = largest(|p| {
        regex::RegexSetBuilder::new([every.as_str(), p])
            .size_limit(MAX_REGEX_SIZE)
            .dfa_size_limit(MAX_REGEX_SIZE)
            .build()
            .is_ok()
    });
    [every, large]
}

fn mapping() -> String {
    let [every, large] = keep_patterns();
    let mut yaml = format!(
        "version: 1\nlimits: {{token_claim_bytes: {MAX_TOKEN_CLAIM_BYTES}}}\n\
         groups:\n  from: [cognito]\n  keep: {{patterns: ['{every}', '{large}']}}\nclaims:\n"
    );
    let pattern = replace_pattern();
    let mut transforms = 0;
    for i in 0..MAX_RULES {
        let rule = if i < MAX_QUERY_PATHS {
            format!("  - {{claim: q{i}, from: '$..*'}}\n")
        } else if i < MAX_QUERY_PATHS + MAX_REGEXES {
            transforms += 1;
            format!(
                "  - {{claim: r{i}, from: $.request.clientMetadata.big, transform: [{{replace: {{pattern: '{pattern}', with: '$0$0'}}}}]}}\n"
            )
        } else if transforms < MAX_TRANSFORMS {
            transforms += 1;
            format!(
                "  - {{claim: h{i}, from: $.request.clientMetadata.big, transform: sha256, when: {{groups: [g{}]}}}}\n",
                GROUPS - 1
            )
        } else {
            format!("  - {{claim: c{i}, from: $.request.clientMetadata.big}}\n")
        };
        yaml.push_str(&rule);
    }
    assert!(yaml.len() <= MAX_MAPPING_BYTES, "{} bytes", yaml.len());
    yaml
}

fn event() -> String {
    let attributes: Map<String, Value> = (0..50)
        .map(|i| (format!("custom:a{i}"), json!("x".repeat(2048))))
        .chain([("sub".into(), json!("9e2c5e3a-0000-4000-8000-000000000000"))])
        .collect();
    let groups: Vec<String> = (0..GROUPS).map(|i| format!("g{i}")).collect();
    let mut metadata = Map::new();
    metadata.insert("big".into(), json!("ab".repeat(MAX_VALUE_BYTES / 2)));
    let mut event = json!({
        "version": "2",
        "triggerSource": "TokenGeneration_Authentication",
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_Example",
        "userName": "worst",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "1example23456789"},
        "request": {
            "userAttributes": attributes,
            "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": [], "preferredRole": null},
            "scopes": ["openid"],
            "clientMetadata": metadata,
        },
        "response": {"claimsAndScopeOverrideDetails": null}
    });
    // Fill up with small members (`"m1234567":0,` is 13 bytes), leaving room for the reply's
    // framing.
    let room = LAMBDA_PAYLOAD_BYTES - 64 * 1024 - event.to_string().len();
    let metadata = event["request"]["clientMetadata"].as_object_mut().unwrap();
    let mut key = String::new();
    for i in 0..room / 13 {
        key.clear();
        let _ = write!(key, "m{i:07}");
        metadata.insert(key.clone(), json!(0));
    }
    let text = event.to_string();
    assert!(text.len() <= LAMBDA_PAYLOAD_BYTES, "{} bytes", text.len());
    text
}

fn main() {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .expect("usage: worst_case DIR")
        .into();
    std::fs::create_dir_all(&dir).expect("create the directory");
    let mapping = mapping();
    claim_mapper::Mapping::from_yaml(&mapping, "worst-case mapping")
        .unwrap_or_else(|e| panic!("the worst-case mapping must be valid:\n{e}"));
    std::fs::write(dir.join("mapping.yaml"), &mapping).expect("write the mapping");
    std::fs::write(dir.join("event.json"), event()).expect("write the event");
    println!(
        "wrote {} ({} bytes, {MAX_RULES} rules) and {} ",
        dir.join("mapping.yaml").display(),
        mapping.len(),
        dir.join("event.json").display()
    );
}
