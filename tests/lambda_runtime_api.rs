//! The Lambda binary as a real process speaking the Lambda Runtime API: every fixture event gets
//! the golden response; a failing rule under `on_error: fail` is reported as an invocation error;
//! an invalid mapping fails the init with the validation message.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::runtime_api::{Posted, RuntimeApi};

fn start(api: &RuntimeApi, mapping: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_claim-mapper-lambda"))
        .envs(api.env())
        .env("CLAIM_MAPPING_FILE", mapping)
        .env("LAMBDA_TASK_ROOT", support::root())
        .env("AWS_LAMBDA_LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Lambda binary")
}

fn next(api: &RuntimeApi) -> Posted {
    api.posted
        .recv_timeout(Duration::from_secs(20))
        .expect("the function answered")
}

#[test]
fn answers_every_fixture_like_the_golden_files() {
    let api = RuntimeApi::start();
    let mut child = start(&api, "mappings/default.yaml");
    let events = support::fixture_events();
    for (name, event) in &events {
        api.push(name, serde_json::to_vec(event).unwrap());
    }
    for (name, _) in &events {
        let Posted::Response { id, body } = next(&api) else {
            panic!("{name}: not a response")
        };
        assert_eq!(&id, name);
        let expected: serde_json::Value = serde_json::from_slice(
            &std::fs::read(support::root().join(format!("examples/expected/{name}.json"))).unwrap(),
        )
        .unwrap();
        // The golden files are computed for a fixed date; the default mapping has no date transform.
        assert_eq!(body, expected, "{name}");
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(logs.contains("claim mapping loaded"), "{logs}");
    assert!(logs.contains("file "), "the live source is named: {logs}");
}

#[test]
fn on_error_fail_is_an_invocation_error_and_the_function_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strict.yaml");
    std::fs::write(&path, "version: 1\non_error: fail\nclaims:\n  - claim: region\n    from: custom:region\n    required: true\n").unwrap();
    let api = RuntimeApi::start();
    let mut child = start(&api, path.to_str().unwrap());
    let event = json!({"version": "2", "triggerSource": "TokenGeneration_Authentication", "request": {"userAttributes": {"email": "x@example.com"}}});
    api.push("fails", serde_json::to_vec(&event).unwrap());
    let mut ok = event.clone();
    ok["request"]["userAttributes"]["custom:region"] = json!("eu");
    api.push("works", serde_json::to_vec(&ok).unwrap());
    api.push("garbage", b"{not json".to_vec());

    assert_eq!(
        next(&api),
        Posted::Error {
            id: "fails".into(),
            body: json!({"errorType": "ClaimMappingFailed", "errorMessage": "claim mapping failed (rule 1)"})
        }
    );
    let Posted::Response { id, body } = next(&api) else {
        panic!("second invocation must succeed")
    };
    assert_eq!(id, "works");
    assert_eq!(
        body["response"]["claimsAndScopeOverrideDetails"]["idTokenGeneration"]["claimsToAddOrOverride"]
            ["region"],
        "eu"
    );
    let Posted::Error { id, body } = next(&api) else {
        panic!("malformed JSON must be an invocation error")
    };
    assert_eq!(id, "garbage");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("failed to deserialize"),
        "{body}"
    );
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stdout);
    assert!(logs.contains("claim rule failed"), "{logs}");
    assert!(
        !logs.contains("x@example.com"),
        "attribute values must not be logged: {logs}"
    );
}

#[test]
fn an_invalid_mapping_fails_the_init_with_the_validation_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "version: 1\nclaims:\n  - claim: sub\n    from: email\n",
    )
    .unwrap();
    let api = RuntimeApi::start();
    let child = start(&api, path.to_str().unwrap());
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains(
            "bad.yaml:3:5: rule 1 (claim `sub`), field `claims[0].claim`: `sub` is set by Cognito"
        ),
        "{all}"
    );
}
