//! Lookups (`lookups:`) as a mapping declares them: what compiles, with which settings, and
//! every mistake refused where it is written. What the engine does with their items is tested
//! beside it (src/engine/lookup.rs); reading a table, in `ssm.rs`'s moto tests.

use claim_mapper::Mapping;
use claim_mapper::mapping::lookups::*;
/// The problems of `yaml` as (field, message) pairs; empty when it compiles.
fn problems(yaml: &str) -> Vec<(String, String)> {
    match Mapping::from_yaml(yaml, "t.yaml") {
        Ok(_) => Vec::new(),
        Err(claim_mapper::MappingError::Invalid { problems, .. }) => {
            problems.into_iter().map(|p| (p.field, p.message)).collect()
        }
        Err(e) => panic!("{e}"),
    }
}

fn one_problem(yaml: &str, field: &str, says: &str) {
    let found = problems(yaml);
    assert!(
        found.iter().any(|(f, m)| f == field && m.contains(says)),
        "expected `{says}` at `{field}`, got {found:?}"
    );
}

const TENANT: &str = "version: 1\nlookups:\n  tenant:\n    table: tenants\n    key: {pk: 'TENANT#{custom:tenant_id}', sk: PLAN}\n";

#[test]
fn a_lookup_compiles_with_its_defaults_and_its_key() {
    let m = Mapping::from_yaml(
        &format!("{TENANT}claims:\n  - {{claim: plan, from: lookup.tenant.plan}}\n"),
        "t.yaml",
    )
    .unwrap();
    let [lookup] = m.lookups() else {
        panic!("one lookup")
    };
    assert_eq!(lookup.name, "tenant");
    assert_eq!(lookup.table, "tenants");
    assert_eq!(lookup.key_names().collect::<Vec<_>>(), ["pk", "sk"]);
    assert!(lookup.attributes.is_empty());
    assert_eq!(lookup.timeout_ms, DEFAULT_LOOKUP_TIMEOUT_MS);
    assert_eq!(
        lookup.cache,
        CacheSettings {
            ttl_seconds: DEFAULT_CACHE_TTL_SECONDS,
            missing_ttl_seconds: DEFAULT_CACHE_TTL_SECONDS,
            max_entries: DEFAULT_CACHE_ENTRIES,
            max_bytes: DEFAULT_CACHE_BYTES,
            stale_seconds: 0,
        }
    );
    assert_eq!(m.lookup_budget_ms(), DEFAULT_LOOKUP_BUDGET_MS);
}

#[test]
fn settings_given_are_kept() {
    let m = Mapping::from_yaml(
        "version: 1\nlookups:\n  t-1:\n    table: arn:aws:dynamodb:eu-west-1:111122223333:table/x\n    key: {id: '{sub}'}\n    attributes: [a, b]\n    timeout_ms: 1000\n    on_error: fail\n    cache: {ttl_seconds: 0, missing_ttl_seconds: 5, max_entries: 7, max_bytes: 9, stale_seconds: 60}\nlimits: {lookup_budget_ms: 1000}\n",
        "t.yaml",
    )
    .unwrap();
    let lookup = &m.lookups()[0];
    assert_eq!(lookup.attributes, ["a", "b"]);
    assert_eq!(lookup.timeout_ms, 1000);
    assert_eq!(
        lookup.cache,
        CacheSettings {
            ttl_seconds: 0,
            missing_ttl_seconds: 5,
            max_entries: 7,
            max_bytes: 9,
            stale_seconds: 60,
        }
    );
    assert_eq!(m.lookup_budget_ms(), 1000);
}

#[test]
fn bad_lookups_are_refused_where_they_are_written() {
    let lookup = |body: &str| format!("version: 1\nlookups:\n  tenant:\n{body}");
    one_problem(
        &lookup("    table: t\n    key: {pk: x}\n"),
        "lookups.tenant.table",
        "not a DynamoDB table name",
    );
    one_problem(
        &lookup("    table: arn:aws:s3:::bucket\n    key: {pk: x}\n"),
        "lookups.tenant.table",
        "not a table ARN",
    );
    one_problem(
        &lookup("    table: tenants\n    key: {}\n"),
        "lookups.tenant.key",
        "one or two entries",
    );
    one_problem(
        &lookup("    table: tenants\n    key: {a: x, b: y, c: z}\n"),
        "lookups.tenant.key",
        "one or two entries",
    );
    one_problem(
        &lookup("    table: tenants\n    key: {pk: ''}\n"),
        "lookups.tenant.key.pk",
        "empty key value",
    );
    one_problem(
        &lookup("    table: tenants\n    key: {pk: '{lookup.other.id}'}\n"),
        "lookups.tenant.key.pk",
        "cannot read a lookup",
    );
    one_problem(
        &lookup("    table: tenants\n    key: {pk: '{custom:x'}\n"),
        "lookups.tenant.key.pk",
        "unclosed",
    );
    one_problem(
        &lookup("    table: tenants\n    key: {pk: x}\n    attributes: []\n"),
        "lookups.tenant.attributes",
        "reads nothing",
    );
    for timeout in [0, MAX_LOOKUP_TIMEOUT_MS + 1] {
        one_problem(
            &lookup(&format!(
                "    table: tenants\n    key: {{pk: x}}\n    timeout_ms: {timeout}\n"
            )),
            "lookups.tenant.timeout_ms",
            "between 1 and 1000",
        );
    }
    for (field, value, says) in [
        ("ttl_seconds", "86401", "a day"),
        ("missing_ttl_seconds", "86401", "a day"),
        ("stale_seconds", "86401", "a day"),
        ("max_entries", "0", "between 1 and"),
        ("max_entries", "1000001", "between 1 and"),
        ("max_bytes", "0", "between 1 and"),
        ("max_bytes", "536870913", "between 1 and"),
    ] {
        one_problem(
            &lookup(&format!(
                "    table: tenants\n    key: {{pk: x}}\n    cache: {{{field}: {value}}}\n"
            )),
            &format!("lookups.tenant.cache.{field}"),
            says,
        );
    }
    one_problem(
        "version: 1\nlookups:\n  'a b':\n    table: tenants\n    key: {pk: x}\n",
        "lookups.a b",
        "a lookup's name",
    );
    let many: String = (0..=MAX_LOOKUPS)
        .map(|i| format!("  l{i}: {{table: tenants, key: {{pk: x}}}}\n"))
        .collect();
    one_problem(
        &format!("version: 1\nlookups:\n{many}"),
        "lookups",
        "at most 4",
    );
    for budget in [0, MAX_LOOKUP_TIMEOUT_MS + 1] {
        one_problem(
            &format!("version: 1\nlimits: {{lookup_budget_ms: {budget}}}\n"),
            "limits.lookup_budget_ms",
            "between 1 and 1000",
        );
    }
}

