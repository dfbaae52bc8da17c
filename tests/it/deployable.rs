//! The deployable zips (`scripts/build x86_64`), unpacked as Lambda unpacks them, run as real
//! processes against the local Runtime API: `scripts/test` builds them with cargo-lambda and names
//! their folder in `CLAIM_MAPPER_TEST_LAMBDA_DIR`.

use crate::support;

use serde_json::json;
use support::lambda::Lambda;
use support::runtime_api::Posted;

fn task_env(root: &tempfile::TempDir, file: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LAMBDA_TASK_ROOT", root.path().to_str().unwrap().to_owned()),
        ("CLAIM_MAPPING_FILE", file.to_owned()),
    ]
}

#[test]
#[ignore = "needs the deployable zips: run scripts/test"]
fn both_zips_serve_every_fixture_from_their_bundled_mapping() {
    for binary in ["claim-mapper-lambda", "claim-mapper-lambda-file"] {
        let (root, bootstrap) = support::lambda::unpack(binary);
        let mut lambda = Lambda::start_bin(&bootstrap, &task_env(&root, "mappings/default.yaml"));
        for (name, event) in support::fixture_events() {
            assert_eq!(
                lambda.invoke(&event),
                support::expected(&name),
                "{binary}: {name}"
            );
        }
        let logs = lambda.stop();
        assert!(
            logs.contains(&format!(
                "live=file {}/mappings/default.yaml",
                root.path().display()
            )),
            "{logs}"
        );
    }
}

#[test]
#[ignore = "needs the deployable zips: run scripts/test"]
fn an_invalid_bundled_mapping_fails_the_init() {
    let (root, bootstrap) = support::lambda::unpack("claim-mapper-lambda-file");
    std::fs::write(
        root.path().join("mappings/broken.yaml"),
        "version: 1\nclaims: [{claim: iat, value: 1}]\n",
    )
    .unwrap();
    let (status, logs) =
        Lambda::start_bin(&bootstrap, &task_env(&root, "mappings/broken.yaml")).wait();
    assert!(!status.success());
    assert!(
        logs.contains("broken.yaml:2:11: rule 1 (claim `iat`)"),
        "{logs}"
    );
}

#[test]
#[ignore = "needs the deployable zips: run scripts/test"]
fn on_error_fail_reaches_the_runtime_as_an_invocation_error() {
    let (root, bootstrap) = support::lambda::unpack("claim-mapper-lambda-file");
    std::fs::write(
        root.path().join("mappings/strict.yaml"),
        "version: 1\non_error: fail\nclaims:\n  - {claim: seats, from: custom:plan, transform: [to_number]}\n",
    )
    .unwrap();
    let mut lambda = Lambda::start_bin(&bootstrap, &task_env(&root, "mappings/strict.yaml"));
    let posted =
        lambda.invoke_bytes(serde_json::to_vec(&support::fixture("v2-refresh-tokens")).unwrap());
    assert_eq!(
        posted,
        Posted::Error {
            id: "req-1".into(),
            body: json!({"errorType": "ClaimMappingFailed", "errorMessage": "claim mapping failed (rule 1)"})
        }
    );
    lambda.stop();
}

#[test]
#[cfg(feature = "ssm")]
#[ignore = "needs the deployable zips and moto_server: run scripts/test"]
fn the_full_zip_serves_a_mapping_from_ssm() {
    use support::ssm::{aws_env, endpoint, put_raw, unique};
    let name = unique("zip");
    let mapping = std::fs::read_to_string(support::root().join("mappings/default.yaml")).unwrap();
    put_raw(
        &name,
        &mapping,
        aws_sdk_ssm::types::ParameterType::SecureString,
    );
    let (root, bootstrap) = support::lambda::unpack("claim-mapper-lambda");
    let mut env = aws_env(&endpoint());
    env.push(("LAMBDA_TASK_ROOT", root.path().to_str().unwrap().to_owned()));
    env.push(("CLAIM_MAPPING_SSM_PARAMETER", name.clone()));
    let mut lambda = Lambda::start_bin(&bootstrap, &env);
    for (event, body) in support::fixture_events() {
        assert_eq!(lambda.invoke(&body), support::expected(&event), "{event}");
    }
    assert!(
        lambda
            .stop()
            .contains(&format!("live=ssm {name} version 1"))
    );
}

#[test]
#[ignore = "needs the deployable zips: run scripts/test"]
fn a_hundred_thousand_mixed_invocations_without_errors_or_memory_growth() {
    let (root, bootstrap) = support::lambda::unpack("claim-mapper-lambda-file");
    let mut env = task_env(&root, "mappings/default.yaml");
    env.push(("AWS_LAMBDA_LOG_LEVEL", "warn".into()));
    let mut lambda = Lambda::start_bin(&bootstrap, &env);
    let events: Vec<Vec<u8>> = support::fixture_events()
        .iter()
        .map(|(_, e)| serde_json::to_vec(e).unwrap())
        .collect();
    let mut after_warmup = 0;
    for i in 0..100_000 {
        match lambda.invoke_bytes(events[i % events.len()].clone()) {
            Posted::Response { .. } => {}
            other => panic!("invocation {i}: {other:?}"),
        }
        if i == 1_000 {
            after_warmup = lambda.memory_kb("VmRSS");
        }
    }
    let after_all = lambda.memory_kb("VmRSS");
    lambda.stop();
    // Flat: allocator noise stays far below a leak of even 10 bytes per invocation (~1 MB).
    assert!(
        after_all <= after_warmup + 512,
        "RSS grew from {after_warmup} KB to {after_all} KB"
    );
}

#[test]
#[ignore = "needs the deployable zips: run scripts/test"]
fn the_functions_carry_no_cognito_api_client() {
    // `user-pool` is the CLI's feature; scripts/build leaves it out of the functions.
    for binary in ["claim-mapper-lambda", "claim-mapper-lambda-file"] {
        let (_root, bootstrap) = support::lambda::unpack(binary);
        let bytes = std::fs::read(&bootstrap).unwrap();
        let holds = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(!holds(b"AWSCognitoIdentityProviderService"), "{binary}");
        assert!(!holds(b"DescribeUserPoolClient"), "{binary}");
        if binary == "claim-mapper-lambda" {
            assert!(holds(b"GetParameter"), "the check can see an API name");
        }
    }
}
