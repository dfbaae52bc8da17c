//! Value conditions (`when.attributes`, `when.paths`) end to end: rules, overlay rules and added
//! scopes in both response shapes, how values compare, what load refuses (with file, line,
//! column and field) and what `explain` says. The features fixtures hold their golden reports.

use crate::support;

use claim_mapper::report::explain;
use serde_json::{Value, json};
use support::{TODAY, apply, mapping, mapping_error};

const MAPPING: &str = r#"
version: 1
claims:
  - claim: admin
    value: true
    when:
      attributes:
        custom:role: admin
  - claim: seat_band
    value: small
    when:
      attributes:
        custom:seats: [1, 2, 3]
        custom:trial: [true]
  - claim: staff
    value: true
    when:
      attributes:
        email: { matches: '(?i)@example\.com$' }
  - claim: no_org
    value: true
    when:
      attributes:
        custom:org: { present: false }
  - claim: mfa
    value: true
    when:
      paths:
        $.request.clientMetadata.step_up: [done]
  - claim: scoped
    value: true
    when:
      paths:
        $.request.scopes: { present: true }
        $.request.scopes[0]: [openid]
scopes:
  add:
    - scope: orders-api/write
      when:
        attributes:
          custom:tier: [gold, platinum]
clients:
  partnerclient0001:
    claims:
      - claim: partner
        value: true
        when:
          attributes:
            custom:org: { present: true }
"#;

fn event(version: &str, client: &str, attributes: Value, metadata: Value) -> Value {
    json!({
        "version": version,
        "triggerSource": "TokenGeneration_Authentication",
        "callerContext": {"clientId": client},
        "request": {
            "userAttributes": attributes,
            "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null},
            "scopes": ["openid", "email"],
            "clientMetadata": metadata
        },
        "response": {}
    })
}

/// The claims added to the ID token, and the scopes added, for `event`.
fn outcome(event: Value) -> (Value, Value) {
    let reply = apply(&mapping(MAPPING), event, TODAY).unwrap();
    let response = reply.response();
    (
        Value::Object(response.id.changes.add),
        json!(response.access.scopes_add),
    )
}

#[test]
fn rules_apply_when_their_values_hold_and_not_otherwise() {
    let (claims, scopes) = outcome(event(
        "2",
        "webclient00000001",
        json!({
            "custom:role": "admin", "custom:seats": "2", "custom:trial": "true",
            "email": "Ada@EXAMPLE.com", "custom:tier": "platinum"
        }),
        json!({"step_up": "done"}),
    ));
    assert_eq!(
        claims,
        json!({"admin": true, "seat_band": "small", "staff": true, "no_org": true, "mfa": true, "scoped": true})
    );
    assert_eq!(scopes, json!(["orders-api/write"]));

    let (claims, scopes) = outcome(event(
        "2",
        "webclient00000001",
        json!({
            "custom:role": "Admin", "custom:seats": "20", "custom:trial": "true",
            "email": "ada@example.com.evil", "custom:org": "acme", "custom:tier": "silver"
        }),
        json!({"step_up": "pending"}),
    ));
    // Values compare exactly (`Admin` is not `admin`), a regex finds its anchors, `present: false`
    // fails for a present attribute.
    assert_eq!(claims, json!({"scoped": true}));
    assert_eq!(scopes, json!([]));
}

#[test]
fn a_missing_value_fails_every_test_but_present_false() {
    let (claims, _) = outcome(event("2", "webclient00000001", json!({}), json!({})));
    assert_eq!(claims, json!({"no_org": true, "scoped": true}));
}

#[test]
fn version_1_sends_the_claims_as_strings_and_adds_no_scopes() {
    let (claims, scopes) = outcome(event(
        "1",
        "webclient00000001",
        json!({"custom:role": "admin", "custom:tier": "gold"}),
        json!({}),
    ));
    assert_eq!(
        claims,
        json!({"admin": "true", "no_org": "true", "scoped": "true"})
    );
    assert_eq!(scopes, json!([]));
}