#[test]
fn sources_name_declared_lookups_and_conditions_read_none() {
    one_problem(
        &format!("{TENANT}claims:\n  - {{claim: plan, from: lookup.tenat.plan}}\n"),
        "claims[0].from",
        "did you mean `tenant`?",
    );
    one_problem(
        "version: 1\nclaims:\n  - {claim: plan, template: '{lookup.tenant.plan}!'}\n",
        "claims[0].template",
        "declare it under `lookups:`",
    );
    one_problem(
        &format!("{TENANT}claims:\n  - {{claim: plan, from: lookup.}}\n"),
        "claims[0].from",
        "name the lookup",
    );
    one_problem(
        &format!("{TENANT}claims:\n  - {{claim: plan, from: 'lookup.tenant[?@.a'}}\n"),
        "claims[0].from",
        "the path into the item",
    );
    one_problem(
        &format!(
            "{TENANT}claims:\n  - {{claim: a, value: 1, when: {{attributes: {{lookup.tenant.plan: [x]}}}}}}\n"
        ),
        "claims[0].when.attributes.lookup.tenant.plan",
        "conditions decide from the event alone",
    );
    // A lookup refused for its own problem is not also unknown.
    let found = problems(
        "version: 1\nlookups:\n  tenant: {table: t, key: {pk: x}}\nclaims:\n  - {claim: p, from: lookup.tenant.plan}\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn the_audit_sees_the_attributes_a_key_reads() {
    use claim_mapper::mapping::inputs::{Decides, Read};
    let m = Mapping::from_yaml(
        &format!("{TENANT}claims:\n  - {{claim: plan, from: lookup.tenant.plan}}\n"),
        "t.yaml",
    )
    .unwrap();
    let inputs = m.inputs();
    let key = inputs
        .iter()
        .find(|i| {
            i.decides
                == Decides::LookupKey {
                    lookup: "tenant".into(),
                }
        })
        .expect("the key is an input");
    assert_eq!(key.read, Read::Attribute("custom:tenant_id".into()));
    assert_eq!(key.field, "lookups.tenant.key.pk");
    assert!(key.decides.grants());
    // The item itself is the table's: not an input someone else could set.
    assert!(!inputs.iter().any(|i| i.place == "rule 1"));
}

#[test]
fn suite_cases_state_what_the_table_holds() {
    let root = crate::support::root().join("examples/lookups");
    let suite = claim_mapper::load::files::suite(&root.join("tests.yaml")).unwrap();
    let mapping = claim_mapper::load::load_file(suite.mapping.as_ref().unwrap())
        .unwrap()
        .mapping;
    let today = crate::support::TODAY;
    assert_eq!(suite.cases.len(), 4);
    for case in &suite.cases {
        assert!(case.run(&mapping, today).passed(), "{}", case.name);
    }
    // The same cases with the table saying otherwise fail: the items reach the verdict.
    let text = std::fs::read_to_string(root.join("tests.yaml"))
        .unwrap()
        .replace("plan: enterprise, entitlements", "plan: team, entitlements")
        .replace("missing: true", "item: { plan: team }");
    let changed = claim_mapper::load::files::suite_text(&text, &root.join("tests.yaml")).unwrap();
    let failing: Vec<&str> = changed
        .cases
        .iter()
        .filter(|case| !case.run(&mapping, today).passed())
        .map(|case| case.name.as_str())
        .collect();
    assert_eq!(failing.len(), 2, "{failing:?}");
}

#[test]
fn a_suite_case_with_malformed_items_is_refused_where_it_is() {
    let text = "version: 1\nmapping: mapping.yaml\ncases:\n  - name: x\n    event: {}\n    lookups:\n      tenant:\n        - {key: {pk: a}}\n    expect: {}\n";
    let root = crate::support::root().join("examples/lookups");
    let error = claim_mapper::load::files::suite_text(text, &root.join("t.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cases[0].lookups") && error.contains("give exactly one of"),
        "{error}"
    );
}
