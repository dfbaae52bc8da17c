//! `claim-mapper audit` against a real Cognito API: moto's `cognito-idp` (the moto server the SSM
//! tests use), with pools and app clients set up here. Each finding and each non-finding is
//! asserted. moto leaves the standard attributes out of `SchemaAttributes` and returns no
//! `ReadAttributes`/`WriteAttributes` for a client that set none, which is what Cognito
//! documents for the default sets; the audit reads both as Cognito documents them.

use crate::support;

use std::process::Output;

use crate::ssm::cli;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, LambdaConfigType, PreTokenGenerationLambdaVersionType,
    PreTokenGenerationVersionConfigType, SchemaAttributeType,
};
use serde_json::Value;
use support::ssm::endpoint;

pub(crate) async fn cognito() -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cognitoidentityprovider::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    Client::new(&config)
}

/// Creates the pool `request` describes and returns its id.
async fn created(request: CreateUserPoolFluentBuilder) -> String {
    let pool = request.send().await.unwrap().user_pool.unwrap();
    pool.id.unwrap()
}

/// A pool with `custom:role` (mutable), `custom:tenant` (immutable) and `custom:tier` (mutable),
/// the group `admins`, its Pre Token Generation trigger at `version`, and two app clients: `open` with Cognito's
/// default read and write sets, `web` that lets users write `custom:role` and reads it.
async fn pool(version: PreTokenGenerationLambdaVersionType) -> (String, String, String) {
    let c = cognito().await;
    let attribute = |name: &str, mutable: bool| {
        SchemaAttributeType::builder()
            .name(name)
            .attribute_data_type(AttributeDataType::String)
            .mutable(mutable)
            .build()
    };
    let pool = created(
        c.create_user_pool()
            .pool_name(format!("audit-{}", std::process::id()))
            .schema(attribute("role", true))
            .schema(attribute("tenant", false))
            .schema(attribute("tier", true))
            .lambda_config(
                LambdaConfigType::builder()
                    .pre_token_generation_config(
                        PreTokenGenerationVersionConfigType::builder()
                            .lambda_version(version)
                            .lambda_arn(
                                "arn:aws:lambda:us-east-1:111122223333:function:claim-mapper",
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            ),
    )
    .await;
    let open = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("open")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let web = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("web")
        .write_attributes("custom:role")
        .read_attributes("custom:role")
        .read_attributes("email")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    c.create_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .send()
        .await
        .unwrap();
    (pool, open, web)
}

fn findings(out: &Output) -> Vec<Value> {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    report["findings"].as_array().unwrap().clone()
}

/// A mapping that reads each kind of source once (`custom:typo` is not in the pool).
const MAPPING: &str = r#"version: 1
claims:
  - claim: role
    from: custom:role
    tokens: [id]
  - claim: admin
    value: true
    when:
      attributes:
        custom:role: admin
  - claim: tenant
    from: custom:tenant
    tokens: [id]
  - claim: department
    from: custom:typo
  - claim: step_up
    value: true
    when:
      paths:
        $.request.clientMetadata.step_up: [done]
  - claim: display_name
    template: "{given_name} {family_name}"
    tokens: [access]
  - claim: ops
    value: true
    when:
      groups: [Admins]
scopes:
  add:
    - scope: orders-api/write
      when:
        attributes:
          custom:tier: [gold]
clients:
  nosuchclient000000000000000:
    claims:
      - claim: partner
        value: true
"#;

fn write_mapping(dir: &tempfile::TempDir) -> String {
    let file = dir.path().join("audited.yaml");
    std::fs::write(&file, MAPPING).unwrap();
    file.to_str().unwrap().to_owned()
}

#[tokio::test]
#[ignore = "needs moto_server, the local SSM and Cognito APIs: run scripts/test"]
async fn audit_reports_each_finding_against_a_version_2_pool() {
    let (pool, open, web) = pool(PreTokenGenerationLambdaVersionType::V20).await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = write_mapping(&dir);
    let out = cli(&[
        "audit",
        "--user-pool-id",
        &pool,
        "--mapping",
        &mapping,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "a high finding fails the audit");
    let found = findings(&out);
    let find = |kind: &str, place: &str| {
        found
            .iter()
            .filter(|f| f["kind"] == kind && f["place"] == place)
            .cloned()
            .collect::<Vec<_>>()
    };
    // custom:role decides the admin claim, and `web` lets users write it: high.
    let writable = find("user-writable", "rule 2");
    assert_eq!(writable.len(), 1, "{found:#?}");
    assert_eq!(writable[0]["severity"], "high");
    assert_eq!(writable[0]["source"], "custom:role");
    assert_eq!(
        writable[0]["clients"],
        serde_json::json!([format!("web ({web})")])
    );
    // Copied into a claim: medium.
    assert_eq!(find("user-writable", "rule 1")[0]["severity"], "medium");
    // custom:tier decides a scope, but no client lists it in WriteAttributes and the default set
    // holds standard attributes only: not writable.
    assert!(
        find("user-writable", "scopes.add[0]").is_empty(),
        "{found:#?}"
    );
    // Immutable custom:tenant: never writable.
    assert!(find("user-writable", "rule 3").is_empty());
    // The display name's given_name and family_name are standard: `open` (default set) writes them.
    let names = find("user-writable", "rule 6");
    assert_eq!(names.len(), 2, "{found:#?}");
    assert_eq!(
        names[0]["clients"],
        serde_json::json!([format!("open ({open})")])
    );
    // Client metadata deciding a claim: high.
    let client_input = find("client-input", "rule 5");
    assert_eq!(client_input[0]["severity"], "high");
    assert_eq!(
        client_input[0]["source"],
        "$.request.clientMetadata.step_up"
    );
    assert!(
        client_input[0]["message"]
            .as_str()
            .unwrap()
            .contains("absent from InitiateAuth and its refresh flow"),
        "{client_input:?}"
    );
    // custom:role into the ID token: `open` cannot read it (custom attributes are not in the
    // default read set), `web` can. custom:tenant: neither lists it.
    let disclosed = find("disclosure", "rule 1");
    assert_eq!(
        disclosed[0]["clients"],
        serde_json::json!([format!("open ({open})")])
    );
    assert_eq!(
        find("disclosure", "rule 3")[0]["clients"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A display name in the access token only discloses nothing.
    assert!(find("disclosure", "rule 6").is_empty());
    // Drift: the typo and the unknown client overlay; nothing about the trigger version (V2_0).
    let typo = find("drift", "rule 4");
    assert_eq!(typo[0]["source"], "custom:typo");
    assert!(found.iter().any(|f| f["kind"] == "drift"
        && f["clients"] == serde_json::json!(["nosuchclient000000000000000"])));
    assert!(
        !found
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("V1_0"))
    );
    // A group the pool has under another case: the condition never holds.
    let group = find("drift", "rule 7");
    assert_eq!(group.len(), 1, "{found:#?}");
    assert_eq!(group[0]["field"], "claims[6].when.groups[0]");
    assert!(
        group[0]["message"]
            .as_str()
            .unwrap()
            .contains("group names are case-sensitive, did you mean `admins`?"),
        "{group:?}"
    );
    // The human report says the same, most severe first.
    let human = cli(&["audit", "--user-pool-id", &pool, "--mapping", &mapping]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.find("HIGH [user-writable] rule 2").unwrap() < text.find("MEDIUM").unwrap(),
        "{text}"
    );
    assert!(text.contains("  fix: "), "{text}");
}

#[tokio::test]
#[ignore = "needs moto_server, the local SSM and Cognito APIs: run scripts/test"]
async fn access_token_claims_drift_under_a_version_1_trigger() {
    let (pool, _, _) = pool(PreTokenGenerationLambdaVersionType::V10).await;
    let out = cli(&[
        "audit",
        "--user-pool-id",
        &pool,
        "--mapping",
        "mappings/prod.yaml",
        "--json",
    ]);
    let found = findings(&out);
    let v1: Vec<&Value> = found
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("V1_0"))
        .collect();
    // prod.yaml sends birthdate, analytics_id, plan_level and admin to the access token, tenant
    // to both.
    let claims: Vec<&str> = v1.iter().map(|f| f["place"].as_str().unwrap()).collect();
    assert_eq!(
        claims,
        ["rule 1", "rule 2", "rule 3", "rule 4", "rule 5"],
        "{found:#?}"
    );
    assert_eq!(out.status.code(), Some(0), "no high finding: {found:#?}");
}

#[tokio::test]
#[ignore = "needs moto_server, the local SSM and Cognito APIs: run scripts/test"]
async fn push_refuses_a_mapping_with_high_findings_and_audit_says_what_it_cannot_read() {
    let (pool, _, _) = pool(PreTokenGenerationLambdaVersionType::V20).await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = write_mapping(&dir);
    let name = support::ssm::unique("audited");
    let out = cli(&[
        "push",
        &mapping,
        "--ssm-parameter",
        &name,
        "--audit-user-pool-id",
        &pool,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("not pushed: the audit found"));
    let after = cli(&["dry-run", "--ssm-parameter", &name]);
    assert!(String::from_utf8_lossy(&after.stderr).contains("not found"));
    // prod.yaml has no high finding against this pool: pushed.
    let out = cli(&[
        "push",
        "mappings/prod.yaml",
        "--ssm-parameter",
        &name,
        "--create",
        "--audit-user-pool-id",
        &pool,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // No such pool: the audit cannot run.
    let out = cli(&[
        "audit",
        "--user-pool-id",
        "us-east-1_nope",
        "--mapping",
        "mappings/prod.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("was not found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
