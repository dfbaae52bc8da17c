//! Hostile mappings and events: each is refused with a clear message or handled safely, in
//! bounded memory and time, never with a panic.

use crate::support;

use claim_mapper::Mapping;
use serde_json::{Value, json};
use support::apply;
use support::{TODAY, mapping, mapping_error};

#[test]
fn deeply_nested_mappings_are_refused() {
    let deep = format!(
        "version: 1\nclaims:\n  - claim: a\n    value: {}1{}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    let err = mapping_error(&deep);
    assert!(err.contains("recursion limit exceeded"), "{err}");
}

#[test]
fn enormous_regexes_are_refused() {
    let refused = |pattern: &str| {
        mapping_error(&format!(
            "version: 1\nclaims:\n  - claim: a\n    from: x\n    transform: [{{replace: {{pattern: '{pattern}', with: ''}}}}]\n"
        ))
    };
    // Refused from its syntax, before it is compiled: 10,000 positions spelt out.
    let err = refused(&"(a|b|c|d|e|f|g|h){1000}".repeat(10));
    assert!(err.contains("spells out 10000 positions"), "{err}");
    // Few positions, but a compiled form past the size limit (a Unicode class is large).
    let err = refused("\\w{40}");
    assert!(
        err.contains("invalid regular expression") && err.contains("exceeds size limit"),
        "{err}"
    );
}

/// The costliest regular expressions the position limit lets through stay cheap on the largest
/// value a rule works on; one past it is refused. (Timings are `scripts/bench-worst-case`'s.)
#[test]
fn counted_repetitions_are_bounded_by_the_positions_they_spell_out() {
    let max = claim_mapper::mapping::MAX_REGEX_POSITIONS;
    let within = format!("(a{{10}}){{{}}}b", max / 10 - 1);
    mapping(&format!(
        "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      paths:\n        $.request.clientMetadata.x: {{matches: '{within}'}}\n"
    ));
    let past = format!("(a{{10}}){{{}}}b", max / 10 + 1);
    let err = mapping_error(&format!(
        "version: 1\nclaims:\n  - claim: a\n    value: 1\n    when:\n      paths:\n        $.request.clientMetadata.x: {{matches: '{past}'}}\n"
    ));
    assert!(
        err.contains(&format!("spells out {} positions", max + 11)),
        "{err}"
    );
}

/// The positions of all the regexes of a mapping are bounded together, `groups.keep.patterns`
/// included: ten of the largest fit, and the next one is refused where it passes the total.
#[test]
fn the_regexes_of_a_mapping_are_bounded_by_their_positions_together() {
    use claim_mapper::mapping::{MAX_MAPPING_REGEX_POSITIONS, MAX_REGEX_POSITIONS};
    let largest = format!("a{{{MAX_REGEX_POSITIONS}}}");
    let fit = usize::try_from(MAX_MAPPING_REGEX_POSITIONS / MAX_REGEX_POSITIONS).unwrap();
    let rules = |n: usize| {
        let mut yaml = String::from("version: 1\nclaims:\n");
        for i in 0..n {
            yaml.push_str(&format!(
                "  - {{claim: c{i}, from: email, transform: {{replace: {{pattern: '{largest}', with: ''}}}}}}\n"
            ));
        }
        yaml
    };
    mapping(&rules(fit));
    let err = mapping_error(&rules(fit + 1));
    assert!(
        err.contains(&format!("field `claims[{fit}].transform`"))
            && err.contains(&format!(
                "spell out more than {MAX_MAPPING_REGEX_POSITIONS} positions together"
            )),
        "{err}"
    );
    let with_keep = format!("{}groups:\n  keep: {{patterns: ['^x$']}}\n", rules(fit));
    assert!(
        mapping_error(&with_keep).contains("`groups.keep.patterns`"),
        "the keep patterns count with the rest"
    );
}

#[test]
fn pathological_jsonpaths_are_refused() {
    let long = format!("$.{}", "a.".repeat(600));
    assert!(
        mapping_error(&format!(
            "version: 1\nclaims:\n  - {{claim: a, from: '{long}x'}}\n"
        ))
        .contains("JSONPath longer than 1024 bytes")
    );
    let nested = format!("$[?{}@.a{}]", "(".repeat(200), ")".repeat(200));
    let err = mapping_error(&format!(
        "version: 1\nclaims:\n  - {{claim: a, from: '{nested}'}}\n"
    ));
    assert!(err.contains("invalid JSONPath"), "{err}");
}

/// JSONPaths whose work per event grows faster than the event: refused at load, as reported
/// (a regex filter took 1.3-8.8 s per event, `$..a..a..a..a` 9.4 s on a 2.6 KB event).
#[test]
fn jsonpaths_that_cost_more_than_one_pass_over_the_event_are_refused() {
    for (path, says) in [
        (
            r#"$.request.userAttributes[?match(@, "\\w{500}")]"#,
            "`match()` and `search()`",
        ),
        (
            r#"$.request.userAttributes[?match(@, "(")]"#,
            "`match()` and `search()`",
        ),
        (
            r#"$.request.userAttributes[?search(@, "a")]"#,
            "`match()` and `search()`",
        ),
        ("$..a..a..a..a", "4 descendant segments"),
        ("$..a[?@..b]", "2 descendant segments"),
        ("$[?@[?@.a]]", "a filter inside a filter"),
        (
            "$..[?$.request.clientMetadata.*]",
            "a query from the root (`$`) inside a filter must select one node",
        ),
        (
            "$.request.userAttributes[?count($..x) > 0]",
            "a query from the root (`$`) inside a filter must select one node",
        ),
    ] {
        let yaml = format!("version: 1\nclaims:\n  - claim: a\n    from: '{path}'\n");
        let err = mapping_error(&yaml);
        assert!(
            err.contains("field `claims[0].from`") && err.contains(says),
            "{path}: {err}"
        );
    }
    // One pass is fine: a descendant segment, a filter with a comparison.
    for path in [
        "$..groupsToOverride[*]",
        "$.request.userAttributes[?@ == 'x']",
        "$.request.groupConfiguration.groupsToOverride[?@ == 'a' || @ == 'b']",
        "$.request.userAttributes[?@ == $.callerContext.clientId]",
    ] {
        mapping(&format!(
            "version: 1\nclaims:\n  - claim: a\n    from: \"{path}\"\n"
        ));
    }
}

#[test]
fn megabyte_values_and_ten_thousand_attributes_are_handled() {
    let m = mapping(
        "version: 1\nclaims:\n  - {claim: a, from: custom:big, transform: [trim, lowercase, sha256]}\n  - {claim: b, from: custom:big, transform: [{split: ','}, {join: ';'}, {truncate: 10}]}\n  - {claim: c, from: custom:big, transform: [{replace: {pattern: 'x+', with: 'y'}}]}\n  - {claim: d, from: custom:a9999}\n",
    );
    let mut attrs = serde_json::Map::new();
    for i in 0..10_000 {
        attrs.insert(format!("custom:a{i}"), json!(format!("v{i}")));
    }
    attrs.insert("custom:big".into(), json!("X,".repeat(512 * 1024)));
    let event = json!({"version": "2", "request": {"userAttributes": attrs}});
    let done = apply(&m, event, TODAY).unwrap();
    let added = &done.event["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(added["d"], "v9999");
    // The megabyte value is over what a rule works on: each rule reading it fails before any
    // transform runs.
    let skipped: Vec<String> = done.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        skipped,
        ["a", "b", "c"].iter().enumerate().map(|(i, claim)| format!(
            "rule {} (claim `{claim}`): value refused: the value is over the 64 KiB a rule works on",
            i + 1
        )).collect::<Vec<_>>()
    );
}

/// What a rule may make of a value stays within 64 KiB, however the mapping combines sources and
/// transforms: values are never built past the cap, so no rule costs more than that per event.
#[test]
fn no_rule_builds_a_value_past_the_cap() {
    let m = mapping(concat!(
        "version: 1\nclaims:\n",
        // 40 placeholders of 2 KiB each: 80 KiB.
        "  - {claim: t, template: '{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}{custom:a}'}\n",
        // Patterns matching at every `x` or every position of the longest value a regex reads
        // (1 KiB), with long replacements: 513 x 160 and 1,025 x 80 bytes.
        "  - {claim: r, from: custom:b, transform: [{replace: {pattern: 'x*', with: '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789'}}]}\n",
        "  - {claim: r2, from: custom:b, transform: [{replace: {pattern: '', with: '$0 012345678901234567890123456789012345678901234567890123456789012345678901234567'}}]}\n",
        // A long separator between many items.
        "  - {claim: j, from: custom:a, transform: [{split: 'y'}, {join: '01234567890123456789012345678901234567890123456789012345678901234567890123456789'}]}\n",
        "  - {claim: small, from: custom:a, transform: [{truncate: 3}]}\n",
    ));
    let a = "xy".repeat(1024);
    let b = "xy".repeat(512);
    let event =
        json!({"version": "2", "request": {"userAttributes": {"custom:a": a, "custom:b": b}}});
    let done = apply(&m, event, TODAY).unwrap();
    let added = &done.event["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(added, &json!({"small": "xyx"}));
    let skipped: Vec<String> = done.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    for (skip, claim) in skipped.iter().zip(["t", "r", "r2", "j"]) {
        assert!(
            skip.contains(&format!("(claim `{claim}`)")) && skip.contains("64 KiB"),
            "{skip}"
        );
    }
}

#[test]
fn more_transforms_or_query_paths_than_the_limits_are_refused() {
    let transforms = format!(
        "version: 1\nclaims:\n{}",
        "  - {claim: a, from: email, transform: [trim, trim, trim, trim, trim, trim, trim, trim, trim, trim]}\n".repeat(201)
    );
    let err = mapping_error(&transforms);
    assert!(
        err.contains(
            "rule 201 (claim `a`), field `claims[200].transform`: more than 2000 transforms"
        ),
        "{err}"
    );
    let queries = format!(
        "version: 1\nclaims:\n{}",
        "  - {claim: a, from: ['$..a', '$.b[0:2]']}\n".repeat(5)
    );
    let err = mapping_error(&queries);
    assert!(
        err.contains(
            "rule 5 (claim `a`), field `claims[4].from`: more than 8 JSONPaths with wildcards"
        ),
        "{err}"
    );
    // At the limits: accepted.
    mapping(&transforms.replacen("  - {claim: a, from: email, transform: [trim, trim, trim, trim, trim, trim, trim, trim, trim, trim]}\n", "", 1));
    mapping(&queries.replacen("  - {claim: a, from: ['$..a', '$.b[0:2]']}\n", "", 1));
}

#[test]
fn deeply_nested_events_are_refused_by_the_json_parser() {
    let deep = format!(
        "{{\"version\":\"2\",\"x\":{}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let err = serde_json::from_str::<Value>(&deep).unwrap_err();
    assert!(err.to_string().contains("recursion limit exceeded"));
}

#[test]
fn wrong_types_at_every_field_are_safe() {
    let m = Mapping::from_yaml(
        &std::fs::read_to_string(support::root().join("mappings/bench.yaml")).unwrap(),
        "bench",
    )
    .unwrap();
    let base = support::fixture("v2-authentication-custom-attrs-groups");
    let odd = [
        json!(null),
        json!(7),
        json!("s"),
        json!([1, {"a": null}]),
        json!({"k": [true]}),
        json!(true),
    ];
    let mut paths = vec![vec![]];
    collect_paths(&base, &mut vec![], &mut paths);
    for path in paths {
        for value in &odd {
            let mut event = base.clone();
            *pointer(&mut event, &path) = value.clone();
            // Either a clear error or a filled-in response; never a panic.
            if let Ok(done) = apply(&m, event, TODAY) {
                assert!(done.event["response"].is_object());
            }
        }
    }
}

fn collect_paths(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            here.push(k.clone());
            out.push(here.clone());
            collect_paths(child, here, out);
            here.pop();
        }
    }
}

fn pointer<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| &mut v[k.as_str()])
}

