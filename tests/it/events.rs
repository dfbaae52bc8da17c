//! Per-event behaviour: version shapes, V1 stringification, the event quirks seen in real and
//! documented events (null or absent `groupConfiguration`, `userAttributes`, `scopes`,
//! `claimsAndScopeOverrideDetails`; see `src/event.rs` for the public source), runtime failures
//! under both `on_error` policies, idempotence.

use crate::support;

use claim_mapper::engine::ApplyError;
use claim_mapper::engine::FailureReason;
use serde_json::{Value, json};
use support::apply;
use support::{TODAY, mapping};

const TYPED: &str = r#"
version: 1
claims:
  - claim: seats
    from: custom:seats
    transform: [to_number]
  - claim: flags
    value: [a, 1, true]
  - claim: obj
    value: {nested: {k: v}}
    tokens: [access]
  - claim: only_access
    value: yes-access
    tokens: [access]
"#;

fn event(version: &str) -> Value {
    json!({
        "version": version,
        "triggerSource": "TokenGeneration_Authentication",
        "callerContext": {"clientId": "client1"},
        "request": {"userAttributes": {"custom:seats": "25"}, "groupConfiguration": {"groupsToOverride": ["g"], "iamRolesToOverride": [], "preferredRole": null}},
        "response": {}
    })
}

fn details(out: &Value, version: &str) -> Value {
    let key = if version == "1" {
        "claimsOverrideDetails"
    } else {
        "claimsAndScopeOverrideDetails"
    };
    out["response"][key].clone()
}

#[test]
fn v1_sends_strings_to_the_id_token_only() {
    let out = apply(&mapping(TYPED), event("1"), TODAY).unwrap().event;
    assert_eq!(
        details(&out, "1"),
        json!({"claimsToAddOrOverride": {"seats": "25", "flags": "[\"a\",1,true]"}, "claimsToSuppress": []})
    );
}

#[test]
fn v2_and_v3_keep_json_types_in_both_tokens() {
    for version in ["2", "3"] {
        let out = apply(&mapping(TYPED), event(version), TODAY).unwrap().event;
        let d = details(&out, version);
        assert_eq!(
            d["idTokenGeneration"]["claimsToAddOrOverride"],
            json!({"seats": 25, "flags": ["a", 1, true]})
        );
        assert_eq!(
            d["accessTokenGeneration"]["claimsToAddOrOverride"],
            json!({"seats": 25, "flags": ["a", 1, true], "obj": {"nested": {"k": "v"}}, "only_access": "yes-access"})
        );
        assert!(
            d.get("groupOverrideDetails").is_none(),
            "must never clear groups"
        );
    }
}

#[test]
fn quirky_events_are_accepted() {
    let m = mapping(
        "version: 1\nclaims:\n  - claim: t\n    from: [custom:tenant_id]\n    default: none\n  - claim: admin\n    value: true\n    when: {groups: [admins]}\nscopes:\n  add:\n    - scope: s/read\n",
    );
    let quirks = [
        json!({"version": "2", "request": {"groupConfiguration": null}, "response": {"claimsAndScopeOverrideDetails": null}}),
        json!({"version": "2", "request": {}, "response": {"claimsAndScopeOverrideDetails": []}}),
        json!({"version": "2", "request": {"userAttributes": null, "scopes": null, "clientMetadata": null}, "response": {"claimsAndScopeOverrideDetails": {}}}),
        json!({"version": "2", "request": {"groupConfiguration": {"groupsToOverride": ["admins"], "preferredRole": ["arn:a"]}}}),
        json!({"version": "2", "request": {"groupConfiguration": {"groupsToOverride": null, "preferredRole": null}}, "response": null}),
        json!({"version": "3", "triggerSource": "TokenGeneration_ClientCredentials"}),
        json!({"version": "1", "request": {"groupConfiguration": {"groupsToOverride": ["admins"]}}, "response": {"claimsOverrideDetails": null}}),
    ];
    for q in quirks {
        let version = q["version"].as_str().unwrap().to_owned();
        let out = apply(&m, q.clone(), TODAY)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .event;
        let d = details(&out, &version);
        assert!(d.is_object(), "{q} -> {out}");
        let admin = q["request"]["groupConfiguration"]["groupsToOverride"] == json!(["admins"]);
        let id_claims = if version == "1" {
            &d["claimsToAddOrOverride"]
        } else {
            &d["idTokenGeneration"]["claimsToAddOrOverride"]
        };
        if q["triggerSource"] == "TokenGeneration_ClientCredentials" {
            assert_eq!(id_claims, &json!({}), "no ID token for client credentials");
        } else {
            assert_eq!(id_claims["t"], json!("none"));
            assert_eq!(id_claims.get("admin").is_some(), admin, "{q}");
        }
    }
}

