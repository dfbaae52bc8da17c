//! Writes the costliest mapping the load-time limits allow and the costliest event Lambda
//! accepts, for `scripts/bench-worst-case` (docs/performance.md, "Worst case").
//!
//! Usage: `worst_case DIR` writes `DIR/mapping.yaml` and `DIR/event.json`.
//!
//! The mapping uses every limit to the full, each part aimed at the event's largest parts:
//! - [`MAX_QUERY_PATHS`] JSONPaths `$..*`: each visits every node of the event and copies
//!   matches up to the value cap;
//! - as many `replace` transforms as [`MAX_MAPPING_REGEX_POSITIONS`] allows of the costliest
//!   pattern of [`MAX_REGEX_POSITIONS`] found ([`COSTLIEST_REPLACE`]), each on the largest value a
//!   regex reads ([`MAX_REGEX_INPUT_BYTES`]) of random `a`s and `b`s, where that pattern needs
//!   more states than the regex engine's lazy DFA keeps and reads the rest of the value for each
//!   match;
//! - the rest of [`MAX_RULES`] rules (and [`MAX_TRANSFORMS`]) each hashing that largest value
//!   with `sha256` (the costliest transform per byte), under a `when.groups` condition met only
//!   by the last of the event's many groups;
//! - a group pipeline keeping every group by prefix (the regex positions all go to `replace`,
//!   which costs more per position than `keep.patterns` reading their 64 KiB of names);
//! - `limits.token_claim_bytes` at its largest.
//!
//! The event is a Cognito V2 event padded to just under Lambda's 6 MB limit for a synchronous
//! invocation's payload: 50 custom attributes of 2,048 characters (Cognito's largest value), one
//! `clientMetadata` value of [`MAX_VALUE_BYTES`] and one of [`MAX_REGEX_INPUT_BYTES`], a hundred
//! thousand groups, and the rest of the bytes as small `clientMetadata` members (the most nodes
//! per byte).

use std::fmt::Write as _;
use std::path::PathBuf;

use claim_mapper::mapping::{
    MAX_MAPPING_BYTES, MAX_MAPPING_REGEX_POSITIONS, MAX_QUERY_PATHS, MAX_REGEX_INPUT_BYTES,
    MAX_REGEX_POSITIONS, MAX_RULES, MAX_TOKEN_CLAIM_BYTES, MAX_TRANSFORMS, MAX_VALUE_BYTES,
};
use serde_json::{Map, Value, json};

/// Lambda's limit on a synchronous invocation's request payload, in bytes ("Lambda quotas",
/// <https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>).
const LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Groups in the event: far more than Cognito's quota per user, for the group pipeline and
/// `when.groups` to walk.
const GROUPS: usize = 100_000;

/// The costliest `replace` pattern of [`MAX_REGEX_POSITIONS`] positions found on 1 KiB: "any
/// character, then the 48th character after an `a` is `0`", or a lone `a`. On random `a`s and
/// `b`s the first branch needs a DFA state for each recent run of `a`s (far more than the lazy
/// DFA keeps) and stays alive to the end of the value, so each `a` matched reads the rest of it.
/// Measured against its variants (`[ab]`, ASCII `\w` or `[a-zé]` for the dot; other counts): 22 ms
/// on 1 KiB, where the same with `\w` took 11 ms and `[ab]` 7 ms.
const COSTLIEST_REPLACE: &str = "(?s:.)*a(?s:.){46}0|a";

fn mapping() -> String {
    assert_eq!(
        claim_mapper::mapping::regex_positions(COSTLIEST_REPLACE),
        Some(MAX_REGEX_POSITIONS)
    );
    let replaces = usize::try_from(MAX_MAPPING_REGEX_POSITIONS / MAX_REGEX_POSITIONS).unwrap();
    let mut yaml = format!(
        "version: 1\nlimits: {{token_claim_bytes: {MAX_TOKEN_CLAIM_BYTES}}}\n\
         groups:\n  from: [cognito]\n  keep: {{prefixes: [g]}}\nclaims:\n"
    );
    let mut transforms = 0;
    for i in 0..MAX_RULES {
        let rule = if i < MAX_QUERY_PATHS {
            format!("  - {{claim: q{i}, from: '$..*'}}\n")
        } else if i < MAX_QUERY_PATHS + replaces {
            transforms += 1;
            format!(
                "  - {{claim: r{i}, from: $.request.clientMetadata.rx, transform: [{{replace: {{pattern: '{COSTLIEST_REPLACE}', with: '$0$0'}}}}]}}\n"
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

/// `n` random `a`s and `b`s (xorshift, fixed seed: the same every run).
fn random_ab(n: usize) -> String {
    let mut x: u64 = 88_172_645_463_325_252;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x & 1 == 0 { 'a' } else { 'b' }
        })
        .collect()
}

fn event() -> String {
    let attributes: Map<String, Value> = (0..50)
        .map(|i| (format!("custom:a{i}"), json!("x".repeat(2048))))
        .chain([("sub".into(), json!("9e2c5e3a-0000-4000-8000-000000000000"))])
        .collect();
    let groups: Vec<String> = (0..GROUPS).map(|i| format!("g{i}")).collect();
    let mut metadata = Map::new();
    metadata.insert("big".into(), json!("ab".repeat(MAX_VALUE_BYTES / 2)));
    metadata.insert("rx".into(), json!(random_ab(MAX_REGEX_INPUT_BYTES)));
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