#[test]
fn overlay_rules_take_value_conditions_too() {
    let with_org = event(
        "2",
        "partnerclient0001",
        json!({"custom:org": "acme"}),
        json!({}),
    );
    assert_eq!(outcome(with_org).0["partner"], true);
    let without = event("2", "partnerclient0001", json!({}), json!({}));
    assert!(outcome(without).0.get("partner").is_none());
}

#[test]
fn numbers_booleans_lists_and_objects_in_the_event_compare_as_documented() {
    let yaml = r#"
version: 1
claims:
  - { claim: number, value: 1, when: { paths: { $.request.clientMetadata.n: [12] } } }
  - { claim: boolean, value: 1, when: { paths: { $.request.clientMetadata.b: [true] } } }
  - { claim: list, value: 1, when: { paths: { $.request.scopes: [openid] } } }
  - { claim: list_present, value: 1, when: { paths: { $.request.scopes: { present: true } } } }
  - { claim: object, value: 1, when: { paths: { $.request.clientMetadata: { matches: '.' } } } }
  - { claim: null_absent, value: 1, when: { paths: { $.request.clientMetadata.z: { present: false } } } }
"#;
    // clientMetadata is strings in Cognito's events; a path can still find a JSON number or
    // boolean elsewhere, and they compare as their JSON text.
    let e = event("2", "c", json!({}), json!({"n": 12, "b": true, "z": null}));
    let reply = apply(&mapping(yaml), e, TODAY).unwrap();
    let added = reply.response().id.changes.add;
    let mut names: Vec<&str> = added.keys().map(String::as_str).collect();
    names.sort();
    // A list holds when one of its items does: `request.scopes` has `openid`.
    assert_eq!(
        names,
        ["boolean", "list", "list_present", "null_absent", "number"]
    );
}

#[test]
fn load_refuses_what_cannot_work_with_file_line_column_rule_and_field() {
    let cases = [
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        custom:tier: []\n",
            "test.yaml:7:9: rule 1 (claim `a`), field `claims[0].when.attributes.custom:tier`: an empty list never matches",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        email: { matches: '(' }\n",
            "test.yaml:7:18: rule 1 (claim `a`), field `claims[0].when.attributes.email.matches`: invalid regular expression",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        email: { presnt: true }\n",
            "field `claims[0].when.attributes.email.presnt`: unknown condition `presnt`: did you mean `present`?",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      paths:\n        $.response.claimsOverrideDetails: { present: true }\n",
            "test.yaml:7:9: rule 1 (claim `a`), field `claims[0].when.paths.$.response.claimsOverrideDetails`: a condition cannot read `response`",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        custom:n: [1.5]\n",
            "field `claims[0].when.attributes.custom:n[0]`: YAML reads `1.5` as the decimal number 1.5, and values compare as text: write it quoted ('1.5')",
        ),
        // Compared as YAML reads them, these would match other text than the mapping shows:
        // `+44` would match "44".
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        custom:country_code: +44\n",
            "test.yaml:7:9: rule 1 (claim `a`), field `claims[0].when.attributes.custom:country_code`: YAML reads `+44` as the number 44, and values compare as text: write it quoted ('+44')",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        custom:n: [0x1A, 0o17, -0, True, 1e3]\n",
            "field `claims[0].when.attributes.custom:n[4]`: YAML reads `1e3` as the decimal number 1000.0, and values compare as text: write it quoted ('1e3')",
        ),
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      atributes:\n        custom:n: [1]\n",
            "did you mean `attributes`?",
        ),
        (
            "version: 1\nscopes:\n  add:\n    - scope: s\n      when:\n        paths:\n          custom:tier: [a]\n",
            "test.yaml:7:11: field `scopes.add[0].when.paths.custom:tier`: a path starts with `$`",
        ),
    ];
    for (yaml, message) in cases {
        let error = mapping_error(yaml);
        assert!(error.contains(message), "{yaml}\n{error}");
    }
}

#[test]
fn a_typo_in_an_attribute_name_is_a_warning_naming_the_condition() {
    let m = mapping(
        "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        departmnt: [x]\n",
    );
    let warnings: Vec<String> = m.warnings().iter().map(ToString::to_string).collect();
    assert!(
        warnings.iter().any(
            |w| w.contains("field `claims[0].when.attributes.departmnt`")
                && w.contains("did you mean `custom:departmnt`")
        ),
        "{warnings:?}"
    );
}