#[test]
fn unknown_fields_come_back_unchanged() {
    let mut e = event("2");
    e["futureField"] = json!({"x": [1, 2]});
    e["request"]["futureRequestField"] = json!("kept");
    e["response"]["futureResponseField"] = json!(true);
    let out = apply(&mapping(TYPED), e.clone(), TODAY).unwrap().event;
    assert_eq!(out["futureField"], e["futureField"]);
    assert_eq!(out["request"], e["request"]);
    assert_eq!(out["response"]["futureResponseField"], json!(true));
}

#[test]
fn applying_twice_gives_the_same_event() {
    let m = mapping(TYPED);
    let once = apply(&m, event("2"), TODAY).unwrap().event;
    let twice = apply(&m, once.clone(), TODAY).unwrap().event;
    assert_eq!(once, twice);
}

const FAILING: &str = r#"
version: 1
on_error: POLICY
claims:
  - claim: good
    value: 1
  - claim: region
    from: custom:region
    required: true
  - claim: seats
    from: custom:name
    transform: [to_number]
  - claim: aud
    value: someone-else
    tokens: [access]
"#;

#[test]
fn skip_leaves_failed_rules_out_and_names_them() {
    let mut e = event("2");
    e["request"]["userAttributes"]["custom:name"] = json!("Jane Secret");
    let done = apply(&mapping(&FAILING.replace("POLICY", "skip")), e, TODAY).unwrap();
    let added = &done.event["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(added, &json!({"good": 1}));
    let skipped: Vec<String> = done.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        skipped,
        [
            "rule 2 (claim `region`): required source is missing",
            "rule 3 (claim `seats`): transform `to_number` failed: not a number",
            "rule 4 (claim `aud`): value refused: `aud` must equal the app client id",
        ]
    );
    assert!(!skipped.concat().contains("Secret"));
}

#[test]
fn fail_refuses_the_sign_in_with_the_rule_number_only() {
    let err = apply(
        &mapping(&FAILING.replace("POLICY", "fail")),
        event("2"),
        TODAY,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "claim mapping failed (rule 2)");
    let ApplyError::Rule(failure) = err else {
        panic!("{err:?}")
    };
    assert_eq!(failure.reason, FailureReason::Missing);
}

#[test]
fn aud_equal_to_the_client_id_is_accepted() {
    let m = mapping(
        "version: 1\nclaims:\n  - claim: aud\n    from: $.callerContext.clientId\n    tokens: [access]\n",
    );
    let out = apply(&m, event("2"), TODAY).unwrap().event;
    assert_eq!(
        out["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"]
            ["aud"],
        "client1"
    );
}

#[test]
fn id_token_scalar_claims_refuse_objects_at_runtime() {
    let m = mapping(
        "version: 1\nclaims:\n  - claim: address\n    from: custom:addr\n    transform: [parse_json]\n",
    );
    let mut e = event("2");
    e["request"]["userAttributes"]["custom:addr"] = json!("{\"street\":\"x\"}");
    let done = apply(&m, e, TODAY).unwrap();
    assert_eq!(
        done.skipped[0].reason,
        FailureReason::Refused("this ID-token claim cannot hold an array or object")
    );
}

#[test]
fn later_rules_override_earlier_ones_for_the_same_claim() {
    let m = mapping(
        "version: 1\nclaims:\n  - claim: role\n    value: user\n  - claim: role\n    value: admin\n    when: {groups: [g]}\n  - claim: role\n    value: auditor\n    when: {groups: [auditors]}\n",
    );
    let out = apply(&m, event("2"), TODAY).unwrap().event;
    assert_eq!(
        out["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"]
            ["role"],
        "admin"
    );
}

#[test]
fn conditions_scopes_and_suppressions() {
    let m = mapping(
        "version: 1\nclaims:\n  - claim: c\n    value: 1\n    when: {clients: [client1], triggers: [TokenGeneration_Authentication]}\n  - claim: d\n    value: 1\n    when: {clients: [other]}\nsuppress:\n  id: [email]\n  access: ['cognito:groups']\nscopes:\n  add:\n    - scope: a/read\n    - scope: b/read\n      when: {groups: [nope]}\n  suppress: [aws.cognito.signin.user.admin]\n",
    );
    let out = apply(&m, event("3"), TODAY).unwrap().event;
    assert_eq!(
        out["response"]["claimsAndScopeOverrideDetails"],
        json!({
            "idTokenGeneration": {"claimsToAddOrOverride": {"c": 1}, "claimsToSuppress": ["email"]},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"c": 1}, "claimsToSuppress": ["cognito:groups"],
                "scopesToAdd": ["a/read"], "scopesToSuppress": ["aws.cognito.signin.user.admin"]
            }
        })
    );
}