#[test]
fn the_most_overlays_and_the_longest_disable_lists_load() {
    // 1,000 base rules, 6 trigger overlays and 100 client overlays: 707 plans, resolved at load.
    let mut text = String::from("version: 1\nlimits: {token_claim_bytes: 65536}\nclaims:\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "  - {{claim: c{i:03}, from: custom:a{}}}\n",
            i % 50
        ));
    }
    text.push_str("triggers:\n");
    for trigger in claim_mapper::cognito::TRIGGER_SOURCES {
        text.push_str(&format!("  {trigger}:\n    claims:\n"));
        for i in 0..60 {
            text.push_str(&format!("      - {{claim: t{i}, value: 1}}\n"));
        }
    }
    text.push_str("clients:\n");
    for c in 0..100 {
        text.push_str(&format!(
            "  client{c}:\n    claims: [{{claim: c{c:03}, value: 2}}]\n    disable: [c{:03}]\n",
            c + 100
        ));
    }
    let m = mapping(&text);
    assert_eq!(m.plan_count(), 101 * 7);
    let event = json!({
        "version": "2", "triggerSource": "TokenGeneration_RefreshTokens",
        "callerContext": {"clientId": "client7"},
        "request": {"userAttributes": {"custom:a7": "x"}}, "response": {}
    });
    let out = apply(&m, event, TODAY).unwrap().event;
    let claims = &out["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"];
    assert_eq!(
        claims["c007"],
        json!(2),
        "the client overlay replaced the base rule"
    );
    assert!(
        claims.get("c107").is_none(),
        "disabled by the client overlay"
    );
    assert_eq!(claims["c057"], json!("x"));
    assert_eq!(claims["t59"], json!(1), "the trigger overlay applies too");

    // A `disable` list of 80,000 names (sets, not list scans, keep this linear): refused, each
    // unknown name reported.
    let names = vec!["zzzz"; 80_000].join(",");
    let err = mapping_error(&format!(
        "version: 1\nclaims:\n  - {{claim: c100, value: 1}}\nclients:\n  web:\n    disable: [{names}]\n"
    ));
    assert!(
        err.contains("field `clients.web.disable[79999]`: no earlier rule sets `zzzz`"),
        "{}",
        &err[..300]
    );
}