#[test]
fn regular_expressions_of_conditions_count_with_replace_transforms() {
    let max = claim_mapper::mapping::MAX_REGEXES;
    let mut yaml = String::from("version: 1\nclaims:\n");
    for i in 0..max {
        yaml.push_str(&format!(
            "  - {{ claim: c{i}, from: email, transform: [{{ replace: {{ pattern: 'a{i}', with: b }} }}] }}\n"
        ));
    }
    mapping(&yaml);
    yaml.push_str(
        "  - { claim: last, value: 1, when: { attributes: { email: { matches: x } } } }\n",
    );
    assert!(
        mapping_error(&yaml).contains(&format!("more than {max} regular expressions")),
        "the condition's regex is one too many"
    );
}

#[test]
fn explain_names_the_condition_that_did_not_hold_and_never_its_value() {
    let e = event(
        "2",
        "webclient00000001",
        json!({"custom:role": "superuser-secret", "custom:seats": "2", "custom:trial": "no"}),
        json!({}),
    );
    let report = explain::explain(&mapping(MAPPING), e, &Default::default(), TODAY).to_human();
    assert!(
        report.contains(
            "admin                    skipped: condition `attributes.custom:role` is false"
        ),
        "{report}"
    );
    assert!(
        report.contains("skipped: condition `attributes.custom:trial` is false"),
        "{report}"
    );
    assert!(!report.contains("superuser-secret"), "{report}");
}

/// A client-credentials event has no user: a condition on a user attribute, by name or by path,
/// does not hold, whatever it tests; `{present: false}` ("not suspended") included.
#[test]
fn a_condition_on_a_user_attribute_never_holds_for_a_machine() {
    let m = mapping(
        "version: 1\nclaims:\n  - {claim: active, value: true, tokens: [access], when: {attributes: {custom:blocked: {present: false}}}}\n  - {claim: also, value: true, tokens: [access], when: {paths: {\"$.request.userAttributes['custom:blocked']\": {present: false}}}}\n  - {claim: metadata, value: true, tokens: [access], when: {paths: {$.request.clientMetadata.x: {present: false}}}}\nscopes:\n  add:\n    - {scope: orders/write, when: {attributes: {custom:blocked: {present: false}}}}\n",
    );
    let machine = json!({
        "version": "3",
        "triggerSource": "TokenGeneration_ClientCredentials",
        "callerContext": {"clientId": "m2mclient"},
        "request": {"userAttributes": {}, "groupConfiguration": null, "scopes": []},
        "response": {"claimsAndScopeOverrideDetails": null}
    });
    let response = apply(&m, machine.clone(), TODAY).unwrap().response();
    let added: Vec<&String> = response.access.changes.add.keys().collect();
    assert_eq!(
        added,
        ["metadata"],
        "a condition on the request still holds"
    );
    assert!(response.access.scopes_add.is_empty());
    let said = explain::explain(&m, machine, &Default::default(), TODAY).to_human();
    assert!(
        said.contains(
            "condition `attributes.custom:blocked` is false: a client-credentials event has no user"
        ),
        "{said}"
    );
    // A user without the attribute gets them.
    let mut user = event("3", "c", json!({}), json!({}));
    user["response"] = json!({"claimsAndScopeOverrideDetails": null});
    let response = apply(&m, user, TODAY).unwrap().response();
    assert_eq!(response.access.changes.add.len(), 3);
    assert_eq!(response.access.scopes_add, ["orders/write"]);
}

/// A path matching several nodes holds when one of them passes, as it does when it matches one.
#[test]
fn a_path_matching_several_nodes_holds_when_one_passes() {
    let m = mapping(
        "version: 1\nclaims:\n  - {claim: billing, value: true, when: {paths: {\"$.request.groupConfiguration.groupsToOverride[*]\": [billing]}}}\n",
    );
    for groups in [
        json!(["billing"]),
        json!(["billing", "sales"]),
        json!(["sales", "billing"]),
    ] {
        let mut e = event("2", "c", json!({}), json!({}));
        e["request"]["groupConfiguration"]["groupsToOverride"] = groups.clone();
        let added = apply(&m, e, TODAY).unwrap().response().id.changes.add;
        assert_eq!(added.get("billing"), Some(&json!(true)), "{groups}");
    }
    let mut e = event("2", "c", json!({}), json!({}));
    e["request"]["groupConfiguration"]["groupsToOverride"] = json!(["sales", "support"]);
    assert!(
        apply(&m, e, TODAY)
            .unwrap()
            .response()
            .id
            .changes
            .add
            .is_empty()
    );
}

