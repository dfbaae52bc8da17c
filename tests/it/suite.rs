//! Test suites (`claim-mapper test`): the suites shipped in `mappings/tests/` pass, a mapping that
//! does not do what they expect fails with what differed, the JUnit report follows the Jenkins
//! JUnit schema, what load refuses is named by file, line, column and field, and the events the
//! suites describe are the events Cognito sends.

use crate::support;

use std::path::Path;
use std::process::Command;

use crate::cli::{cli, stdout};

use claim_mapper::suite::{Suite, SuiteError};
use serde_json::Value;

const SCHEMA: &str = "mappings/tests/schema.json";

fn shipped() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(support::root().join("mappings/tests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// A suite from text, as if it were the file `mappings/tests/t.yaml`.
fn suite(yaml: &str) -> Result<Suite, SuiteError> {
    claim_mapper::load::files::suite_text(yaml, &support::root().join("mappings/tests/t.yaml"))
}

/// The problems of a suite that must be invalid, as the error prints them.
fn problems(yaml: &str) -> String {
    match suite(yaml) {
        Ok(_) => panic!("suite unexpectedly valid:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_shipped_suite_names_its_mapping_and_passes() {
    let files = shipped();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for mapping in ["default", "dev", "prod"] {
        assert!(
            names.contains(&mapping.to_owned()),
            "no suite for {mapping}.yaml"
        );
    }
    let mut cases = 0;
    for file in &files {
        let s = claim_mapper::load::files::suite(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            s.mapping.as_deref().is_some_and(Path::exists),
            "{}",
            file.display()
        );
        cases += s.cases.len();
    }
    let out = cli(&["test"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("{cases} of {cases} cases passed")),
        "{text}"
    );
    assert!(!text.contains("FAIL"), "{text}");
}

#[test]
fn a_mapping_that_does_not_do_what_the_cases_expect_fails_with_what_differed() {
    let out = cli(&[
        "test",
        "mappings/tests/prod.yaml",
        "--mapping",
        "mappings/dev.yaml",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("mappings/tests/prod.yaml: mapping file mappings/dev.yaml"),
        "{text}"
    );
    assert!(
        text.contains("  FAIL  a plan the table does not know is level 0\n        access.claims.plan_level: expected 0, got not added"),
        "{text}"
    );
    assert!(
        text.contains("        id.suppressed: expected to include \"phone_number\", got []"),
        "{text}"
    );
    // The cases dev.yaml happens to satisfy still pass.
    assert!(text.contains("  pass  the tenant falls back to the organisation, then to public"));
}

#[test]
fn expected_errors_ages_and_group_overrides_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "version: 1\non_error: fail\nclaims:\n  - claim: age\n    from: birthdate\n    transform: [age, to_number]\n\
         groups:\n  from: [cognito]\n  rename: { strip_prefix: app- }\n",
    )
    .unwrap();
    let text = "version: 1\nmapping: m.yaml\ntoday: 2026-11-26\ncases:\n\
        - name: ages count from the suite's day\n  event: { attributes: { birthdate: 1990-04-23 }, groups: [app-sales] }\n  expect:\n    access: { claims: { age: 36 } }\n    groups: [sales]\n\
        - name: a date that is not one fails the sign-in\n  event: { attributes: { birthdate: soon } }\n  expect: { error: rule 1 }\n\
        - name: wrong on purpose\n  event: { attributes: { birthdate: 1990-04-23 }, groups: [app-sales] }\n  expect:\n    access: { claims: { age: 35 } }\n    groups: [app-sales]\n\
        - name: wrong error on purpose\n  event: { attributes: { birthdate: soon } }\n  expect: { error: rule 2 }\n";
    let file = dir.path().join("t.yaml");
    std::fs::write(&file, text).unwrap();
    let s = claim_mapper::load::files::suite(&file).unwrap_or_else(|e| panic!("{e}"));
    let loaded = claim_mapper::load::load_file(s.mapping.as_ref().unwrap()).unwrap();
    let today = s.today.unwrap();
    let verdicts: Vec<_> = s
        .cases
        .iter()
        .map(|c| c.run(&loaded.mapping, today))
        .collect();
    assert!(verdicts[0].passed(), "{:?}", verdicts[0].mismatches);
    assert!(verdicts[1].passed(), "{:?}", verdicts[1].mismatches);
    let what: Vec<(&str, &str, &str)> = verdicts[2]
        .mismatches
        .iter()
        .map(|m| (m.what.as_str(), m.expected.as_str(), m.actual.as_str()))
        .collect();
    assert_eq!(
        what,
        [
            ("access.claims.age", "35", "36"),
            ("groups", "[\"app-sales\"]", "[\"sales\"]")
        ]
    );
    assert_eq!(verdicts[3].mismatches[0].what, "error");
    assert!(
        verdicts[3].mismatches[0]
            .actual
            .starts_with("fails on rule 1: ")
    );
}

/// A claim a skipped rule did not add says why the rule failed, not only that nothing came.
#[test]
fn a_claim_not_added_says_why_its_rule_was_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "version: 1\nclaims:\n  - claim: age\n    from: birthdate\n    transform: [age]\n  - claim: plan\n    from: custom:plan\n",
    )
    .unwrap();
    let text = "version: 1\nmapping: m.yaml\ntoday: 2026-11-26\ncases:\n\
        - name: born in the future\n  event: { attributes: { birthdate: 2999-01-01 } }\n  expect:\n    id: { claims: { age: 5, plan: gold } }\n";
    let file = dir.path().join("t.yaml");
    std::fs::write(&file, text).unwrap();
    let s = claim_mapper::load::files::suite(&file).unwrap_or_else(|e| panic!("{e}"));
    let loaded = claim_mapper::load::load_file(s.mapping.as_ref().unwrap()).unwrap();
    let verdict = s.cases[0].run(&loaded.mapping, s.today.unwrap());
    let actual: Vec<&str> = verdict
        .mismatches
        .iter()
        .map(|m| m.actual.as_str())
        .collect();
    assert_eq!(actual.len(), 2, "{actual:?}");
    assert!(
        actual[0].starts_with("not added (rule 1 skipped: ")
            && actual[0].len() > "not added (rule 1 skipped: )".len(),
        "{actual:?}"
    );
    // Missing without a failure: nothing more to say.
    assert_eq!(actual[1], "not added");
}

#[test]
fn described_events_are_the_events_cognito_sends_for_each_version() {
    let s = suite(
        "version: 1\ncases:\n\
         - { name: v1, event: { version: 1 }, expect: { id: { absent: [x] } } }\n\
         - { name: v2, event: { scopes: [openid], client_metadata: { a: b } }, expect: { id: { absent: [x] } } }\n\
         - { name: m2m, event: { version: 3, trigger: TokenGeneration_ClientCredentials, client: m2mclient000001 }, expect: { access: { absent: [x] } } }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<Value> = s.cases.iter().map(|c| c.event().clone()).collect();
    assert_eq!(events[0]["version"], "1");
    assert_eq!(
        events[0]["response"],
        serde_json::json!({"claimsOverrideDetails": null})
    );
    assert!(events[0]["request"].get("scopes").is_none());
    assert_eq!(events[1]["version"], "2");
    assert_eq!(
        events[1]["request"]["scopes"],
        serde_json::json!(["openid"])
    );
    assert_eq!(
        events[1]["request"]["clientMetadata"],
        serde_json::json!({"a": "b"})
    );
    assert_eq!(
        events[1]["request"]["groupConfiguration"],
        serde_json::json!({"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null})
    );
    assert_eq!(events[2]["request"]["groupConfiguration"], Value::Null);
    assert_eq!(
        events[2]["request"]["userAttributes"],
        serde_json::json!({})
    );
    assert_eq!(events[2]["userName"], "m2mclient000001");
    // The engine reads every one of them as a valid event of its version.
    for event in &events {
        claim_mapper::engine::Event::new(event).unwrap();
    }
}

#[test]
fn load_refuses_what_cannot_work_with_file_line_column_and_field() {
    let cases = [
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: {}\n",
            "t.yaml:5:5: field `cases[0].expect`: the case expects nothing",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    event_file: x.json\n    expect: { error: rule 1 }\n",
            "t.yaml:3:5: field `cases[0]`: give the event as `event`",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: { version: 1 }\n    expect: { access: { absent: [x] } }\n",
            "field `cases[0].expect.access`: a version 1 event cannot change the access token",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: { trigger: TokenGeneration_Nope }\n    expect: { error: rule 1 }\n",
            "field `cases[0].event.trigger`: unknown trigger source",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: { trigger: TokenGeneration_ClientCredentials, version: 3, groups: [a] }\n    expect: { error: rule 1 }\n",
            "a client-credentials event has no user",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { error: rule 1, groups: [] }\n",
            "field `cases[0].expect.error`: an event that fails has no response to check",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { error: '3' }\n",
            "name the rule as errors do",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: { attributes: { custom:n: 1.5 } }\n    expect: { error: rule 1 }\n",
            "field `cases[0].event.attributes.custom:n`: YAML reads `1.5` as the decimal number 1.5, and values compare as text: write it quoted ('1.5')",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { id: { scopes_added: [s] } }\n",
            "scopes are in the access token",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { id: { claims: { x: 1 }, absent: [x] } }\n",
            "`x` is expected both with a value and absent",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { error: rule 1 }\n  - name: a\n    event: {}\n    expect: { error: rule 1 }\n",
            "t.yaml:6:5: field `cases[1].name`: another case is named `a`",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event_file: nowhere.json\n    expect: { error: rule 1 }\n",
            "field `cases[0].event_file`: cannot read",
        ),
        (
            "version: 1\ntoday: someday\ncases: []\n",
            "field `today`: not a date",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    evnt: {}\n",
            "t.yaml:4:5: field `cases[0]`: unknown field `evnt`",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event:\n    expect: { error: rule 1 }\n",
            "field `cases[0].event`",
        ),
        // Expectations that could never fail.
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { access: {} }\n",
            "t.yaml:5:15: field `cases[0].expect.access`: `access` expects nothing of the token, so it cannot fail",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { id: { absent: [] } }\n",
            "`id` expects nothing of the token",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: { version: 3, trigger: TokenGeneration_ClientCredentials }\n    expect: { id: { claims: { x: 1 } } }\n",
            "field `cases[0].expect.id`: a client-credentials event has no ID token",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event_file: ../../examples/events/v1-hosted-auth.json\n    expect: { access: { claims: { x: 1 } } }\n",
            "field `cases[0].expect.access`: a version 1 event cannot change the access token",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event_file: ../../examples/events/v3-client-credentials.json\n    expect: { id: { absent: [x] } }\n",
            "field `cases[0].expect.id`: a client-credentials event has no ID token",
        ),
        (
            "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { id: { scopes_absent: [s] } }\n",
            "scopes are in the access token",
        ),
        (
            "version: 1\ncases:\n  - name: \"a\\bb\"\n    event: {}\n    expect: { error: rule 1 }\n",
            "field `cases[0].name`: a case name is one line of text, without control characters",
        ),
    ];
    for (yaml, message) in cases {
        let text = problems(yaml);
        assert!(text.contains(message), "{yaml}\n{text}");
    }
    let out = cli(&["test", "mappings/default.yaml"]);
    assert_eq!(out.status.code(), Some(2), "a mapping is not a test file");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid test file mappings/default.yaml")
    );
}

#[test]
fn the_junit_report_counts_cases_and_lists_what_differed() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("report.xml");
    let out = cli(&[
        "test",
        "mappings/tests/prod.yaml",
        "--mapping",
        "mappings/dev.yaml",
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = std::fs::read_to_string(&xml).unwrap();
    let cases = claim_mapper::load::files::suite(&support::root().join("mappings/tests/prod.yaml"))
        .unwrap()
        .cases
        .len();
    let failed = stdout(&out).matches("  FAIL  ").count();
    assert!(failed > 0);
    assert!(
        report.contains(&format!(
            "<testsuites name=\"claim-mapper test\" tests=\"{cases}\" failures=\"{failed}\" errors=\"0\">"
        )),
        "{report}"
    );
    assert_eq!(report.matches("<testcase ").count(), cases);
    assert_eq!(report.matches("<failure ").count(), failed);
    assert!(report.contains("access.claims.plan_level: expected 0, got not added"));
}

/// Validates `xml` against the Jenkins JUnit schema that `scripts/setup` fetches.
fn validate_junit(xml: &Path) -> Result<(), String> {
    let xsd = std::env::var("CLAIM_MAPPER_TEST_JUNIT_XSD")
        .expect("CLAIM_MAPPER_TEST_JUNIT_XSD is not set: run the tests with scripts/test");
    let out = Command::new(support::root().join(".venv/bin/python"))
        .args([
            "-c",
            "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
            &xsd,
            xml.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
#[ignore = "needs xmlschema and the JUnit schema: run scripts/test"]
fn junit_reports_follow_the_jenkins_junit_schema() {
    let dir = tempfile::tempdir().unwrap();
    for (name, mapping) in [
        ("passing", "mappings/prod.yaml"),
        ("failing", "mappings/dev.yaml"),
    ] {
        let xml = dir.path().join(format!("{name}.xml"));
        let out = cli(&[
            "test",
            "--mapping",
            mapping,
            "mappings/tests/prod.yaml",
            "--coverage",
            "--junit",
            xml.to_str().unwrap(),
        ]);
        assert!(out.status.code().is_some_and(|c| c < 2), "{}", stdout(&out));
        validate_junit(&xml).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // A report of an invalid mapping under test, with an error and no case.
    let bad_mapping = dir.path().join("bad.yaml");
    std::fs::write(
        &bad_mapping,
        "version: 1\nclaims: [{claim: iss, value: x}]\n",
    )
    .unwrap();
    let xml = dir.path().join("invalid.xml");
    let out = cli(&[
        "test",
        "--mapping",
        bad_mapping.to_str().unwrap(),
        "mappings/tests/prod.yaml",
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    validate_junit(&xml).unwrap_or_else(|e| panic!("invalid mapping: {e}"));
    // The check can fail: an attribute the schema does not have is refused.
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        "<testsuites skipped=\"0\"><testsuite name=\"a\" tests=\"0\" failures=\"0\" errors=\"0\"/></testsuites>",
    )
    .unwrap();
    assert!(validate_junit(&bad).is_err());
}

#[test]
fn the_committed_suite_schema_is_the_generated_one_and_accepts_the_shipped_suites() {
    let committed = std::fs::read_to_string(support::root().join(SCHEMA)).unwrap();
    assert!(
        committed == claim_mapper::suite::suite_schema(),
        "{SCHEMA} is stale: run `cargo run -- schema --suite > {SCHEMA}`"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for file in shipped() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text.lines().next(),
            Some("# yaml-language-server: $schema=schema.json"),
            "{}",
            file.display()
        );
        let value: Value = serde_yaml::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
    // And flags a typical mistake.
    let typo: Value = serde_yaml::from_str(
        "version: 1\ncases:\n  - name: a\n    event: {}\n    expect: { id: { claim: {} } }\n",
    )
    .unwrap();
    assert!(!validator.is_valid(&typo));
}

#[test]
fn an_invalid_mapping_under_test_fails_and_a_suite_without_a_mapping_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 1\nclaims: [{claim: iss, value: x}]\n").unwrap();
    let out = cli(&[
        "test",
        "mappings/tests/prod.yaml",
        "--mapping",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("not tested: the mapping is invalid"),
        "{}",
        stdout(&out)
    );
    let unnamed = dir.path().join("unnamed.yaml");
    std::fs::write(
        &unnamed,
        "version: 1\ncases:\n  - { name: a, event: {}, expect: { id: { absent: [x] } } }\n",
    )
    .unwrap();
    let out = cli(&["test", unnamed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no `mapping`"));
    // Given a mapping, the same suite runs.
    let given = cli(&[
        "test",
        unnamed.to_str().unwrap(),
        "--mapping",
        "mappings/prod.yaml",
    ]);
    assert_eq!(given.status.code(), Some(0), "{}", stdout(&given));
}

/// `scopes_absent` asserts that a scope is not added, and fails when it is.
#[test]
fn a_case_can_expect_a_scope_not_to_be_added() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("scopes.yaml");
    let mapping = support::root().join("mappings/default.yaml");
    std::fs::write(
        &suite,
        format!(
            "version: 1\nmapping: {}\ncases:\n  - name: not billing\n    event: {{ groups: [sales] }}\n    expect: {{ access: {{ scopes_absent: [orders-api/read] }} }}\n  - name: billing\n    event: {{ groups: [billing] }}\n    expect: {{ access: {{ scopes_absent: [orders-api/read] }} }}\n",
            mapping.display()
        ),
    )
    .unwrap();
    let out = cli(&["test", suite.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("  pass  not billing"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("access.scopes_absent: expected \"orders-api/read\" not added, got added: [\"orders-api/read\"]"),
        "{}",
        stdout(&out)
    );
}

/// A mapping under test that is invalid still gets a report, which says so: an earlier report
/// is never left in place, and a suite whose own mapping is invalid is in it, not missing.
#[test]
fn an_invalid_mapping_under_test_is_in_the_report_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("report.xml");
    std::fs::write(&xml, "an earlier, passing report").unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 1\nclaims: [{claim: iss, value: x}]\n").unwrap();
    let out = cli(&[
        "test",
        "mappings/tests/prod.yaml",
        "--mapping",
        bad.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = std::fs::read_to_string(&xml).unwrap();
    assert!(report.contains("errors=\"1\""), "{report}");
    assert!(
        report.contains("<error type=\"invalid mapping\""),
        "{report}"
    );
    // A suite of its own invalid mapping, beside one that passes.
    let own = dir.path().join("own.yaml");
    std::fs::write(
        &own,
        format!(
            "version: 1\nmapping: {}\ncases:\n  - {{ name: a, event: {{}}, expect: {{ id: {{ absent: [x] }} }} }}\n",
            bad.display()
        ),
    )
    .unwrap();
    let out = cli(&[
        "test",
        "mappings/tests/prod.yaml",
        own.to_str().unwrap(),
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let cases = claim_mapper::load::files::suite(&support::root().join("mappings/tests/prod.yaml"))
        .unwrap()
        .cases
        .len();
    assert!(
        stdout(&out).contains(&format!(
            "{cases} of {} cases passed; 1 did not run: their mapping is invalid",
            cases + 1
        )),
        "{}",
        stdout(&out)
    );
    let report = std::fs::read_to_string(&xml).unwrap();
    assert_eq!(report.matches("<testsuite ").count(), 2, "{report}");
    assert!(report.contains(&own.display().to_string()), "{report}");
}

/// `--coverage` names every part of the mapping no case fails without, and why; `--min-coverage`
/// fails the run below a share; JSON and JUnit carry the same.
#[test]
fn coverage_names_the_parts_no_case_pins_down() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("m.yaml");
    std::fs::write(
        &mapping,
        "version: 1\nclaims:\n  - {claim: tenant, from: custom:tenant}\n  - {claim: plan, from: custom:plan}\n  - {claim: admin, value: true, when: {groups: [admins]}}\nscopes:\n  add:\n    - {scope: orders/read, when: {groups: [billing]}}\n",
    )
    .unwrap();
    let suite = dir.path().join("s.yaml");
    // The first case pins `tenant`; the second makes `plan` apply but looks only at `tenant`;
    // no case is in `admins` or `billing`.
    std::fs::write(
        &suite,
        "version: 1\nmapping: m.yaml\ncases:\n  - {name: tenant, event: {attributes: {custom:tenant: t1}}, expect: {id: {claims: {tenant: t1}}}}\n  - {name: plan, event: {attributes: {custom:plan: gold}}, expect: {id: {absent: [tenant]}}}\n",
    )
    .unwrap();
    let xml = dir.path().join("report.xml");
    let out = cli(&[
        "test",
        suite.to_str().unwrap(),
        "--coverage",
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let said = stdout(&out);
    assert!(said.contains("1 of 4 parts (25.0%)"), "{said}");
    assert!(
        said.contains("  rule 2 (claim `plan`): applied, but no case fails without it"),
        "{said}"
    );
    assert!(
        said.contains("  rule 3 (claim `admin`): no case makes it apply"),
        "{said}"
    );
    assert!(
        said.contains("  scopes.add[0] (`orders/read`): no case makes it apply"),
        "{said}"
    );
    assert!(!said.contains("rule 1 (claim `tenant`)"), "{said}");
    let report = std::fs::read_to_string(&xml).unwrap();
    assert!(
        report.contains("<property name=\"coverage\" value=\"25.0\"/>"),
        "{report}"
    );
    assert_eq!(report.matches("name=\"uncovered\"").count(), 3, "{report}");
    // Below the minimum: the run fails; at it, it passes.
    let below = cli(&["test", suite.to_str().unwrap(), "--min-coverage", "26"]);
    assert_eq!(below.status.code(), Some(1), "{}", stdout(&below));
    assert!(
        stdout(&below).contains("below --min-coverage 26%"),
        "{}",
        stdout(&below)
    );
    let at = cli(&["test", suite.to_str().unwrap(), "--min-coverage", "25"]);
    assert_eq!(at.status.code(), Some(0), "{}", stdout(&at));
    let json = cli(&["test", suite.to_str().unwrap(), "--coverage", "--json"]);
    let line: Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!(line["passed"], 2);
    assert_eq!(line["coverage"][0]["covered"], 1);
    assert_eq!(
        line["coverage"][0]["uncovered"].as_array().unwrap().len(),
        3
    );
    assert_eq!(line["suites"][0]["cases"][1]["name"], "plan");
}

/// The suites shipped beside the mappings pin down every part of them.
#[test]
fn the_shipped_suites_cover_every_part_of_their_mappings() {
    let out = cli(&["test", "--min-coverage", "100"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    for mapping in ["default", "dev", "prod"] {
        assert!(
            stdout(&out).contains(&format!("coverage of mapping file mappings/{mapping}.yaml")),
            "{}",
            stdout(&out)
        );
    }
    assert!(!stdout(&out).contains("no case"), "{}", stdout(&out));
}
