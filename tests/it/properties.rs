//! Property tests: no event or mapping makes the engine panic, and every output is a response
//! Cognito accepts for the event's version.

use crate::support;

use claim_mapper::Mapping;
use claim_mapper::cognito::{Token, add_restriction};
use claim_mapper::load::{Loaded, Origin};
use claim_mapper::runtime::lambda::handle;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use support::TODAY;
use support::apply;

/// A rich mapping: every source kind, transforms, conditions, suppressions and scopes.
const RICH: &str = r#"
version: 1
claims:
  - {claim: birthdate, from: birthdate, tokens: [access]}
  - {claim: age, from: birthdate, transform: [age, to_number]}
  - {claim: dept, from: custom:department, transform: [trim, lowercase, {prefix: "d-"}]}
  - {claim: tenant, from: [custom:tenant_id, custom:org, $.request.clientMetadata.tenant], default: public}
  - {claim: seats, from: custom:seats, transform: [to_number]}
  - {claim: perms, from: custom:perms, transform: [parse_json]}
  - {claim: tags, from: custom:tags, transform: [{split: ","}, trim, uppercase]}
  - {claim: tagline, from: custom:tags, transform: [{split: ","}, {join: " "}]}
  - {claim: level, from: custom:plan, transform: [{map: {gold: 3, silver: 2}, default: 0}]}
  - {claim: anon, from: sub, transform: [sha256]}
  - {claim: flag, from: custom:flag, transform: [to_boolean]}
  - {claim: masked, from: email, transform: [{replace: {pattern: "^[^@]+", with: "***"}}]}
  - {claim: name, template: "{given_name} {family_name}"}
  - {claim: groups_seen, from: "$.request.groupConfiguration.groupsToOverride[*]", tokens: [access]}
  - {claim: address, from: custom:address, transform: [parse_json], tokens: [id]}
  - {claim: aud, from: $.callerContext.clientId, tokens: [access]}
  - {claim: admin, value: true, when: {groups: [admins], triggers: [TokenGeneration_Authentication]}}
  - {claim: vip, value: true, when: {attributes: {custom:plan: [gold, 1, true], email: {matches: "(?i)@example\\.com$"}}}}
  - {claim: no_org, value: true, when: {attributes: {custom:org: {present: false}}, paths: {$.request.clientMetadata.tenant: {present: true}, "$.request.scopes[*]": [openid], "$..tenant": {matches: "^t"}}}}
suppress:
  id: [phone_number, "dev:secret"]
  access: ["cognito:groups"]
scopes:
  add:
    - {scope: orders/read, when: {groups: [billing]}}
    - {scope: orders/list}
    - {scope: orders/write, when: {attributes: {custom:tier: [gold, platinum]}}}
  suppress: [aws.cognito.signin.user.admin]
"#;

fn rich() -> Mapping {
    support::mapping(RICH)
}

/// The rich mapping plus a group pipeline and overlays.
fn rich_with_groups() -> Mapping {
    support::mapping(&format!(
        "{RICH}{}",
        r#"
groups:
  from: [cognito, {attribute: "custom:ADGroups"}]
  drop_idp_group: true
  keep: {names: [admins, billing, finance], prefixes: [app-], patterns: ["^team-[a-z]+$"]}
  rename: {strip_prefix: app-, table: {finance: billing}}
  max: 4
  roles:
    - {group: admins, role: "arn:aws:iam::111122223333:role/admins"}
    - {group: billing, role: "arn:aws:iam::111122223333:role/billing"}
triggers:
  TokenGeneration_RefreshTokens:
    claims:
      - {claim: refreshed, value: true}
    disable: [tagline]
clients:
  c1:
    claims:
      - {claim: tenant, value: c1-tenant}
      - {claim: refreshed, value: false}
    disable: [name]
"#
    ))
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Attribute values that exercise the transforms: dates, numbers, JSON, lists, garbage.
fn attribute_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
        "-?[0-9]{1,25}(\\.[0-9]{1,5})?".prop_map(Value::String),
        Just(json!("[\"a\",1]")),
        Just(json!("{\"street\":\"x\"}")),
        "[a-z ,]{0,20}".prop_map(Value::String),
        "\\[(app-[A-Za-z]{1,5}, ?|team-[a-z]{1,4},|pool_X_Google,){0,6}\\]".prop_map(Value::String),
        ".{0,20}".prop_map(Value::String),
        any_json(),
    ]
}