/// LocalStack sends `"$LATEST"` with `"response": {}`: answered in the version 1 shape (which
/// every trigger version accepts for ID-token claims) with a warning, not refused.
#[test]
fn an_unknown_version_without_a_response_key_is_answered_as_version_1_with_a_warning() {
    let m = mapping(TYPED);
    for version in [json!("$LATEST"), json!("7"), json!(null)] {
        let event = json!({"version": version, "triggerSource": "TokenGeneration_Authentication", "request": {"userAttributes": {}}, "response": {}});
        let done = apply(&m, event, TODAY).unwrap();
        assert_eq!(done.shape, claim_mapper::engine::Shape::V1, "{version}");
        assert!(
            done.event["response"]["claimsOverrideDetails"].is_object(),
            "{version}"
        );
        let warnings = done.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("is not one Cognito sends and the event has no response key to go by: answered in the version 1 shape"),
            "{warnings:?}"
        );
    }
}

/// A trigger source Cognito does not document (a token operation newer than this build): the
/// rules limited to trigger sources do not apply, the others do, and a warning says so rather
/// than the rules silently missing.
#[test]
fn an_unknown_trigger_source_applies_the_unlimited_rules_with_a_warning() {
    let m = mapping(
        "version: 1\nclaims:\n  - { claim: always, value: 1 }\n  - { claim: on_sign_in, value: 1, when: { triggers: [TokenGeneration_Authentication] } }\n",
    );
    let mut e = event("2");
    e["triggerSource"] = json!("TokenGeneration_SomethingNew");
    let done = apply(&m, e, TODAY).unwrap();
    assert_eq!(
        done.event["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"],
        json!({"always": 1})
    );
    assert_eq!(
        done.warnings(),
        [
            "trigger source `TokenGeneration_SomethingNew` is not one Cognito documents for this trigger: rules and overlays limited to trigger sources (`triggers:`) did not apply, the others did"
        ]
    );
    // A documented source: no warning.
    assert!(apply(&m, event("2"), TODAY).unwrap().warnings().is_empty());
}

#[test]
fn bad_events_get_clear_errors() {
    let m = mapping(TYPED);
    for (e, msg) in [
        (
            json!("text"),
            "claim mapping failed: the event is not a JSON object",
        ),
        (
            json!({"version": "2", "response": "x"}),
            "claim mapping failed: `response` must be an object or null",
        ),
    ] {
        assert_eq!(apply(&m, e, TODAY).unwrap_err().to_string(), msg);
    }
}

#[test]
fn the_token_size_guard_follows_on_error() {
    let yaml = |policy: &str| {
        format!(
            "version: 1\non_error: {policy}\nlimits: {{token_claim_bytes: 100}}\nclaims:\n  - {{claim: a, from: custom:a}}\n  - {{claim: b, from: custom:b}}\n  - {{claim: c, value: small}}\n"
        )
    };
    let mut e = event("2");
    e["request"]["userAttributes"]["custom:a"] = json!("x".repeat(60));
    e["request"]["userAttributes"]["custom:b"] = json!("y".repeat(60));
    let done = apply(&mapping(&yaml("skip")), e.clone(), TODAY).unwrap();
    let added = &done.event["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(
        added.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["a", "c"],
        "b would pass 100 bytes"
    );
    assert_eq!(
        done.skipped[0].to_string(),
        "rule 2 (claim `b`): value refused: the token's added claims would exceed limits.token_claim_bytes"
    );
    let err = apply(&mapping(&yaml("fail")), e, TODAY).unwrap_err();
    assert_eq!(err.to_string(), "claim mapping failed (rule 2)");
}

#[test]
fn overriding_a_claim_counts_only_its_new_size() {
    let m = mapping(
        "version: 1\nlimits: {token_claim_bytes: 60}\nclaims:\n  - {claim: a, value: '0123456789012345678901234567890123456789'}\n  - {claim: a, value: '0123456789012345678901234567890123456789'}\n",
    );
    let done = apply(&m, event("2"), TODAY).unwrap();
    assert!(done.skipped.is_empty(), "{:?}", done.skipped);
}

#[test]
fn the_token_size_guard_counts_escapes_exactly_near_the_limit() {
    // `"q":`, the value and `,`: with 40 quotes (each escaped) 87 bytes fit 100; with 48, 103 do not.
    let m = mapping(
        "version: 1\nlimits: {token_claim_bytes: 100}\nclaims:\n  - {claim: q, from: custom:q, tokens: [id]}\n",
    );
    for (quotes, fits) in [(40, true), (48, false)] {
        let mut e = event("2");
        e["request"]["userAttributes"]["custom:q"] = json!("\"".repeat(quotes));
        let done = apply(&m, e, TODAY).unwrap();
        assert_eq!(done.skipped.is_empty(), fits, "{quotes} quotes");
    }
}
