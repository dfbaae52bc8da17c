//! The AWS request gate `scripts/test` starts in front of moto (`scripts/lib/aws_gate.py`): every
//! request the CLI and the function send is checked against AWS's published service models and
//! refused as AWS would refuse it; Cognito pools and Lambda functions seeded here behave as the API
//! references say (an `UpdateUserPool` resets what it is not given). Its control API, under
//! `/_gate/`, seeds them and shows what was sent.

use serde_json::{Value, json};

/// The gate's address (`CLAIM_MAPPER_TEST_SSM_ENDPOINT` points at it too).
pub fn endpoint() -> String {
    std::env::var("CLAIM_MAPPER_TEST_AWS_GATE").expect(
        "CLAIM_MAPPER_TEST_AWS_GATE is not set: run the tests with scripts/test, which starts the gate",
    )
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn read(mut response: ureq::http::Response<ureq::Body>, what: &str) -> Value {
    let ok = response.status().is_success();
    let text = response.body_mut().read_to_string().unwrap();
    assert!(ok, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn post(path: &str, body: Value) -> Value {
    let response = agent()
        .post(format!("{}/_gate/{path}", endpoint()))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap();
    read(response, path)
}

fn get(path: &str) -> Value {
    read(
        agent()
            .get(format!("{}/_gate/{path}", endpoint()))
            .call()
            .unwrap(),
        path,
    )
}

/// The gate's example pool: `DescribeUserPool`'s `UserPool` object shaped like the API reference's
/// example, with members newer than older SDKs.
pub fn example_pool() -> Value {
    get("cognito/example-pool")
}

/// Seeds `pool` (a `UserPool` object; its `Id` and `Arn` replaced by fresh ones) and returns the
/// pool as stored.
pub fn seed_pool(mut pool: Value) -> Value {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let id = format!(
        "us-east-1_Gate{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    pool["Id"] = json!(id);
    pool["Arn"] = json!(format!(
        "arn:aws:cognito-idp:us-east-1:111122223333:userpool/{id}"
    ));
    post("cognito/pools", pool)
}

/// The pool as the gate holds it now.
pub fn pool(id: &str) -> Value {
    get(&format!("cognito/pools/{id}"))
}

/// Seeds a function with a `live` alias, without a policy, and returns the alias ARN.
pub fn seed_function(name: &str) -> String {
    post(
        "lambda/functions",
        json!({
            "FunctionName": name,
            "Region": "us-east-1",
            "Account": "111122223333",
            "Versions": ["1"],
            "Aliases": {"live": "1"}
        }),
    );
    format!("arn:aws:lambda:us-east-1:111122223333:function:{name}:live")
}

/// The function and its policies, as the gate holds them.
pub fn function(name: &str) -> Value {
    get(&format!("lambda/functions/{name}"))
}

/// Every request the gate recorded for `operation` whose input mentions `needle` (a pool id, a
/// parameter name): other tests run at the same time.
pub fn requests(operation: &str, needle: &str) -> Vec<Value> {
    let all = get(&format!("requests?operation={operation}"));
    all["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["input"].to_string().contains(needle))
        .cloned()
        .collect()
}