fn attributes() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("birthdate".to_owned()),
        Just("custom:department".to_owned()),
        Just("custom:tenant_id".to_owned()),
        Just("custom:seats".to_owned()),
        Just("custom:perms".to_owned()),
        Just("custom:tags".to_owned()),
        Just("custom:plan".to_owned()),
        Just("custom:flag".to_owned()),
        Just("custom:address".to_owned()),
        Just("custom:ADGroups".to_owned()),
        Just("sub".to_owned()),
        Just("email".to_owned()),
        Just("given_name".to_owned()),
        Just("family_name".to_owned()),
        ".{0,10}",
    ];
    prop::collection::btree_map(names, attribute_value(), 0..12)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

fn maybe(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![Just(None), v.prop_map(Some)]
}

/// Event-shaped values where any field may be missing, null, or of the wrong type.
fn event() -> impl Strategy<Value = Value> {
    let version = prop_oneof![
        Just(json!("1")),
        Just(json!("2")),
        Just(json!("3")),
        Just(json!("$LATEST")),
        Just(json!(2)),
        any_json()
    ];
    let trigger = prop_oneof![
        prop::sample::select(claim_mapper::cognito::TRIGGER_SOURCES.to_vec())
            .prop_map(|s| json!(s)),
        any_json()
    ];
    let groups = prop::collection::vec(
        prop_oneof![
            Just(json!("admins")),
            Just(json!("billing")),
            Just(json!("pool_X_Google")),
            any_json()
        ],
        0..4,
    )
    .prop_map(Value::Array);
    let group_config = prop_oneof![
        Just(Value::Null),
        (maybe(groups), maybe(any_json())).prop_map(|(g, r)| {
            let mut m = Map::new();
            if let Some(g) = g {
                m.insert("groupsToOverride".into(), g);
            }
            if let Some(r) = r {
                m.insert("preferredRole".into(), r);
            }
            Value::Object(m)
        }),
        any_json(),
    ];
    let response = prop_oneof![
        Just(json!({"claimsOverrideDetails": null})),
        Just(json!({"claimsAndScopeOverrideDetails": null})),
        Just(json!({"claimsAndScopeOverrideDetails": []})),
        Just(Value::Null),
        any_json(),
    ];
    let client = prop_oneof![Just(json!({"clientId": "c1"})), any_json()];
    let pool = prop_oneof![Just(json!("pool_X")), any_json()];
    (
        version,
        maybe(trigger),
        maybe(client),
        maybe(attributes()),
        maybe(group_config),
        maybe(any_json()),
        maybe(response),
        maybe(pool),
    )
        .prop_map(
            |(version, trigger, client, attrs, groups, scopes, response, pool)| {
                let mut request = Map::new();
                if let Some(a) = attrs {
                    request.insert("userAttributes".into(), a);
                }
                if let Some(g) = groups {
                    request.insert("groupConfiguration".into(), g);
                }
                if let Some(s) = scopes {
                    request.insert("scopes".into(), s);
                }
                let mut e = Map::new();
                e.insert("version".into(), version);
                e.insert("request".into(), Value::Object(request));
                if let Some(t) = trigger {
                    e.insert("triggerSource".into(), t);
                }
                if let Some(c) = client {
                    e.insert("callerContext".into(), c);
                }
                if let Some(r) = response {
                    e.insert("response".into(), r);
                }
                if let Some(p) = pool {
                    e.insert("userPoolId".into(), p);
                }
                Value::Object(e)
            },
        )
}

/// Checks that `out` is a response Cognito accepts for its version; returns the per-token claims.
/// A group override must be absent unless `groups` (the mapping has a pipeline), and whole.
fn check_response(out: &Value, groups: bool) -> Vec<(Token, Map<String, Value>, Vec<String>)> {
    let v1 = out["response"]
        .get("claimsOverrideDetails")
        .is_some_and(Value::is_object);
    let d = if v1 {
        &out["response"]["claimsOverrideDetails"]
    } else {
        &out["response"]["claimsAndScopeOverrideDetails"]
    };
    assert!(d.is_object(), "no details written: {out}");
    match d.get("groupOverrideDetails") {
        None => {}
        Some(g) => {
            assert!(groups, "group override without a pipeline: {out}");
            let strings = |v: &Value| {
                v.as_array()
                    .expect("an array")
                    .iter()
                    .all(|s| s.as_str().is_some_and(|s| !s.is_empty()))
            };
            assert!(
                strings(&g["groupsToOverride"]) && strings(&g["iamRolesToOverride"]),
                "{g}"
            );
            let groups = g["groupsToOverride"].as_array().unwrap();
            assert!(groups.len() <= 4, "max: 4 exceeded: {g}");
            assert!(
                groups.iter().all(|g| g != "pool_X_Google"),
                "IdP group kept: {g}"
            );
            let preferred = &g["preferredRole"];
            assert!(
                preferred.is_null()
                    || g["iamRolesToOverride"]
                        .as_array()
                        .unwrap()
                        .contains(preferred),
                "{g}"
            );
            if g["iamRolesToOverride"].as_array().unwrap().is_empty() {
                assert!(preferred.is_null(), "{g}");
            }
        }
    }
    let token = |t: &Value, token: Token| {
        let add = t["claimsToAddOrOverride"]
            .as_object()
            .expect("claimsToAddOrOverride")
            .clone();
        let suppress: Vec<String> = t["claimsToSuppress"]
            .as_array()
            .expect("claimsToSuppress")
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        (token, add, suppress)
    };
    if v1 {
        vec![token(d, Token::Id)]
    } else {
        let access = &d["accessTokenGeneration"];
        for key in ["scopesToAdd", "scopesToSuppress"] {
            assert!(
                access[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|s| s.as_str().is_some_and(|s| !s.contains(' ')))
            );
        }
        vec![
            token(&d["idTokenGeneration"], Token::Id),
            token(access, Token::Access),
        ]
    }
}

