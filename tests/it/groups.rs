//! The group pipeline end to end: what reaches `groupOverrideDetails` in each response shape,
//! how rule conditions see the groups, the size guard, and what happens without a pipeline.

use crate::support;

use claim_mapper::claim_size::claim_size;
use claim_mapper::engine::ApplyError;
use serde_json::{Value, json};
use support::apply;
use support::{TODAY, mapping};

const ROLE_A: &str = "arn:aws:iam::111122223333:role/admins-role";
const ROLE_I: &str = "arn:aws:iam::111122223333:role/interns-role";

fn event(version: &str, trigger: &str) -> Value {
    let key = if version == "1" {
        "claimsOverrideDetails"
    } else {
        "claimsAndScopeOverrideDetails"
    };
    json!({
        "version": version,
        "triggerSource": trigger,
        "userPoolId": "eu-west-1_Pool",
        "callerContext": {"clientId": "web"},
        "request": {
            "userAttributes": {"custom:ADGroups": "[app-Sales, Domain Users]"},
            "groupConfiguration": {
                "groupsToOverride": ["admins", "interns", "eu-west-1_Pool_AzureAD"],
                "iamRolesToOverride": [ROLE_A, ROLE_I],
                "preferredRole": ROLE_A
            }
        },
        "response": {key: null}
    })
}

