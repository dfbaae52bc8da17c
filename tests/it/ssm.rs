//! Mappings from SSM, against a real SSM API: `moto_server` on 127.0.0.1, started by
//! `scripts/test`, which exports its address as `CLAIM_MAPPER_TEST_SSM_ENDPOINT`. The Lambda and
//! the CLI run as processes with `AWS_ENDPOINT_URL` pointing at it.
#![cfg(feature = "ssm")]

use crate::support;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use serde_json::{Value, json};
use support::lambda::Lambda;
use support::ssm::{aws_env, endpoint, put_raw, unique};

const V2: &str = "v2-authentication-custom-attrs-groups";

pub(crate) fn mapping_text(file: &str) -> String {
    std::fs::read_to_string(support::root().join(file)).unwrap()
}

/// Runs the CLI against moto.
pub(crate) fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .args(args)
        .envs(aws_env(&endpoint()))
        .current_dir(support::root())
        .output()
        .unwrap()
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub(crate) fn lambda(parameter: &str, extra: &[(&'static str, String)]) -> Lambda {
    let mut env = aws_env(&endpoint());
    env.push(("CLAIM_MAPPING_SSM_PARAMETER", parameter.to_owned()));
    env.extend_from_slice(extra);
    Lambda::start(&env)
}

pub(crate) fn access_claims(body: &Value) -> Value {
    body["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]["claimsToAddOrOverride"].clone()
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn string_and_secure_string_parameters_serve_the_golden_outputs() {
    for kind in [ParameterType::String, ParameterType::SecureString] {
        let name = unique("kinds");
        put_raw(&name, &mapping_text("mappings/default.yaml"), kind.clone());
        let mut l = lambda(&name, &[]);
        for (event, body) in support::fixture_events() {
            assert_eq!(
                l.invoke(&body),
                support::expected(&event),
                "{kind:?} {event}"
            );
        }
        let logs = l.stop();
        assert!(
            logs.contains(&format!("ssm {name} version 1 (sha256:")),
            "{logs}"
        );
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn version_and_label_pins_select_the_version() {
    let name = unique("pins");
    let v1 = put_raw(
        &name,
        &mapping_text("mappings/default.yaml"),
        ParameterType::String,
    );
    let out = cli(&[
        "push",
        "mappings/prod.yaml",
        "--ssm-parameter",
        &name,
        "--label",
        "candidate",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("as version 2\nlabel candidate -> version 2\nfunctions reading")
            && text(&out).contains(&format!("{name}:candidate serve version 2")),
        "{}",
        text(&out)
    );

    let event = support::fixture(V2);
    let default_claims = access_claims(&support::expected(V2));
    for (reference, prod) in [
        (format!("{name}:{v1}"), false),
        (format!("{name}:candidate"), true),
        (name.clone(), true),
    ] {
        let mut l = lambda(&reference, &[]);
        let claims = access_claims(&l.invoke(&event));
        assert_eq!(claims == default_claims, !prod, "{reference}: {claims}");
        assert_eq!(
            claims.get("plan_level").is_some(),
            prod,
            "{reference}: {claims}"
        );
        l.stop();
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn unreadable_or_invalid_parameters_fail_the_init_naming_parameter_and_cause() {
    let missing = unique("missing");
    let (status, logs) = lambda(&missing, &[]).wait();
    assert!(!status.success());
    assert!(
        logs.contains(&format!("cannot read SSM parameter {missing}: not found")),
        "{logs}"
    );

    let bad_yaml = unique("yaml");
    put_raw(
        &bad_yaml,
        "version: 1\nclaims:\n  - claim: a\n   from: x\n",
        ParameterType::String,
    );
    let (status, logs) = lambda(&bad_yaml, &[]).wait();
    assert!(!status.success());
    assert!(
        logs.contains(&format!(
            "invalid mapping {bad_yaml} (version 1): 1 problem"
        )),
        "{logs}"
    );
    assert!(
        logs.contains(&format!("{bad_yaml} (version 1):4:")),
        "line/column: {logs}"
    );

    // Problems are located, but the log never quotes the parameter (it may be a SecureString).
    let invalid = unique("invalid");
    put_raw(
        &invalid,
        "version: 1\nclaims:\n  - claim: sub\n    from: email\n  - claim: key\n    value: s3cr3t-api-key\n    required: s3cr3t-flag\n",
        ParameterType::SecureString,
    );
    let (status, logs) = lambda(&invalid, &[]).wait();
    assert!(!status.success());
    assert!(
        logs.contains(&format!(
            "{invalid} (version 1):7:15: rule 2, field `claims[1].required`"
        )),
        "{logs}"
    );
    assert!(logs.contains("messages withheld from logs"), "{logs}");
    assert!(
        !logs.contains("s3cr3t"),
        "parameter content in the logs: {logs}"
    );
    let valid_yaml_bad_rule = unique("invalid-rule");
    put_raw(
        &valid_yaml_bad_rule,
        "version: 1\nclaims:\n  - claim: sub\n    from: email\n",
        ParameterType::String,
    );
    let (status, logs) = lambda(&valid_yaml_bad_rule, &[]).wait();
    assert!(!status.success());
    assert!(
        logs.contains(&format!(
            "{valid_yaml_bad_rule} (version 1):3:5: rule 1, field `claims[0].claim`"
        )),
        "{logs}"
    );
    assert!(
        !logs.contains("is set by Cognito"),
        "the message is withheld: {logs}"
    );
    // The operator's own terminal shows everything.
    let dry = std::process::Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .args(["dry-run", "--ssm-parameter", &valid_yaml_bad_rule])
        .envs(aws_env(&endpoint()))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&dry.stderr)
            .contains("rule 1 (claim `sub`), field `claims[0].claim`: `sub` is set by Cognito"),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );

    let (status, logs) = lambda(&format!("{invalid}:9"), &[]).wait();
    assert!(!status.success());
    assert!(logs.contains("not found"), "{logs}");
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn the_file_is_the_fallback_when_the_parameter_is_unusable() {
    let invalid = unique("fallback");
    put_raw(
        &invalid,
        "version: 1\nclaims: [{claim: exp, value: 1}]\n",
        ParameterType::String,
    );
    for parameter in [unique("absent"), invalid] {
        let mut l = lambda(
            &parameter,
            &[("CLAIM_MAPPING_FILE", "mappings/default.yaml".into())],
        );
        assert_eq!(l.invoke(&support::fixture(V2)), support::expected(V2));
        let logs = l.stop();
        assert!(
            logs.contains("SSM mapping unusable; serving the fallback file"),
            "{logs}"
        );
        assert!(logs.contains(&parameter), "{logs}");
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn refresh_moves_from_the_fallback_file_to_the_parameter_once_it_is_good() {
    let name = unique("recover");
    // A refresh interval far longer than the test: the fallback tries the parameter again within
    // seconds, not after the interval.
    let mut l = lambda(
        &name,
        &[
            ("CLAIM_MAPPING_FILE", "mappings/default.yaml".into()),
            ("CLAIM_MAPPING_REFRESH_SECONDS", "600".into()),
        ],
    );
    let event = support::fixture(V2);
    assert_eq!(
        l.invoke(&event),
        support::expected(V2),
        "the file serves first"
    );
    put_raw(
        &name,
        &mapping_text("mappings/prod.yaml"),
        ParameterType::String,
    );
    let claims = invoke_until(&mut l, &event, |c| c.get("plan_level").is_some());
    assert_eq!(claims["plan_level"], json!(3));
    let logs = l.stop();
    assert!(logs.contains(&format!("mapping refreshed live=ssm {name} version 1")));
    let lines = support::emf::lines(&logs);
    assert_eq!(lines[0]["FallbackServed"], 1);
    assert_eq!(lines.last().unwrap()["FallbackServed"], 0);
    assert_eq!(support::emf::sum(&lines, "MappingRefreshed"), 1);
}

/// Invokes until the access-token claims satisfy `done`, for at most 15 s (refresh runs in the
/// background; this bounds a wait, it does not measure speed).
/// A parameter deleted and created again starts over at version 1: the refresh tells the new
/// text from the live one by its digest, not by the version alone.
#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn refresh_picks_up_a_parameter_created_again_at_the_same_version() {
    let name = unique("recreated");
    let first = put_raw(
        &name,
        &mapping_text("mappings/default.yaml"),
        ParameterType::String,
    );
    let mut l = lambda(&name, &[("CLAIM_MAPPING_REFRESH_SECONDS", "1".into())]);
    let event = support::fixture(V2);
    assert!(access_claims(&l.invoke(&event)).get("plan_level").is_none());

    support::ssm::delete(&name);
    let again = put_raw(
        &name,
        &mapping_text("mappings/prod.yaml"),
        ParameterType::String,
    );
    assert_eq!(
        again, first,
        "moto starts the new parameter over at the same version"
    );
    let claims = invoke_until(&mut l, &event, |c| c.get("plan_level").is_some());
    assert_eq!(claims["plan_level"], json!(3), "the new text went live");
    assert!(l.stop().contains("mapping refreshed"));
}

fn invoke_until(l: &mut Lambda, event: &Value, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let claims = access_claims(&l.invoke(event));
        if done(&claims) || start.elapsed() > Duration::from_secs(15) {
            return claims;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn refresh_picks_up_new_versions_and_rejects_bad_ones() {
    let name = unique("refresh");
    put_raw(
        &name,
        &mapping_text("mappings/default.yaml"),
        ParameterType::String,
    );
    let mut l = lambda(&name, &[("CLAIM_MAPPING_REFRESH_SECONDS", "1".into())]);
    let event = support::fixture(V2);
    assert_eq!(
        access_claims(&l.invoke(&event)),
        access_claims(&support::expected(V2))
    );

    put_raw(
        &name,
        &mapping_text("mappings/prod.yaml"),
        ParameterType::String,
    );
    let claims = invoke_until(&mut l, &event, |c| c.get("plan_level").is_some());
    assert_eq!(claims["plan_level"], json!(3), "version 2 went live");

    let bad = put_raw(
        &name,
        "version: 1\nclaims: [{claim: sub, from: email}, {claim: k, value: s3cr3t-token, required: s3cr3t-flag}]\n",
        ParameterType::String,
    );
    std::thread::sleep(Duration::from_millis(2500));
    for _ in 0..5 {
        assert_eq!(
            access_claims(&l.invoke(&event))["plan_level"],
            json!(3),
            "the last good mapping keeps serving"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let logs = l.stop();
    assert!(logs.contains("mapping refreshed"), "{logs}");
    assert!(logs.contains(&format!("rejected_version={bad}")), "{logs}");
    // The metric lines count the same: the refreshes, the one rejected version, and the version
    // each invocation was served.
    let lines = support::emf::lines(&logs);
    lines.iter().for_each(support::emf::validate);
    assert!(
        support::emf::sum(&lines, "MappingRefreshed") >= 1,
        "{lines:?}"
    );
    assert_eq!(support::emf::sum(&lines, "MappingVersionRejected"), 1);
    assert_eq!(support::emf::sum(&lines, "FallbackServed"), 0);
    let last = lines.last().unwrap();
    assert_eq!(last["mapping_source"], "ssm");
    assert_eq!(last["mapping_version"], json!(bad - 1));
    assert_eq!(
        logs.matches(&format!("rejected_version={bad}")).count(),
        1,
        "reported once: {logs}"
    );
    assert!(
        logs.contains("field `claims[1].required`"),
        "located: {logs}"
    );
    assert!(
        !logs.contains("s3cr3t"),
        "parameter content in the logs: {logs}"
    );
    assert!(
        logs.contains(&format!("ssm {name} version 2")),
        "lines name the live version: {logs}"
    );
}

#[test]
fn an_unreachable_endpoint_fails_fast() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut env = aws_env(&format!("http://{closed}"));
    env.push(("CLAIM_MAPPING_SSM_PARAMETER", "/unreachable".into()));
    let start = Instant::now();
    let (status, logs) = Lambda::start(&env).wait();
    let waited = start.elapsed();
    assert!(!status.success());
    assert!(
        logs.contains("cannot read SSM parameter /unreachable: network error"),
        "{logs}"
    );
    // The client's budget is 1.5 s per call; 4 s is Cognito's 5 s minus margin.
    assert!(waited < Duration::from_secs(4), "init waited {waited:?}");

    env.push(("CLAIM_MAPPING_FILE", "mappings/default.yaml".into()));
    let mut l = Lambda::start(&env);
    assert_eq!(l.invoke(&support::fixture(V2)), support::expected(V2));
    let logs = l.stop();
    assert!(logs.contains("serving the fallback file"), "{logs}");
    assert!(logs.contains("live=fallback file"), "{logs}");
    // Counted as what it is.
    let lines = support::emf::lines(&logs);
    assert_eq!(lines.len(), 1, "{logs}");
    support::emf::validate(&lines[0]);
    assert_eq!(lines[0]["FallbackServed"], 1);
    assert_eq!(lines[0]["mapping_source"], "fallback");
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_refuses_invalid_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 1\nclaims: [{claim: iss, value: x}]\n").unwrap();
    let name = unique("push-invalid");
    let out = cli(&["push", bad.to_str().unwrap(), "--ssm-parameter", &name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("not pushed: the mapping is invalid"),
        "{}",
        text(&out)
    );
    let after = cli(&["dry-run", "--ssm-parameter", &name]);
    assert!(
        text(&after).contains("not found"),
        "nothing was created: {}",
        text(&after)
    );
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_with_tests_publishes_only_a_mapping_that_passes_them() {
    let name = unique("push-tested");
    // dev.yaml does not do what prod's cases expect: refused, nothing written.
    let out = cli(&[
        "push",
        "mappings/dev.yaml",
        "--ssm-parameter",
        &name,
        "--test",
        "mappings/tests/prod.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("  FAIL  "), "{}", text(&out));
    assert!(
        text(&out).contains("not pushed: a test case failed"),
        "{}",
        text(&out)
    );
    let after = cli(&["dry-run", "--ssm-parameter", &name]);
    assert!(
        text(&after).contains("not found"),
        "nothing was written: {}",
        text(&after)
    );
    // prod.yaml passes them: pushed, and the tested text is what the parameter holds.
    let out = cli(&[
        "push",
        "mappings/prod.yaml",
        "--ssm-parameter",
        &name,
        "--create",
        "--test",
        "mappings/tests/prod.yaml",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("FAIL"), "{}", text(&out));
    let tested = cli(&["test", "mappings/tests/prod.yaml", "--ssm-parameter", &name]);
    assert!(tested.status.success(), "{}", text(&tested));
    assert!(
        text(&tested).contains(&format!("mapping ssm {name} version 1")),
        "{}",
        text(&tested)
    );
    // An invalid test file stops the push before anything is read or written.
    let out = cli(&[
        "push",
        "mappings/prod.yaml",
        "--ssm-parameter",
        &name,
        "--test",
        "mappings/prod.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// `push --json`: one object whatever happened, for CI: why nothing was pushed (with the
/// failing cases), or the version, type and label pushed.
#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_json_says_what_was_pushed_or_why_not_in_one_object() {
    let name = unique("push-json");
    let push = |file: &str, extra: &[&str]| {
        let mut args = vec!["push", file, "--ssm-parameter", &name, "--json"];
        args.extend_from_slice(extra);
        let out = cli(&args);
        let line: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("one JSON object: {}", text(&out)));
        (out.status.code(), line)
    };
    let tests = ["--test", "mappings/tests/prod.yaml"];
    let (code, refused) = push("mappings/dev.yaml", &tests);
    assert_eq!(code, Some(1));
    assert_eq!(refused["pushed"], false);
    assert_eq!(refused["reason"], "a test case failed");
    let cases = refused["tests"][0]["cases"].as_array().unwrap();
    assert!(cases.iter().any(|c| c["passed"] == false), "{refused}");
    assert!(refused.get("version").is_none());

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 1\nclaims: [{claim: iss, value: x}]\n").unwrap();
    let (code, invalid) = push(bad.to_str().unwrap(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(invalid["reason"], "the mapping is invalid");
    assert_eq!(invalid["problems"][0]["line"], 2, "{invalid}");

    let (code, pushed) = push(
        "mappings/prod.yaml",
        &[
            "--create",
            "--label",
            "live",
            tests[0],
            tests[1],
            "--min-coverage",
            "100",
        ],
    );
    assert_eq!(code, Some(0), "{pushed}");
    assert_eq!(pushed["pushed"], true);
    assert_eq!(pushed["version"], 1);
    assert_eq!(pushed["type"], "String");
    assert_eq!(pushed["created"], true);
    assert_eq!(pushed["label"], "live");
    assert_eq!(pushed["coverage"]["percent"], 100.0, "{pushed}");
    assert_eq!(pushed["parameter"], json!(name));
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_prints_warnings_then_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let warned = dir.path().join("warned.yaml");
    std::fs::write(
        &warned,
        "version: 1\nclaims:\n  - {claim: department, from: department}\n",
    )
    .unwrap();
    let name = unique("push-warned");
    let out = cli(&[
        "push",
        warned.to_str().unwrap(),
        "--ssm-parameter",
        &name,
        "--create",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    let warning = said.find("warning: ").expect("the warning is printed");
    assert!(
        said[warning..].contains("did you mean `custom:department`?"),
        "{said}"
    );
    assert!(
        warning < said.find("pushed ").unwrap(),
        "warnings come first: {said}"
    );
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_refuses_a_label_ssm_would_refuse_before_writing() {
    let name = unique("push-bad-label");
    for label in ["bad label!", "3rd", "aws-live", "SSMlive"] {
        let out = cli(&[
            "push",
            "mappings/default.yaml",
            "--ssm-parameter",
            &name,
            "--label",
            label,
        ]);
        assert_eq!(out.status.code(), Some(2), "{label}: {}", text(&out));
        assert!(text(&out).contains("invalid --label"), "{}", text(&out));
    }
    let after = cli(&["dry-run", "--ssm-parameter", &name]);
    assert!(
        text(&after).contains("not found"),
        "nothing was written: {}",
        text(&after)
    );
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_secure_then_dry_run_by_label() {
    let name = unique("push-label");
    let out = cli(&[
        "push",
        "mappings/default.yaml",
        "--ssm-parameter",
        &name,
        "--create",
        "--secure",
        "--label",
        "live",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("as version 1\nlabel live -> version 1"),
        "{}",
        text(&out)
    );
    let dry = cli(&[
        "dry-run",
        "--json",
        "--ssm-parameter",
        &format!("{name}:live"),
        &format!("examples/events/{V2}.json"),
    ]);
    assert!(dry.status.success(), "{}", text(&dry));
    let line: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(line["output"], support::expected(V2));
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn diff_shows_claims_that_appear_disappear_and_change() {
    let name = unique("diff");
    put_raw(
        &name,
        &mapping_text("mappings/default.yaml"),
        ParameterType::String,
    );
    let same = cli(&["diff", "mappings/default.yaml", "--ssm-parameter", &name]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(
        text(&same).contains(&format!(
            "0 of {} events change",
            support::fixture_events().len()
        )),
        "{}",
        text(&same)
    );

    let out = cli(&[
        "diff",
        "mappings/prod.yaml",
        "--ssm-parameter",
        &name,
        &format!("examples/events/{V2}.json"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    for needle in [
        &format!("before: ssm {name} version 1"),
        "after:  file mappings/prod.yaml",
        "  access token:\n",
        "    + plan_level = 3",
        "    - seats (was 25)",
        "    - display_name (was \"Jane Doe\")",
        "    + scope suppressed aws.cognito.signin.user.admin",
        "1 of 1 events change",
    ] {
        assert!(report.contains(needle), "{needle:?} in\n{report}");
    }

    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("changed.yaml");
    std::fs::write(
        &changed,
        mapping_text("mappings/default.yaml").replace(
            "transform: [trim, lowercase]",
            "transform: [trim, uppercase]",
        ),
    )
    .unwrap();
    let out = cli(&[
        "diff",
        changed.to_str().unwrap(),
        "--ssm-parameter",
        &name,
        &format!("examples/events/{V2}.json"),
    ]);
    assert!(
        text(&out).contains("    ~ plan: \"gold\" -> \"GOLD\""),
        "{}",
        text(&out)
    );

    // Events that cannot be read are not "no changes": the diff cannot run (exit 2, stderr).
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{not json").unwrap();
    for events in [garbage.to_str().unwrap(), "no/such/events"] {
        let out = cli(&[
            "diff",
            "mappings/default.yaml",
            "--ssm-parameter",
            &name,
            events,
        ]);
        assert_eq!(out.status.code(), Some(2), "{events}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot read event") || stderr.contains("the event is not JSON"),
            "{stderr}"
        );
    }
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn release_moves_the_label_forward_and_back_and_refuses_an_invalid_version() {
    let name = unique("release");
    let dev = put_raw(
        &name,
        &mapping_text("mappings/dev.yaml"),
        ParameterType::String,
    );
    let prod = put_raw(
        &name,
        &mapping_text("mappings/prod.yaml"),
        ParameterType::String,
    );
    let live = format!("{name}:live");
    let release = |version: i64| {
        cli(&[
            "release",
            "--ssm-parameter",
            &name,
            "--version",
            &version.to_string(),
        ])
    };
    let out = release(prod);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("label live -> version {prod}"))
            && text(&out).contains("was no version")
            // When the fleet serves it, and the query that shows it per instance.
            && text(&out).contains(&format!(
                "reading {name}:live serve version {prod} from their first sign-ins after their \
                 refresh interval (CLAIM_MAPPING_REFRESH_SECONDS"
            ))
            && text(&out).contains("stats latest(mapping_version) as version"),
        "{}",
        text(&out)
    );
    let served = cli(&["dry-run", "--ssm-parameter", &live]);
    assert!(
        text(&served).contains(&format!("version {prod}")),
        "{}",
        text(&served)
    );
    // Roll back.
    let out = release(dev);
    assert!(
        text(&out).contains(&format!("was version {prod}")),
        "{}",
        text(&out)
    );
    let served = cli(&["dry-run", "--ssm-parameter", &live]);
    assert!(
        text(&served).contains(&format!("version {dev}")),
        "{}",
        text(&served)
    );
    // A version that holds an invalid mapping is not released; the label stays.
    let bad = put_raw(&name, "version: 2\n", ParameterType::String);
    let out = release(bad);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not released"), "{}", text(&out));
    let served = cli(&["dry-run", "--ssm-parameter", &live]);
    assert!(
        text(&served).contains(&format!("version {dev}")),
        "{}",
        text(&served)
    );
    // The same as JSON, for CI: the move, and the refusal.
    let json = |version: i64| {
        let out = cli(&[
            "release",
            "--ssm-parameter",
            &name,
            "--version",
            &version.to_string(),
            "--json",
        ]);
        let line: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
        (out.status.code(), line)
    };
    let (code, line) = json(prod);
    assert_eq!(code, Some(0));
    assert_eq!(line["released"], true);
    assert_eq!(line["version"], prod);
    assert_eq!(line["was"], dev);
    assert_eq!(line["label"], "live");
    assert!(line["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(
        line["watch"]
            .as_str()
            .unwrap()
            .starts_with("filter ispresent(mapping_version) | stats latest(mapping_version)"),
        "{line}"
    );
    let (code, line) = json(bad);
    assert_eq!(code, Some(1));
    assert_eq!(line["released"], false);
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("unsupported mapping version 2"),
        "{line}"
    );
    // No such version, or a label SSM would refuse: the command cannot run.
    assert_eq!(release(bad + 10).status.code(), Some(2));
    let refused_label = cli(&[
        "release",
        "--ssm-parameter",
        &name,
        "--version",
        &dev.to_string(),
        "--label",
        "aws-live",
    ]);
    assert_eq!(refused_label.status.code(), Some(2));
    assert!(
        text(&refused_label).contains("invalid --label"),
        "{}",
        text(&refused_label)
    );
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_keeps_the_type_and_key_of_an_existing_parameter_and_creates_only_when_asked() {
    use support::ssm::{kind_and_key, put_raw_with_key};
    let name = unique("push-keeps");
    let key = "alias/team-mappings";
    put_raw_with_key(
        &name,
        &mapping_text("mappings/dev.yaml"),
        ParameterType::SecureString,
        Some(key),
    );
    // A push without --secure or --kms-key-id keeps the SecureString and its key.
    let out = cli(&["push", "mappings/prod.yaml", "--ssm-parameter", &name]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("a SecureString with key {key}")),
        "{}",
        text(&out)
    );
    assert_eq!(
        kind_and_key(&name),
        ("SecureString".into(), Some(key.into()))
    );
    let sent = support::gate::requests("PutParameter", &name);
    let ours = sent.last().unwrap();
    assert_eq!(ours["input"]["KeyId"], key, "{ours}");
    assert_eq!(ours["violations"], json!([]), "{ours}");

    // A String cannot become a SecureString: refused before anything is written.
    let plain = unique("push-plain");
    let v1 = put_raw(
        &plain,
        &mapping_text("mappings/dev.yaml"),
        ParameterType::String,
    );
    let out = cli(&[
        "push",
        "mappings/prod.yaml",
        "--ssm-parameter",
        &plain,
        "--secure",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cannot make an existing String"),
        "{}",
        text(&out)
    );
    let served = cli(&["dry-run", "--ssm-parameter", &plain]);
    assert!(
        text(&served).contains(&format!("version {v1}")),
        "{}",
        text(&served)
    );

    // A name that does not exist is not created without --create.
    let typo = unique("push-typo");
    let out = cli(&["push", "mappings/prod.yaml", "--ssm-parameter", &typo]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--create"), "{}", text(&out));
    assert!(support::gate::requests("PutParameter", &typo).is_empty());
    // With --create --secure --kms-key-id, a SecureString under that key.
    let out = cli(&[
        "push",
        "mappings/prod.yaml",
        "--ssm-parameter",
        &typo,
        "--create",
        "--secure",
        "--kms-key-id",
        key,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        kind_and_key(&typo),
        ("SecureString".into(), Some(key.into()))
    );
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn test_with_an_invalid_mapping_in_the_parameter_fails_its_cases() {
    let name = unique("test-invalid");
    put_raw(&name, "version: 2\n", ParameterType::String);
    let out = cli(&[
        "test",
        "mappings/tests/default.yaml",
        "--ssm-parameter",
        &name,
    ]);
    // As with --mapping: the mapping under test is invalid, which fails its cases (exit 1); it
    // is not a command that could not run (exit 2).
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not tested: the mapping is invalid"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("did not run"), "{}", text(&out));
}

/// A version over a limit of the format, put into the parameter by hand (`aws ssm put-parameter`
/// skips `push`'s checks), is rejected at refresh before any of it is compiled: the function's
/// memory does not grow by what compiling it would take (100 regexes took 33 MB).
#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn an_over_limit_version_is_rejected_at_refresh_without_compiling_it() {
    let name = unique("over-limit");
    put_raw(
        &name,
        &mapping_text("mappings/default.yaml"),
        ParameterType::String,
    );
    let mut l = lambda(&name, &[("CLAIM_MAPPING_REFRESH_SECONDS", "1".into())]);
    let event = support::fixture(V2);
    assert_eq!(
        access_claims(&l.invoke(&event)),
        access_claims(&support::expected(V2))
    );
    let before = l.memory_kb("VmHWM");
    let mut over = String::from("version: 1\nclaims:\n");
    let mut n = 0;
    // As many regexes as a parameter holds (8 KB), past the limit of 64.
    while over.len() < 8000 {
        over.push_str(&format!(
            "  - {{claim: c{n}, from: x, transform: {{replace: {{pattern: '\\w{{5}}', with: ''}}}}}}\n"
        ));
        n += 1;
    }
    assert!(n > claim_mapper::mapping::MAX_REGEXES, "{n}");
    let bad = put_raw(&name, &over, ParameterType::String);
    std::thread::sleep(Duration::from_millis(2500));
    for _ in 0..3 {
        assert_eq!(
            access_claims(&l.invoke(&event)),
            access_claims(&support::expected(V2)),
            "the last good mapping keeps serving"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let grown = l.memory_kb("VmHWM").saturating_sub(before);
    let logs = l.stop();
    assert!(logs.contains(&format!("rejected_version={bad}")), "{logs}");
    assert!(
        grown < 8 * 1024,
        "the peak grew by {grown} KB rejecting it: {logs}"
    );
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_can_require_the_cases_to_cover_the_mapping() {
    let name = unique("push-coverage");
    let dir = tempfile::tempdir().unwrap();
    // prod.yaml's own suite covers it whole; dev.yaml's cases cover only part of prod.yaml.
    let partial = dir.path().join("partial.yaml");
    std::fs::write(
        &partial,
        "version: 1\ncases:\n  - {name: tenant, event: {}, expect: {id: {claims: {tenant: public}}}}\n",
    )
    .unwrap();
    let push = |suite: &str| {
        cli(&[
            "push",
            "mappings/prod.yaml",
            "--ssm-parameter",
            &name,
            "--create",
            "--test",
            suite,
            "--min-coverage",
            "100",
        ])
    };
    let refused = push(partial.to_str().unwrap());
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("not pushed: the cases cover less than 100%"),
        "{}",
        text(&refused)
    );
    assert!(support::gate::requests("PutParameter", &name).is_empty());
    let pushed = push("mappings/tests/prod.yaml");
    assert!(pushed.status.success(), "{}", text(&pushed));
}

/// The CLI against moto in another Region than the tests' default.
fn cli_in(region: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .args(args)
        .envs(aws_env(&endpoint()))
        .env("AWS_REGION", region)
        .current_dir(support::root())
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs moto_server, the local SSM API: run scripts/test"]
fn push_and_release_reach_every_region_given() {
    const TWO: [&str; 4] = ["--region", "us-east-1", "--region", "eu-west-1"];
    let name = unique("regions");
    let live = format!("{name}:live");
    let serves = |region: &str, version: i64| {
        let out = cli_in(region, &["dry-run", "--ssm-parameter", &live]);
        let said = text(&out);
        out.status.success() && said.contains(&format!("mapping ssm {live} version {version} ("))
    };
    let push = |file: &str, extra: &[&str]| {
        let mut args = vec!["push", file, "--ssm-parameter", &name, "--create"];
        args.extend_from_slice(extra);
        // Started from a third Region: --region, not the configured one, decides.
        cli_in("ap-south-1", &args)
    };

    let mut first: Vec<&str> = vec!["--label", "live"];
    first.extend_from_slice(&TWO);
    let out = push("mappings/prod.yaml", &first);
    assert!(out.status.success(), "{}", text(&out));
    for region in ["us-east-1", "eu-west-1"] {
        assert!(
            text(&out).contains(&format!(
                "{region}: pushed mappings/prod.yaml to {name} (created as a String) as version 1\n{region}: label live -> version 1"
            )),
            "{}",
            text(&out)
        );
        assert!(serves(region, 1), "{region}");
    }
    let elsewhere = cli_in("ap-south-1", &["dry-run", "--ssm-parameter", &live]);
    assert_eq!(elsewhere.status.code(), Some(2), "{}", text(&elsewhere));

    // Each Region numbers its versions itself: version 2 is dev.yaml in one, default.yaml in the
    // other. Releasing it in both is refused, and no label moves.
    assert!(
        push("mappings/dev.yaml", &["--region", "us-east-1"])
            .status
            .success()
    );
    assert!(
        push("mappings/default.yaml", &["--region", "eu-west-1"])
            .status
            .success()
    );
    let mut release = vec!["release", "--ssm-parameter", &name, "--version", "2"];
    release.extend_from_slice(&TWO);
    let out = cli(&release);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "version 2 of {name} holds another text in eu-west-1 than in us-east-1: nothing released"
        )),
        "{}",
        text(&out)
    );
    assert!(serves("us-east-1", 1) && serves("eu-west-1", 1));

    // The same file pushed to both (version 3 in each) is released in both, one JSON line each.
    let mut json = vec!["--json"];
    json.extend_from_slice(&TWO);
    let out = push("mappings/prod.yaml", &json);
    let pushed: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert_eq!(pushed["pushed"], true);
    assert_eq!(
        pushed["regions"],
        json!([
            {"region": "us-east-1", "version": 3, "type": "String", "created": false},
            {"region": "eu-west-1", "version": 3, "type": "String", "created": false},
        ])
    );
    let mut release = vec![
        "release",
        "--ssm-parameter",
        &name,
        "--version",
        "3",
        "--json",
    ];
    release.extend_from_slice(&TWO);
    let out = cli(&release);
    assert!(out.status.success(), "{}", text(&out));
    let lines: Vec<Value> = text(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&out));
    for (line, region) in lines.iter().zip(["us-east-1", "eu-west-1"]) {
        assert_eq!(
            (&line["region"], &line["released"], &line["was"]),
            (&json!(region), &json!(true), &json!(1))
        );
        assert!(serves(region, 3), "{region}");
    }

    // A candidate in both Regions, one JSON line each; ended in both; then none to promote.
    let in_both = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend_from_slice(&["--json"]);
        args.extend_from_slice(&TWO);
        let out = cli(&args);
        let lines: Vec<Value> = text(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("{}", text(&out))))
            .collect();
        assert_eq!(lines.len(), 2, "{}", text(&out));
        (out.status.code(), lines)
    };
    let (code, lines) = in_both(&[
        "release",
        "--ssm-parameter",
        &name,
        "--version",
        "3",
        "--canary",
        "10",
    ]);
    assert_eq!(code, Some(0));
    for (line, region) in lines.iter().zip(["us-east-1", "eu-west-1"]) {
        assert_eq!(
            (&line["region"], &line["label"], &line["share"]),
            (&json!(region), &json!("canary-10"), &json!(10))
        );
    }
    let (code, lines) = in_both(&["abort", "--ssm-parameter", &name]);
    assert_eq!(code, Some(0));
    for line in &lines {
        assert_eq!(line["ended"], json!([{"label": "canary-10", "version": 3}]));
    }
    let (code, lines) = in_both(&["promote", "--ssm-parameter", &name]);
    assert_eq!(code, Some(1), "no candidate to promote");
    assert!(lines.iter().all(|l| l["promoted"] == false));
    assert!(serves("us-east-1", 3) && serves("eu-west-1", 3));
}