/// `mapping` as the Lambda holds it.
fn loaded(mapping: &Mapping) -> Arc<Loaded> {
    Arc::new(Loaded {
        mapping: mapping.clone(),
        origin: Origin::File("rich.yaml".into()),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_event_gives_a_valid_response_or_a_clear_error(e in event(), with_groups in any::<bool>(), small_limit in any::<bool>()) {
        let m = if with_groups {
            rich_with_groups()
        } else if small_limit {
            // Near the limit the size guard counts exactly; far below it, a bound suffices.
            support::mapping(&format!("limits: {{token_claim_bytes: 300}}\n{RICH}"))
        } else {
            rich()
        };
        let Ok(done) = apply(&m, e.clone(), TODAY) else {
            prop_assert!(handle(loaded(&m), e, TODAY).0.is_err());
            return Ok(())
        };
        // The JSON the Lambda returns is the event the reports show. (Both are read back the same
        // way: serde_json's float parsing is not exact to the last bit for extreme values.)
        let reply = serde_json::to_string(&handle(loaded(&m), e, TODAY).0.unwrap()).unwrap();
        let returned: Value = serde_json::from_str(&reply).unwrap();
        let shown: Value = serde_json::from_str(&done.event.to_string()).unwrap();
        prop_assert_eq!(returned, shown);
        let v1 = matches!(done.shape, claim_mapper::engine::Shape::V1);
        // The overridden groups count with the claims of each token they go into.
        let details = &done.event["response"][if v1 { "claimsOverrideDetails" } else { "claimsAndScopeOverrideDetails" }];
        let groups = &details["groupOverrideDetails"]["groupsToOverride"];
        let group_bytes = if groups.is_array() { claim_mapper::claim_size::claim_size("cognito:groups", groups) } else { 0 };
        for (token, add, suppress) in check_response(&done.event, with_groups) {
            let claims: usize = add.iter().map(|(k, v)| claim_mapper::claim_size::claim_size(k, v)).sum();
            let bytes = claims + group_bytes;
            prop_assert!(bytes <= m.token_claim_bytes(), "{bytes} bytes of claims and groups in one token");
            for (claim, value) in &add {
                prop_assert!(add_restriction(claim, token).is_none(), "reserved claim {claim} emitted");
                prop_assert!(!claim.starts_with("cognito:"));
                prop_assert!(!value.is_null());
                if v1 { prop_assert!(value.is_string(), "V1 value must be a string"); }
                prop_assert!(!suppress.contains(claim), "suppressed claim {claim} also added");
            }
        }
        // Cognito may retry: a second application gives the same event.
        let again = apply(&m, done.event.clone(), TODAY).unwrap();
        prop_assert_eq!(again.event, done.event);
    }

    #[test]
    fn arbitrary_json_never_panics(e in any_json()) {
        let _ = handle(loaded(&rich()), e.clone(), TODAY).0.map(|r| serde_json::to_vec(&r));
        let _ = apply(&rich(), e, TODAY);
    }

    #[test]
    fn arbitrary_mapping_text_never_panics(text in ".{0,400}") {
        let _ = Mapping::from_yaml(&text, "fuzz.yaml");
    }

    #[test]
    fn mutated_mappings_never_panic(cut in 0usize..RICH.len(), insert in "[-:{}\\[\\]$ a-z0-9\n]{0,8}") {
        let mut text = RICH.to_owned();
        let at = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.insert_str(at, &insert);
        if let Ok(m) = Mapping::from_yaml(&text, "fuzz.yaml") {
            let event = support::fixture_events().remove(1).1;
            let _ = apply(&m, event, TODAY);
        }
    }
}
