//! Building a structured event from fuzzer bytes: shared by the `structured_event` fuzz target
//! and by `tests/it/fuzz_corpus.rs`, which replays that target's corpus.
//!
//! The bytes choose the mapping (index into the caller's list: 0 = `mappings/bench.yaml`,
//! 1 = `examples/features/mapping.yaml`), the version, trigger source, app client, groups and an
//! attribute map (names drawn from those the mappings read), so most inputs reach the rules.

use serde_json::{Map, Value, json};

const NAMES: [&str; 13] = [
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
    "custom:ADGroups",
];
const VERSIONS: [&str; 5] = ["1", "2", "3", "$LATEST", "9"];
const GROUPS: [&str; 6] = [
    "admins",
    "billing",
    "support",
    "app-Sales",
    "eu-west-1_Ab12Cd34E_AzureAD",
    "other",
];
const CLIENTS: [&str; 3] = [
    "1h2j3k4l5m6n7o8p9q0r1s2t3u",
    "partnerportalclient01",
    "webappclient0001",
];

/// The mapping index (0 or 1) and the event the bytes describe.
pub fn event(data: &[u8]) -> (usize, Value) {
    let mut bytes = data.iter().copied();
    let mut next = || bytes.next().unwrap_or(0) as usize;
    let mapping = next() % 2;
    let client = CLIENTS[next() % CLIENTS.len()];
    let version = VERSIONS[next() % VERSIONS.len()];
    let triggers = claim_mapper::cognito::TRIGGER_SOURCES;
    let trigger = triggers[next() % triggers.len()];
    let groups: Vec<&str> = (0..next() % 5)
        .map(|_| GROUPS[next() % GROUPS.len()])
        .collect();
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
        "userPoolId": "eu-west-1_Ab12Cd34E",
        "callerContext": {"clientId": client},
        "request": {"userAttributes": attributes, "groupConfiguration": {"groupsToOverride": groups}, "scopes": ["openid"]},
        "response": {}
    });
    (mapping, event)
}