/// Deep flow nesting is measured before the YAML parser runs: the parser takes time quadratic
/// in it (the reported 200 KB of `[` took 20 s in `validate`).
#[test]
fn a_hundred_thousand_open_brackets_are_refused_before_parsing() {
    let err = mapping_error(&format!(
        "version: 1\nclaims:\n  - claim: a\n    value: {}\n",
        "[".repeat(100_000)
    ));
    assert!(
        err.contains("test.yaml:4:140: YAML nested deeper than 128 levels"),
        "{err}"
    );
}

/// A mapping file is read up to the limit and no further, whatever size the file system claims.
#[test]
fn endless_and_oversized_mapping_files_are_refused_without_reading_them_whole() {
    let endless = claim_mapper::load::load_file("/dev/zero".as_ref())
        .unwrap_err()
        .to_string();
    assert!(
        endless.starts_with("mapping /dev/zero is over 1048576 bytes"),
        "{endless}"
    );
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, format!("version: 1\n#{}\n", "x".repeat(2 << 20))).unwrap();
    let err = claim_mapper::load::load_file(&big).unwrap_err().to_string();
    assert!(
        err.contains("is over 1048576 bytes (1048577 read)"),
        "{err}"
    );
}

#[test]
fn a_mapping_saved_with_a_byte_order_mark_loads() {
    let m = mapping("\u{feff}version: 1\nclaims:\n  - claim: a\n    value: 1\n");
    assert_eq!(m.rule_count(), 1);
}

