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

// The function reading DynamoDB (moto behind the AWS request gate, and endpoints that stall or
// throttle), as a real process on the Runtime API.

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::dynamodb::{create_table, put, unique};
use crate::support::lambda::{FILE_ONLY, Lambda};
use crate::support::runtime_api::Posted;
use crate::support::{gate, ssm::aws_env};

/// A mapping reading `tenants` (plan, entitlements, seats) and `regions` (the event's region).
fn table_mapping(tenants: &str, regions: &str, tenant_extra: &str) -> String {
    format!(
        "version: 1\nlookups:\n  tenant:\n    table: {tenants}\n    key: {{pk: 'TENANT#{{custom:tenant_id}}'}}\n    attributes: [plan, entitlements, seats]\n    timeout_ms: 300\n{tenant_extra}  region:\n    table: {regions}\n    key: {{pk: '{{$.region}}'}}\nclaims:\n  - {{claim: plan, from: lookup.tenant.plan, default: free}}\n  - {{claim: entitlements, from: lookup.tenant.entitlements, tokens: [access]}}\n  - {{claim: seats, from: lookup.tenant.seats, tokens: [access]}}\n  - {{claim: secret, from: lookup.tenant.secret, tokens: [access]}}\n  - {{claim: region_name, from: lookup.region.name, tokens: [access]}}\n"
    )
}

/// Starts the function with `mapping` as its file, its AWS calls going to `endpoint`.
fn start(mapping: &str, endpoint: &str) -> (Lambda, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mapping.yaml");
    std::fs::write(&file, mapping).unwrap();
    let mut env = aws_env(endpoint);
    env.push(("CLAIM_MAPPING_FILE", file.display().to_string()));
    (Lambda::start(&env), dir)
}

fn event(tenant: &str) -> Value {
    let mut e = crate::support::events_in("examples/lookups/events")
        .into_iter()
        .find(|(name, _)| name == "v2-acme")
        .unwrap()
        .1;
    e["request"]["userAttributes"]["custom:tenant_id"] = json!(tenant);
    e
}

fn access_claims(reply: &Value) -> Value {
    reply["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
        ["claimsToAddOrOverride"]
        .clone()
}

/// The function's metric lines for the lookup named `name`.
fn lookup_lines(logs: &str, name: &str) -> Vec<Value> {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["lookup"] == name && l.get("_aws").is_some())
        .collect()
}

#[test]
#[ignore = "needs moto_server and the AWS request gate: run scripts/test"]
fn the_function_reads_both_tables_in_one_batch_and_serves_repeats_from_its_cache() {
    let (tenants, regions) = (unique("tenants"), unique("regions"));
    create_table(&tenants);
    create_table(&regions);
    put(
        &tenants,
        &[
            ("pk", "TENANT#acme"),
            ("plan", "enterprise"),
            ("entitlements", "L:reports,export"),
            ("seats", "N:250"),
            ("secret", "not projected"),
        ],
    );
    put(&regions, &[("pk", "us-east-1"), ("name", "N. Virginia")]);
    let (mut lambda, _dir) = start(&table_mapping(&tenants, &regions, ""), &gate::endpoint());
    let batches = || gate::requests("BatchGetItem", &tenants);

    let acme = lambda.invoke(&event("acme"));
    assert_eq!(
        access_claims(&acme),
        json!({
            "plan": "enterprise", "entitlements": ["reports", "export"], "seats": 250,
            "region_name": "N. Virginia"
        })
    );
    // One call for both tables, projected to the attributes read (and the key).
    let sent = batches();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let input = &sent[0]["input"]["RequestItems"];
    assert!(input.get(&regions).is_some(), "{input}");
    let names = input[&tenants]["ExpressionAttributeNames"].to_string();
    assert!(
        names.contains("seats") && !names.contains("secret"),
        "{names}"
    );
    assert!(input[&regions].get("ProjectionExpression").is_none());

    // Again: from the cache, no call.
    assert_eq!(lambda.invoke(&event("acme")), acme);
    assert_eq!(batches().len(), 1);
    // A tenant the table does not hold: one call, for it alone; then remembered as missing.
    let none = lambda.invoke(&event("initech"));
    assert_eq!(
        access_claims(&none),
        json!({"plan": "free", "region_name": "N. Virginia"})
    );
    assert_eq!(batches().len(), 2);
    assert!(
        batches()[1]["input"]["RequestItems"]
            .get(&regions)
            .is_none()
    );
    lambda.invoke(&event("initech"));
    assert_eq!(batches().len(), 2);

    let logs = lambda.stop();
    let tenant = lookup_lines(&logs, "tenant");
    let outcomes: Vec<(u64, u64, u64)> = tenant
        .iter()
        .map(|l| {
            let n = |k: &str| l[k].as_u64().unwrap();
            (
                n("LookupItemFound"),
                n("LookupCacheHit"),
                n("LookupItemMissing"),
            )
        })
        .collect();
    assert_eq!(outcomes, [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 0)]);
    assert!(!logs.contains("TENANT#acme"), "a key reached the logs");
    assert!(!logs.contains("enterprise"), "an item reached the logs");
}

