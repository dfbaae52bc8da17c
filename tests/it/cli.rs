//! The `claim-mapper` CLI: `validate` and `dry-run`, run as a process.

use crate::support;

use std::process::{Command, Output};

use serde_json::Value;

/// Runs the CLI from the repository root.
pub(crate) fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .args(args)
        .current_dir(support::root())
        .output()
        .unwrap()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_lists_every_error_and_sets_the_exit_code() {
    let ok = cli(&[
        "validate",
        "mappings/default.yaml",
        "mappings/dev.yaml",
        "mappings/prod.yaml",
    ]);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("mappings/prod.yaml: valid ("));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 1\nclaims:\n  - claim: exp\n    value: 1\n  - claim: x\n    from: y\n    transform: [nope]\n").unwrap();
    let out = cli(&["validate", "mappings/default.yaml", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("mappings/default.yaml: valid"), "{text}");
    assert!(text.contains("2 problems"), "{text}");
    assert!(
        text.contains("bad.yaml:3:5: rule 1 (claim `exp`)"),
        "{text}"
    );
    assert!(text.contains("bad.yaml:7:17: rule 2 (claim `x`), field `claims[1].transform[0]`: unknown transform `nope`"), "{text}");
    // A file that cannot be read is not a verdict on a mapping: stderr, exit 2, after the rest.
    let unreadable = cli(&["validate", "missing.yaml", "mappings/default.yaml"]);
    assert_eq!(unreadable.status.code(), Some(2));
    assert!(stdout(&unreadable).contains("mappings/default.yaml: valid"));
    let stderr = String::from_utf8_lossy(&unreadable.stderr);
    assert!(
        stderr.contains("error: cannot read mapping missing.yaml"),
        "{stderr}"
    );
}