fn overrides(out: &Value) -> Value {
    let details = out["response"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    details
        .get("groupOverrideDetails")
        .cloned()
        .unwrap_or(Value::Null)
}

const PIPELINE: &str = r#"
version: 1
claims:
  - claim: sales
    value: true
    when: { groups: [Sales] }
  - claim: intern
    value: true
    when: { groups: [interns] }
groups:
  from: [cognito, {attribute: "custom:ADGroups"}]
  drop_idp_group: true
  keep: { names: [admins], prefixes: [app-] }
  rename: { strip_prefix: app- }
  roles:
    - { group: admins, role: "arn:aws:iam::111122223333:role/admins-role" }
"#;

#[test]
fn without_a_pipeline_groups_are_left_to_cognito() {
    let m = mapping("version: 1\nclaims:\n  - claim: a\n    value: 1\n");
    for version in ["1", "2", "3"] {
        let out = apply(&m, event(version, "TokenGeneration_HostedAuth"), TODAY)
            .unwrap()
            .event;
        assert_eq!(overrides(&out), Value::Null, "version {version}");
    }
}

#[test]
fn the_pipeline_writes_a_whole_override_in_both_shapes() {
    let m = mapping(PIPELINE);
    for version in ["1", "2", "3"] {
        let out = apply(&m, event(version, "TokenGeneration_HostedAuth"), TODAY)
            .unwrap()
            .event;
        assert_eq!(
            overrides(&out),
            json!({
                "groupsToOverride": ["admins", "Sales"],
                "iamRolesToOverride": [ROLE_A],
                "preferredRole": ROLE_A
            }),
            "version {version}"
        );
    }
}

#[test]
fn rule_conditions_see_the_groups_after_the_pipeline() {
    let out = apply(
        &mapping(PIPELINE),
        event("2", "TokenGeneration_HostedAuth"),
        TODAY,
    )
    .unwrap()
    .event;
    let claims = &out["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(claims["sales"], json!(true), "renamed AD group counts");
    assert!(claims.get("intern").is_none(), "filtered group does not");
}

#[test]
fn cognito_roles_follow_the_pool_groups_without_a_roles_table() {
    // Only the role-less IdP group goes: Cognito's roles stay as they are.
    let keep_all = mapping("version: 1\ngroups:\n  drop_idp_group: true\n");
    let out = apply(&keep_all, event("2", "TokenGeneration_HostedAuth"), TODAY)
        .unwrap()
        .event;
    assert_eq!(
        overrides(&out),
        json!({"groupsToOverride": ["admins", "interns"], "iamRolesToOverride": [ROLE_A, ROLE_I], "preferredRole": ROLE_A})
    );
    // A pool group is filtered out: which role was its is unknown, so no roles are claimed.
    let filtered = mapping("version: 1\ngroups:\n  keep: {names: [admins]}\n");
    let out = apply(&filtered, event("2", "TokenGeneration_HostedAuth"), TODAY)
        .unwrap()
        .event;
    assert_eq!(
        overrides(&out),
        json!({"groupsToOverride": ["admins"], "iamRolesToOverride": [], "preferredRole": null})
    );
}

#[test]
fn client_credentials_tokens_get_no_group_override() {
    let out = apply(
        &mapping(PIPELINE),
        event("3", "TokenGeneration_ClientCredentials"),
        TODAY,
    )
    .unwrap()
    .event;
    assert_eq!(overrides(&out), Value::Null);
}

#[test]
fn oversized_groups_follow_on_error() {
    let big = |policy: &str| {
        mapping(&format!(
            "version: 1\non_error: {policy}\nlimits: {{token_claim_bytes: 30}}\ngroups:\n  from: [cognito]\n"
        ))
    };
    let done = apply(
        &big("skip"),
        event("2", "TokenGeneration_HostedAuth"),
        TODAY,
    )
    .unwrap();
    assert_eq!(
        overrides(&done.event),
        Value::Null,
        "groups left to Cognito"
    );
    assert_eq!(done.skipped.len(), 1);
    assert_eq!(
        done.skipped[0].to_string(),
        "rule groups (claim `cognito:groups`): value refused: the groups would exceed limits.token_claim_bytes; cap them with `max`"
    );
    let err = apply(
        &big("fail"),
        event("2", "TokenGeneration_HostedAuth"),
        TODAY,
    )
    .unwrap_err();
    assert!(matches!(err, ApplyError::Rule(_)));
    assert_eq!(err.to_string(), "claim mapping failed (rule groups)");
}

/// When the pipeline's groups are too large to be written (`on_error: skip`), the token keeps
/// Cognito's groups; but conditions still see the pipeline's groups, so a group the pipeline drops
/// grants nothing.
#[test]
fn conditions_see_the_pipelines_groups_even_when_they_are_too_large_to_write() {
    let m = mapping(
        "version: 1\non_error: skip\nlimits: {token_claim_bytes: 60}\ngroups:\n  rename: {table: {admins: administrators-of-the-whole-company-and-more}}\n  max: 1\nclaims:\n  - {claim: intern, value: true, when: {groups: [interns]}}\n  - {claim: admin, value: true, when: {groups: [administrators-of-the-whole-company-and-more]}}\nscopes:\n  add:\n    - {scope: interns/read, when: {groups: [interns]}}\n",
    );
    let done = apply(&m, event("2", "TokenGeneration_HostedAuth"), TODAY).unwrap();
    assert_eq!(
        overrides(&done.event),
        Value::Null,
        "too large to write: Cognito's stay"
    );
    assert_eq!(done.skipped[0].rule.to_string(), "groups");
    let response = done.response();
    // `interns` is a Cognito group the pipeline drops (`max: 1`): no claim, no scope from it.
    assert!(
        response.id.changes.add.get("intern").is_none(),
        "{:?}",
        response.id
    );
    assert!(
        response.access.scopes_add.is_empty(),
        "{:?}",
        response.access
    );
    assert_eq!(response.id.changes.add["admin"], json!(true));
}

/// A `groupConfiguration` that is not an object (an array in an older version of the docs''
/// example) is not read as "no groups": the pipeline does not run, the groups stay as Cognito has
/// them (an empty override would clear them), and a warning says why.
#[test]
fn unreadable_group_configuration_leaves_the_groups_with_a_warning() {
    let m = mapping(PIPELINE);
    for config in [json!(["admins"]), json!({"groupsToOverride": "admins"})] {
        let mut e = event("2", "TokenGeneration_HostedAuth");
        e["request"]["groupConfiguration"] = config.clone();
        let done = apply(&m, e, TODAY).unwrap();
        assert_eq!(overrides(&done.event), Value::Null, "{config}");
        assert_eq!(
            done.warnings(),
            [
                "request.groupConfiguration is not an object with a groupsToOverride list: the group pipeline did not run, the groups are left as Cognito has them"
            ],
            "{config}"
        );
    }
}

#[test]
fn groups_and_claims_count_together_against_the_limit() {
    let with_limit = |limit: usize| {
        mapping(&format!(
            "version: 1\non_error: fail\nlimits: {{token_claim_bytes: {limit}}}\ngroups:\n  from: [cognito]\nclaims:\n  - {{claim: tier, value: gold, tokens: [id]}}\n"
        ))
    };
    let event = || event("2", "TokenGeneration_HostedAuth");
    let roomy = apply(&with_limit(4096), event(), TODAY).unwrap().event;
    let groups = &overrides(&roomy)["groupsToOverride"];
    let both = claim_size("cognito:groups", groups) + claim_size("tier", &json!("gold"));
    // Exactly enough room for both: applied.
    let fits = apply(&with_limit(both), event(), TODAY).unwrap().event;
    assert_eq!(fits, roomy);
    // One byte less: each fits alone, together they do not, and the rule is refused.
    let err = apply(&with_limit(both - 1), event(), TODAY).unwrap_err();
    assert_eq!(err.to_string(), "claim mapping failed (rule 1)");
}

#[test]
fn applying_the_pipeline_twice_gives_the_same_event() {
    let m = mapping(PIPELINE);
    let once = apply(&m, event("2", "TokenGeneration_HostedAuth"), TODAY)
        .unwrap()
        .event;
    let twice = apply(&m, once.clone(), TODAY).unwrap().event;
    assert_eq!(once, twice);
}

#[test]
fn dry_run_and_diff_report_the_group_override() {
    use claim_mapper::load;
    use claim_mapper::report::{diff, dry_run};
    let event = support::root().join("examples/features/events/v2-saml-ad-groups.json");
    let load = |path: &str| {
        load::load_file(&support::root().join(path))
            .unwrap()
            .mapping
    };
    let json = load::files::event(&event).unwrap();
    let none = Default::default();
    let before = dry_run::run_event(&load("mappings/default.yaml"), &event, &json, &none, TODAY);
    let after = dry_run::run_event(
        &load("examples/features/mapping.yaml"),
        &event,
        &json,
        &none,
        TODAY,
    );
    let report = after.to_human(false);
    assert!(
        report.contains("  groups (both tokens): [\"Billing\", \"Sales\", \"Support\"]\n"),
        "{report}"
    );
    assert!(
        report.contains("  roles (id token): [\"arn:aws:iam::111122223333:role/billing-role\"]\n"),
        "{report}"
    );
    assert!(!before.to_human(false).contains("groups (both tokens)"));
    let lines = diff::event_diff(&before, &after);
    assert!(
        lines.contains(
            &"  groups: as Cognito has them -> [\"Billing\", \"Sales\", \"Support\"]".to_owned()
        ),
        "{lines:#?}"
    );
}

/// Past 32 names the pipeline deduplicates and looks groups up through a hash set: the same
/// answers as the short lists get, in the same order.
#[test]
fn long_group_lists_give_the_same_answers_as_short_ones() {
    let m = mapping(
        "version: 1\nclaims:\n  - {claim: last, value: true, when: {groups: [g99]}}\n  - {claim: never, value: true, when: {groups: [app-g1]}}\ngroups:\n  from: [cognito, {attribute: custom:more}]\n  rename: {strip_prefix: app-}\n  roles:\n    - {group: g98, role: 'arn:aws:iam::111122223333:role/g98'}\n    - {group: g5, role: 'arn:aws:iam::111122223333:role/g5'}\n",
    );
    // g0..g99, each also as app-gN (renamed onto gN) and again through the attribute.
    let groups: Vec<String> = (0..100)
        .flat_map(|i| [format!("g{i}"), format!("app-g{i}")])
        .collect();
    let mut e = event("2", "TokenGeneration_HostedAuth");
    e["request"]["groupConfiguration"]["groupsToOverride"] = json!(groups);
    e["request"]["userAttributes"]["custom:more"] = json!(groups[..50].join(","));
    let done = apply(&m, e, TODAY).unwrap();
    let out = overrides(&done.event);
    let expected: Vec<String> = (0..100).map(|i| format!("g{i}")).collect();
    assert_eq!(out["groupsToOverride"], json!(expected));
    // Roles in the table's order, for groups far into the list.
    assert_eq!(
        out["iamRolesToOverride"],
        json!([
            "arn:aws:iam::111122223333:role/g98",
            "arn:aws:iam::111122223333:role/g5"
        ])
    );
    let added = &done.event["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(added, &json!({"last": true}));
}