/// A DynamoDB endpoint that throttles every call as DynamoDB does past a table's throughput (HTTP
/// 400, AWS JSON 1.0 error `ProvisionedThroughputExceededException`).
fn throttling(stream: TcpStream) {
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while crate::support::http::read_request(&mut reader).is_some() {
        let headers = [("Content-Type", "application/x-amz-json-1.0".to_owned())];
        let body = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
        if crate::support::http::respond(&mut writer, "400 Bad Request", &headers, body).is_err() {
            return;
        }
    }
}

#[test]
fn a_stalled_or_throttling_table_fails_the_lookup_within_its_time_never_the_sign_in() {
    for (behave, outcome) in [
        (crate::faults::stall as fn(TcpStream), "timed_out"),
        (throttling, "throttled"),
    ] {
        let addr = crate::faults::endpoint_that(behave);
        let (mut lambda, _dir) = start(
            &table_mapping("tenants", "regions", ""),
            &format!("http://{addr}"),
        );
        let started = Instant::now();
        let reply = lambda.invoke(&event("acme"));
        let waited = started.elapsed();
        // The claims reading the table are left out, not defaulted: `free` would be a guess.
        assert_eq!(access_claims(&reply), json!({}), "{outcome}");
        // 300 ms of timeout; the bound is Cognito's, far above it, not a measurement.
        assert!(waited < Duration::from_secs(2), "{outcome}: {waited:?}");
        let logs = lambda.stop();
        assert!(
            logs.contains(&format!("outcome=\"{outcome}\"")) || logs.contains(outcome),
            "{outcome}: {logs}"
        );
        let lines = lookup_lines(&logs, "tenant");
        assert_eq!(lines.len(), 1, "{logs}");
        assert_eq!(lines[0]["LookupFailed"], 1);
        assert_eq!(
            lines[0]["LookupTimedOut"],
            u64::from(outcome == "timed_out")
        );
    }
    // With `on_error: fail` on the lookup, a failed read refuses the sign-in.
    let addr = crate::faults::endpoint_that(throttling);
    let (mut lambda, _dir) = start(
        &table_mapping("tenants", "regions", "    on_error: fail\n"),
        &format!("http://{addr}"),
    );
    match lambda.invoke_bytes(serde_json::to_vec(&event("acme")).unwrap()) {
        Posted::Error { body, .. } => {
            assert_eq!(body["errorType"], "ClaimMappingFailed", "{body}")
        }
        other => panic!("expected an invocation error, got {other:?}"),
    }
    lambda.stop();
}

#[test]
#[ignore = "needs moto_server and the AWS request gate: run scripts/test"]
fn a_cached_item_past_its_ttl_serves_while_the_table_stalls_within_stale_seconds() {
    let tenants = unique("stale");
    create_table(&tenants);
    put(&tenants, &[("pk", "TENANT#acme"), ("plan", "team")]);
    let stalled = Arc::new(AtomicBool::new(false));
    let proxy = crate::faults::switchable_proxy(Arc::clone(&stalled));
    let mapping = table_mapping(
        &tenants,
        "regions",
        "    cache: {ttl_seconds: 1, stale_seconds: 60}\n",
    )
    .replace(
        "  - {claim: region_name, from: lookup.region.name, tokens: [access]}\n",
        "",
    );
    let (mut lambda, _dir) = start(&mapping, &format!("http://{proxy}"));
    assert_eq!(
        access_claims(&lambda.invoke(&event("acme")))["plan"],
        "team"
    );
    stalled.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        access_claims(&lambda.invoke(&event("acme")))["plan"],
        "team"
    );
    let logs = lambda.stop();
    let lines = lookup_lines(&logs, "tenant");
    assert_eq!(lines.len(), 2, "{logs}");
    assert_eq!(lines[1]["LookupStaleServed"], 1);
    assert_eq!(lines[1]["LookupTimedOut"], 1);
}

#[test]
fn the_file_only_function_refuses_a_mapping_with_lookups_at_init() {
    let env = [(
        "CLAIM_MAPPING_FILE",
        "examples/lookups/mapping.yaml".to_owned(),
    )];
    let (status, logs) = Lambda::start_bin(FILE_ONLY, &env).wait();
    assert!(!status.success());
    assert!(
        logs.contains("`lookups.tenant`") && logs.contains("deploy claim-mapper-lambda"),
        "{logs}"
    );
}

#[test]
#[ignore = "needs moto_server and the AWS request gate: run scripts/test"]
fn dry_run_with_live_lookups_reads_the_tables_as_the_function_would() {
    let tenants = unique("live");
    create_table(&tenants);
    put(&tenants, &[("pk", "TENANT#acme"), ("plan", "enterprise")]);
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("mapping.yaml");
    std::fs::write(
        &mapping,
        std::fs::read_to_string(crate::support::root().join("examples/lookups/mapping.yaml"))
            .unwrap()
            .replace("table: tenants", &format!("table: {tenants}")),
    )
    .unwrap();
    let run = |event: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
            .args(["dry-run", "--json", "--live-lookups", "--mapping"])
            .arg(&mapping)
            .arg(crate::support::root().join(event))
            .envs(aws_env(&gate::endpoint()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line: Value = serde_json::from_slice(&out.stdout).unwrap();
        access_claims(&line["output"])
    };
    assert_eq!(
        run("examples/lookups/events/v2-acme.json")["plan"],
        "enterprise"
    );
    assert_eq!(
        run("examples/lookups/events/v2-initech.json")["plan"],
        "free"
    );
    assert_eq!(gate::requests("BatchGetItem", &tenants).len(), 2);
}
