//! Structured events: the fuzzer's bytes choose the version, trigger source, groups, scopes and
//! an attribute map (names drawn from those the mapping reads), so most inputs reach the rules.
#![no_main]

use std::sync::LazyLock;

use claim_mapper::Mapping;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

static MAPPING: LazyLock<Mapping> = LazyLock::new(|| {
    Mapping::from_yaml(include_str!("../../mappings/bench.yaml"), "bench.yaml").unwrap()
});

const NAMES: [&str; 12] = [
    "birthdate",
    "custom:tenant_id",
    "custom:plan",
    "custom:seat_count",
    "custom:is_admin",
    "custom:permissions",
    "given_name",
    "family_name",
    "email",
    "sub",
    "custom:regions",
    "locale",
];
const VERSIONS: [&str; 5] = ["1", "2", "3", "$LATEST", "9"];
const GROUPS: [&str; 4] = ["admins", "billing", "support", "other"];

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let mut next = || bytes.next().unwrap_or(0) as usize;
    let version = VERSIONS[next() % VERSIONS.len()];
    let trigger = claim_mapper::cognito::TRIGGER_SOURCES[next() % 6];
    let groups: Vec<&str> = (0..next() % 4).map(|_| GROUPS[next() % 4]).collect();
    let text = String::from_utf8_lossy(data).into_owned();
    let mut attributes = Map::new();
    for (i, name) in NAMES.iter().enumerate() {
        if next() % 2 == 0 {
            let start = (next() * 7 + i) % (text.len() + 1);
            let piece: String = text.chars().skip(start).take(next() % 40).collect();
            attributes.insert(name.to_string(), Value::String(piece));
        }
    }
    let event = json!({
        "version": version, "triggerSource": trigger,
        "callerContext": {"clientId": "1h2j3k4l5m6n7o8p9q0r1s2t3u"},
        "request": {"userAttributes": attributes, "groupConfiguration": {"groupsToOverride": groups}, "scopes": ["openid"]},
        "response": {}
    });
    let _ = claim_mapper::process(&MAPPING, event, time::macros::date!(2026 - 11 - 26));
});
