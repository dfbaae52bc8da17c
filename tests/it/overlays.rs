//! Overlays end to end: base rules, then the trigger source's overlay, then the app client's;
//! replacing, disabling, and unknown clients.

use crate::support;

use serde_json::{Map, Value, json};
use support::apply;
use support::{TODAY, mapping};

const OVERLAYS: &str = r#"
version: 1
claims:
  - claim: tier
    value: base
  - claim: greeting
    value: hello
  - claim: audience
    value: everyone
    when: { groups: [staff] }
triggers:
  TokenGeneration_RefreshTokens:
    claims:
      - claim: tier
        value: refresh
      - claim: refreshed
        value: true
clients:
  mobile:
    claims:
      - claim: tier
        value: mobile
    disable: [greeting, refreshed]
"#;

fn access_claims(client: &str, trigger: &str) -> Map<String, Value> {
    let event = json!({
        "version": "2",
        "triggerSource": trigger,
        "callerContext": {"clientId": client},
        "request": {"userAttributes": {}, "groupConfiguration": {"groupsToOverride": ["staff"]}},
        "response": {}
    });
    let out = apply(&mapping(OVERLAYS), event, TODAY).unwrap().event;
    out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
        ["claimsToAddOrOverride"]
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn unknown_clients_and_plain_triggers_get_the_base_rules() {
    let claims = access_claims("web", "TokenGeneration_Authentication");
    assert_eq!(
        Value::Object(claims),
        json!({"tier": "base", "greeting": "hello", "audience": "everyone"})
    );
}

#[test]
fn a_trigger_overlay_replaces_and_adds() {
    let claims = access_claims("web", "TokenGeneration_RefreshTokens");
    assert_eq!(
        Value::Object(claims),
        json!({"tier": "refresh", "greeting": "hello", "audience": "everyone", "refreshed": true})
    );
}

#[test]
fn the_client_overlay_wins_over_the_trigger_overlay_and_disables_either_layer() {
    let claims = access_claims("mobile", "TokenGeneration_RefreshTokens");
    assert_eq!(
        Value::Object(claims),
        json!({"tier": "mobile", "audience": "everyone"})
    );
    let claims = access_claims("mobile", "TokenGeneration_Authentication");
    assert_eq!(
        Value::Object(claims),
        json!({"tier": "mobile", "audience": "everyone"})
    );
}

#[test]
fn explain_shows_what_each_overlay_did() {
    let event = json!({
        "version": "2",
        "triggerSource": "TokenGeneration_RefreshTokens",
        "callerContext": {"clientId": "mobile"},
        "request": {"userAttributes": {}},
        "response": {}
    });
    let explained = claim_mapper::report::explain::explain(
        &mapping(OVERLAYS),
        event,
        &Default::default(),
        TODAY,
    );
    assert!(explained.processed());
    let report = explained.to_human();
    assert!(report.contains("overlays: triggers.TokenGeneration_RefreshTokens, clients.mobile"));
    let line = |rule: &str| {
        report
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("rule {rule} ")))
            .unwrap_or_else(|| panic!("no line for rule {rule} in\n{report}"))
            .split_whitespace()
            .skip(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        line("1"),
        "tier not run: replaced by triggers.TokenGeneration_RefreshTokens"
    );
    assert_eq!(line("2"), "greeting not run: disabled by clients.mobile");
    assert_eq!(line("3"), "audience skipped: condition `groups` is false");
    assert_eq!(
        line("triggers.TokenGeneration_RefreshTokens.1"),
        "tier not run: replaced by clients.mobile"
    );
    assert_eq!(
        line("triggers.TokenGeneration_RefreshTokens.2"),
        "refreshed not run: disabled by clients.mobile"
    );
    assert_eq!(line("clients.mobile.1"), "tier applied");
}