#[test]
fn what_could_only_ever_mean_less_is_refused() {
    let cases = [
        // The response, however the path is spelt.
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      paths:\n        \"$[ 'response' ].claimsAndScopeOverrideDetails\": { present: true }\n",
            "a condition cannot read `response`",
        ),
        // An attribute name no attribute can have: `{present: false}` would hold for everyone.
        (
            "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      attributes:\n        \"custom:blocked \": { present: false }\n",
            "field `claims[0].when.attributes.custom:blocked `: `custom:blocked ` holds whitespace, which no attribute name does, so it would never be read: did you mean `custom:blocked`?",
        ),
        (
            "version: 1\nclaims:\n  - {claim: a, from: \" custom:x\"}\n",
            "did you mean `custom:x`?",
        ),
        // A scope both added and suppressed, as for a claim.
        (
            "version: 1\nscopes:\n  add:\n    - scope: orders/read\n  suppress: [orders/read]\n",
            "test.yaml:4:7: field `scopes.add[0].scope`: `orders/read` is also in `scopes.suppress`",
        ),
        // A `map` key YAML reads as a number is looked up as that number's text.
        (
            "version: 1\nclaims:\n  - {claim: a, from: custom:cc, transform: {map: {+44: UK, 1: US}}}\n",
            "transform `map`, key `+44`: YAML reads `+44` as the number 44",
        ),
    ];
    for (yaml, message) in cases {
        let error = mapping_error(yaml);
        assert!(error.contains(message), "{yaml}\n{error}");
    }
    // A constant YAML reads otherwise than written is what it reads: said as a warning.
    let m =
        mapping("version: 1\nclaims:\n  - {claim: cc, value: +44}\n  - {claim: n, value: 12}\n");
    let warnings: Vec<String> = m.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("field `claims[0].value`: YAML reads `+44` as the number 44, which is what the token gets: quote it ('+44')"), "{warnings:?}");
}

/// Compare mode reads another trigger's response as Cognito would: a member null is empty, one
/// of another type makes the response differ (never "matches"); and the mapping is evaluated as
/// Cognito would call it, without that response, so a path cannot read it.
#[test]
fn compare_mode_counts_an_unreadable_response_as_different_and_never_reads_it() {
    use claim_mapper::runtime::lambda::compare;
    use claim_mapper::runtime::metrics::Tally;
    let raw = |v: &Value| Ok(serde_json::value::RawValue::from_string(v.to_string()).unwrap());
    let m = mapping("version: 1\nclaims:\n  - {claim: tier, from: '$..tier', tokens: [id]}\n");
    let mut e = event("2", "c", json!({}), json!({}));
    let mut given = |response: Value| {
        e["response"] = json!({"claimsAndScopeOverrideDetails": response});
        let mut tally = Tally::default();
        compare(&m, raw(&e), &Default::default(), &mut tally).unwrap();
        tally.would_change
    };
    // The other trigger adds `tier`; the mapping, which cannot read it, does not.
    let adds_tier = json!({"idTokenGeneration": {"claimsToAddOrOverride": {"tier": "gold"}, "claimsToSuppress": null}});
    assert!(
        given(adds_tier),
        "the mapping does not add `tier`: they differ"
    );
    let unreadable = json!({"idTokenGeneration": {"claimsToAddOrOverride": {}, "claimsToSuppress": "phone_number"}});
    assert!(given(unreadable), "unreadable counts as differing");
    let nothing = json!({"idTokenGeneration": {"claimsToAddOrOverride": null, "claimsToSuppress": null}, "accessTokenGeneration": null});
    assert!(!given(nothing), "null is empty: they agree");
}
