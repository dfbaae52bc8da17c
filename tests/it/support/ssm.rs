//! The local SSM API (moto) that `scripts/test` starts, and direct access to it.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_ssm::types::ParameterType;

pub fn endpoint() -> String {
    std::env::var("CLAIM_MAPPER_TEST_SSM_ENDPOINT").expect(
        "CLAIM_MAPPER_TEST_SSM_ENDPOINT is not set: run the tests with scripts/test, which starts moto_server",
    )
}

pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// A parameter name no other test uses.
pub fn unique(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "/claim-mapper-test/{}/{test}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A client of the local SSM API, and a runtime to drive it.
fn client() -> (aws_sdk_ssm::Client, tokio::runtime::Runtime) {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_sdk_ssm::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    let runtime = super::runtime();
    (aws_sdk_ssm::Client::from_conf(config), runtime)
}

/// Deletes a parameter, as an operator cleaning up would.
pub fn delete(name: &str) {
    let (client, runtime) = client();
    runtime
        .block_on(client.delete_parameter().name(name).send())
        .expect("delete parameter");
}

/// Writes a parameter directly (no validation), as an operator editing it in the console would.
pub fn put_raw(name: &str, value: &str, kind: ParameterType) -> i64 {
    put_raw_with_key(name, value, kind, None)
}

/// [`put_raw`] of a SecureString encrypted with `key`.
pub fn put_raw_with_key(name: &str, value: &str, kind: ParameterType, key: Option<&str>) -> i64 {
    let (client, runtime) = client();
    runtime
        .block_on(
            client
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(kind)
                .set_key_id(key.map(str::to_owned))
                .overwrite(true)
                .send(),
        )
        .expect("put parameter")
        .version
}

/// Moves `label` to `version` directly, as an operator in the console would (no validation).
pub fn label(name: &str, version: i64, label: &str) {
    let (client, runtime) = client();
    runtime
        .block_on(
            client
                .label_parameter_version()
                .name(name)
                .parameter_version(version)
                .labels(label)
                .send(),
        )
        .expect("label parameter version");
}

/// The parameter's type and KMS key, as `DescribeParameters` reports them.
pub fn kind_and_key(name: &str) -> (String, Option<String>) {
    let (client, runtime) = client();
    let out = runtime
        .block_on(
            client
                .describe_parameters()
                .parameter_filters(
                    aws_sdk_ssm::types::ParameterStringFilter::builder()
                        .key("Name")
                        .option("Equals")
                        .values(name)
                        .build()
                        .unwrap(),
                )
                .send(),
        )
        .expect("describe parameters");
    let p = &out.parameters()[0];
    (
        p.r#type().unwrap().as_str().to_owned(),
        p.key_id().map(str::to_owned),
    )
}