#[test]
fn dry_run_json_is_the_lambda_output() {
    let out = cli(&["dry-run", "--json", "--today", "2026-11-26"]);
    assert!(out.status.success());
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), support::fixture_events().len());
    for line in lines {
        let file = line["file"].as_str().unwrap();
        let name = std::path::Path::new(file)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap();
        let expected: Value = serde_json::from_slice(
            &std::fs::read(support::root().join(format!("examples/expected/{name}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(line["output"], expected, "{file}");
        assert!(line["warnings"].is_array());
    }
    // Byte for byte what the function writes: its handler's reply, serialised as lambda_runtime
    // serialises it.
    #[derive(serde::Deserialize)]
    struct Line {
        file: String,
        output: Box<serde_json::value::RawValue>,
    }
    let mapping = std::sync::Arc::new(
        claim_mapper::load::load_file(&support::root().join("mappings/default.yaml")).unwrap(),
    );
    for text in stdout(&out).lines() {
        let line: Line = serde_json::from_str(text).unwrap();
        let event =
            serde_json::from_slice(&std::fs::read(support::root().join(&line.file)).unwrap())
                .unwrap();
        let reply = claim_mapper::runtime::lambda::handle(
            std::sync::Arc::clone(&mapping),
            event,
            support::TODAY,
        )
        .0
        .unwrap();
        assert_eq!(
            line.output.get(),
            serde_json::to_string(&reply).unwrap(),
            "{}",
            line.file
        );
    }
}

#[test]
fn dry_run_human_report_shows_tokens_and_warnings() {
    let out = cli(&[
        "dry-run",
        "examples/events/v2-doc-quirks.json",
        "examples/events/v1-hosted-auth.json",
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.starts_with("mapping file mappings/default.yaml (sha256:"),
        "{text}"
    );
    for needle in [
        "trigger TokenGeneration_Authentication  version 2  client 1h2j3k4l5m6n7o8p9q0r1s2t3u",
        "    + plan = \"silver\"",
        "    - phone_number (suppressed)",
        "    + scope orders-api/read",
        "  warning: rule 4 (claim `seats`): transform `to_number` failed: not a number",
        "  access token: not customisable with a version 1 trigger",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

#[test]
fn dry_run_fails_when_an_event_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), "{\"version\": \"9\"}").unwrap();
    std::fs::write(dir.path().join("b.json"), "not json").unwrap();
    let out = cli(&["dry-run", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("answered in the version 1 shape"), "{text}");
    assert!(
        text.contains("the event is not JSON: expected ident at line 1 column 2"),
        "{text}"
    );
    // An event file that cannot be read is not an event the Lambda would fail: stderr, exit 2,
    // after the other events.
    std::fs::create_dir(dir.path().join("c.json")).unwrap();
    let unreadable = cli(&["dry-run", "--json", dir.path().to_str().unwrap()]);
    assert_eq!(unreadable.status.code(), Some(2));
    assert_eq!(stdout(&unreadable).lines().count(), 2);
    let stderr = String::from_utf8_lossy(&unreadable.stderr);
    assert!(
        stderr.contains("error: cannot read event ") && stderr.contains("c.json"),
        "{stderr}"
    );
    let bad_mapping = cli(&["dry-run", "--mapping", "nope.yaml"]);
    assert_eq!(bad_mapping.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_mapping.stderr).contains("cannot read mapping nope.yaml"));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // More output than a pipe buffers, to a reader that is already gone.
    let mut args = vec!["dry-run"];
    args.extend(std::iter::repeat_n("examples/events", 60));
    let mut child = Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .args(&args)
        .current_dir(support::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn explain_prints_rules_groups_and_response_and_sets_the_exit_code() {
    let out = cli(&[
        "explain",
        "--mapping",
        "examples/features/mapping.yaml",
        "--today",
        "2026-11-26",
        "examples/features/events/v2-saml-ad-groups.json",
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out);
    let golden = std::fs::read_to_string(
        support::root().join("examples/features/explain/v2-saml-ad-groups.txt"),
    )
    .unwrap();
    assert!(
        text.starts_with("mapping file examples/features/mapping.yaml (sha256:"),
        "{text}"
    );
    assert!(
        text.ends_with(&golden),
        "the CLI prints the library's report:\n{text}"
    );

    // A rule failing under `on_error: fail`: the report says what the Lambda would return.
    let dir = tempfile::tempdir().unwrap();
    let strict = dir.path().join("strict.yaml");
    std::fs::write(
        &strict,
        "version: 1\non_error: fail\nclaims:\n  - claim: n\n    from: email\n    transform: [to_number]\n  - claim: later\n    value: 1\n",
    )
    .unwrap();
    let out = cli(&[
        "explain",
        "--mapping",
        strict.to_str().unwrap(),
        "examples/events/v2-authentication-custom-attrs-groups.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "rule 1  n                        failed: transform `to_number` failed: not a number"
        ),
        "{text}"
    );
    assert!(
        text.contains("result: the Lambda returns the error `claim mapping failed (rule 1)`"),
        "{text}"
    );

    let missing = cli(&["explain", "nope.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn dry_run_tokens_shows_payloads_in_text_and_json() {
    let text = cli(&[
        "dry-run",
        "--tokens",
        "--mapping",
        "examples/features/mapping.yaml",
        "--today",
        "2026-11-26",
        "examples/features/events",
    ]);
    assert!(text.status.success());
    let text = stdout(&text);
    for name in [
        "v1-groups",
        "v2-saml-ad-groups",
        "v3-client-credentials-partner",
        "v3-partner-portal",
    ] {
        let golden = std::fs::read_to_string(
            support::root().join(format!("examples/features/tokens/{name}.txt")),
        )
        .unwrap();
        assert!(
            text.contains(&golden),
            "{name} preview differs from its golden file"
        );
    }
    let json = cli(&[
        "dry-run",
        "--tokens",
        "--json",
        "examples/events/v3-client-credentials.json",
    ]);
    let line: Value = serde_json::from_slice(&json.stdout).unwrap();
    let tokens = &line["tokens"];
    assert!(
        tokens.get("id").is_none(),
        "client credentials have no ID token"
    );
    assert_eq!(tokens["access"]["payload"]["token_use"], "access");
    assert!(tokens["access"]["changes"].is_object());
}

/// Event files saved with a byte order mark (Windows editors, the .NET runtime's test events)
/// are read as the same event.
#[test]
fn event_files_with_a_byte_order_mark_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let event = std::fs::read(
        support::root().join("examples/events/v2-authentication-custom-attrs-groups.json"),
    )
    .unwrap();
    let with_bom = dir.path().join("bom.json");
    std::fs::write(&with_bom, [b"\xEF\xBB\xBF".as_slice(), &event].concat()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .args(["dry-run", "--json", with_bom.to_str().unwrap()])
        .current_dir(support::root())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line["output"],
        support::expected("v2-authentication-custom-attrs-groups")
    );
}

#[test]
fn validate_prints_warnings_passes_them_unless_strict_and_speaks_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warned.yaml");
    std::fs::write(
        &file,
        "version: 1\nclaims:\n  - {claim: department, from: department}\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out = cli(&["validate", file]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("valid (1 rule, sha256:") && text.contains(", 1 warning"),
        "{text}"
    );
    assert!(
        text.contains("warning: ")
            && text
                .contains("warned.yaml:3:25: rule 1 (claim `department`), field `claims[0].from`"),
        "{text}"
    );
    assert_eq!(cli(&["validate", "--strict", file]).status.code(), Some(1));
    let json = cli(&[
        "validate",
        "--json",
        file,
        "mappings/prod.yaml",
        "mappings/default.yaml",
    ]);
    let lines: Vec<Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[0]["warnings"][0]["line"], 3);
    assert_eq!(lines[0]["warnings"][0]["field"], "claims[0].from");
    assert_eq!(lines[1]["warnings"], serde_json::json!([]));
    // default.yaml copies the app version the client sends: allowed, and said.
    let client_input = &lines[2]["warnings"][0];
    assert_eq!(client_input["field"], "claims[6].from");
    assert!(
        client_input["message"].as_str().unwrap().contains(
            "`request.clientMetadata`, which is whatever the app asking for the tokens sends"
        ),
        "{client_input}"
    );
    assert!(
        client_input["message"]
            .as_str()
            .unwrap()
            .contains("not from InitiateAuth or its refresh flow"),
        "{client_input}"
    );
    // Refused by --strict for its warnings alone: they are its problems.
    let strict = cli(&["validate", "--json", "--strict", file]);
    assert_eq!(strict.status.code(), Some(1));
    let line: Value = serde_json::from_str(stdout(&strict).trim()).unwrap();
    assert_eq!(line["valid"], false);
    assert_eq!(line["problems"], line["warnings"], "{line}");
    assert_eq!(line["problems"][0]["field"], "claims[0].from");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "version: 2\n").unwrap();
    let json = cli(&["validate", "--json", bad.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(1));
    let line: Value = serde_json::from_str(stdout(&json).trim()).unwrap();
    assert_eq!(line["valid"], false);
    assert_eq!(line["problems"][0]["field"], "version");
}

#[test]
fn diff_compares_two_local_files_in_text_or_json() {
    let same = cli(&[
        "diff",
        "mappings/default.yaml",
        "--before",
        "mappings/default.yaml",
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(
        stdout(&same).contains(&format!(
            "0 of {} events change",
            support::fixture_events().len()
        )),
        "{}",
        stdout(&same)
    );
    let changed = cli(&[
        "diff",
        "mappings/prod.yaml",
        "--before",
        "mappings/dev.yaml",
        "--json",
    ]);
    assert_eq!(changed.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&changed)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), support::fixture_events().len());
    assert!(
        lines
            .iter()
            .any(|l| l["changed"] == true && !l["differences"].as_array().unwrap().is_empty())
    );
    let neither = cli(&["diff", "mappings/prod.yaml"]);
    assert_eq!(neither.status.code(), Some(2));
}

#[cfg(feature = "ssm")]
#[test]
fn missing_aws_region_or_credentials_are_one_sentence() {
    let home = tempfile::tempdir().unwrap();
    let run = |region: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_claim-mapper"));
        command
            .args(["dry-run", "--ssm-parameter", "/claim-mapper/prod"])
            .current_dir(support::root())
            .env_clear()
            .env("HOME", home.path())
            .env("AWS_EC2_METADATA_DISABLED", "true");
        if let Some(region) = region {
            command.env("AWS_REGION", region);
        }
        command.output().unwrap()
    };
    let no_region = run(None);
    assert_eq!(no_region.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&no_region.stderr).trim(),
        "error: no AWS region is configured: set AWS_REGION, or a region in your AWS profile"
    );
    let no_credentials = run(Some("eu-west-1"));
    assert_eq!(no_credentials.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&no_credentials.stderr).trim(),
        "error: no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role provides them"
    );
}

#[test]
fn explain_json_gives_each_rule_and_the_response() {
    let out = cli(&[
        "explain",
        "--json",
        "--today",
        "2026-11-26",
        "--mapping",
        "examples/features/mapping.yaml",
        "examples/features/events/v3-partner-portal.json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let line: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert!(
        line["mapping"]
            .as_str()
            .unwrap()
            .starts_with("file examples/features/mapping.yaml (sha256:")
    );
    assert!(!line["rules"].as_array().unwrap().is_empty());
    assert!(
        line["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["rule"].is_string() && r["claim"].is_string() && r["outcome"].is_string())
    );
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::root().join("examples/features/expected/v3-partner-portal.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(line["response"], expected["response"]);
}

/// `init` in a team's own repository: a mapping and a suite that validate and pass at full
/// coverage, nothing overwritten; and without it, the defaults say what to pass.
#[test]
fn init_writes_a_first_mapping_and_suite_and_missing_defaults_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let missing = run(&["dry-run"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("there is no mappings/default.yaml here (the default): pass --mapping FILE, or run `claim-mapper init`"),
        "{}",
        stderr(&missing)
    );
    let no_suites = run(&["test"]);
    assert_eq!(no_suites.status.code(), Some(2));
    assert!(stderr(&no_suites).contains("there is no mappings/tests here"));

    let init = run(&["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    for file in [
        "mappings/default.yaml",
        "mappings/tests/default.yaml",
        "mappings/schema.json",
        "mappings/tests/schema.json",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    assert!(
        run(&["validate", "--strict", "mappings/default.yaml"])
            .status
            .success()
    );
    let tested = run(&["test", "--min-coverage", "100"]);
    assert!(tested.status.success(), "{}", stdout(&tested));
    assert!(stdout(&tested).contains("2 of 2 cases passed"));
    // The schemas written are the ones `schema` prints.
    let schema = run(&["schema"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mappings/schema.json")).unwrap(),
        stdout(&schema)
    );

    // Nothing is overwritten; another name is another environment.
    std::fs::write(dir.path().join("mappings/default.yaml"), "edited\n").unwrap();
    let again = run(&["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("exists already: nothing written"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mappings/default.yaml")).unwrap(),
        "edited\n"
    );
    assert!(run(&["init", "--name", "prod"]).status.success());
    assert!(run(&["test", "mappings/tests/prod.yaml"]).status.success());
    assert_eq!(run(&["init", "--name", "../x"]).status.code(), Some(2));
}

/// An event described on the command line, in a test case's `event:` format, for `dry-run` and
/// `explain`; a description with a mistake is refused with the field and a suggestion.
#[test]
fn dry_run_and_explain_take_an_event_described_on_the_command_line() {
    let out = cli(&[
        "dry-run",
        "--json",
        "--describe",
        "{ attributes: { custom:plan: ' Gold ', custom:seat_count: 25 }, groups: [admins], version: 3 }",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["file"], "(described event)");
    let access = &line["output"]["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
        ["claimsToAddOrOverride"];
    assert_eq!(access["plan"], "gold");
    assert_eq!(access["seats"], 25);
    assert_eq!(access["admin"], true);
    assert_eq!(line["output"]["version"], "3");

    let explained = cli(&[
        "explain",
        "--describe",
        "{ attributes: { birthdate: 1990-04-23 } }",
    ]);
    assert!(explained.status.success());
    assert!(stdout(&explained).contains("event (described event)\n"));
    // A value from clientMetadata that is missing says which flows pass it.
    assert!(
        stdout(&explained).contains("skipped: source missing (clientMetadata reaches this trigger from RespondToAuthChallenge"),
        "{}",
        stdout(&explained)
    );
    assert!(
        stdout(&explained).contains("birthdate                applied"),
        "{}",
        stdout(&explained)
    );

    let typo = cli(&[
        "explain",
        "--describe",
        "{ atributes: { email: a@example.com } }",
    ]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("unknown field `atributes`")
            && String::from_utf8_lossy(&typo.stderr).contains("did you mean `attributes`?"),
        "{}",
        String::from_utf8_lossy(&typo.stderr)
    );
    let machine = cli(&[
        "dry-run",
        "--describe",
        "{ trigger: TokenGeneration_ClientCredentials, version: 2 }",
    ]);
    assert_eq!(machine.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&machine.stderr)
            .contains("`version`: client-credentials events are version 3")
    );
    // Files and a description do not mix.
    let both = cli(&["dry-run", "--describe", "{}", "examples/events"]);
    assert_eq!(both.status.code(), Some(2));
}