/// A constant that fits the limit as JSON but not as the escaped string version 1 sends would
/// refuse every version 1 sign-in under `on_error: fail`: refused at load instead.
#[test]
fn constants_are_sized_as_version_1_sends_them() {
    let array = "[ab, ab, ab, ab, ab, ab, ab, ab]";
    let id = format!(
        "version: 1\non_error: fail\nlimits: {{token_claim_bytes: 50}}\nclaims:\n  - claim: a\n    value: {array}\n"
    );
    let err = mapping_error(&id);
    assert!(
        err.contains(
            "field `claims[0].value`: the claim is 64 bytes of JSON; limits.token_claim_bytes is 50"
        ),
        "{err}"
    );
    // Version 1 changes only the ID token: the access token's claim is sized as it is sent.
    mapping(&id.replace("    value:", "    tokens: [access]\n    value:"));
}

/// Each regex costs memory at every cold start: 1,000 small ones took 307 MB, more than a 128 MB
/// function has. Their count is bounded, and the mapping that passes the bound is refused.
#[test]
fn more_replace_transforms_than_the_budget_are_refused() {
    let rules = |n: usize| {
        let mut yaml = String::from("version: 1\nclaims:\n");
        for i in 0..n {
            yaml.push_str(&format!(
                "  - {{claim: c{i}, from: x, transform: [{{replace: {{pattern: '\\w{{5}}', with: ''}}}}]}}\n"
            ));
        }
        yaml
    };
    let max = claim_mapper::mapping::MAX_REGEXES;
    mapping(&rules(max));
    let err = mapping_error(&rules(max + 1));
    assert!(
        err.contains(&format!(
            "rule {} (claim `c{max}`), field `claims[{max}].transform`: more than {max}",
            max + 1
        )),
        "{err}"
    );
}
