//! `claim-mapper preview` against a real Cognito API: moto's `cognito-idp` behind the AWS request
//! gate, with a pool, an app client, a user and groups set up here; the event the command builds
//! and the tokens it shows are asserted.

use std::process::Output;

use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, LambdaConfigType, OAuthFlowType,
    PreTokenGenerationLambdaVersionType, PreTokenGenerationVersionConfigType, SchemaAttributeType,
};
use serde_json::{Value, json};

use crate::audit::cognito;
use crate::ssm::cli;

const MAPPING: &str = r#"version: 1
claims:
  - { claim: tenant, from: custom:tenant_id, tokens: [id, access] }
  - { claim: admin, value: true, tokens: [access], when: { groups: [admins] } }
scopes:
  add:
    - scope: orders-api/write
      when: { groups: [admins] }
"#;

/// A V2 pool with `custom:tenant_id`, a client allowed `openid` and `email` on the code grant,
/// and `jdoe` in `admins` (precedence 1, a role), `billing` (precedence 5, a role) and `readers`.
async fn pool_with_user() -> (String, String) {
    let c = cognito().await;
    let pool = c
        .create_user_pool()
        .pool_name(format!("preview-{}", std::process::id()))
        .schema(
            SchemaAttributeType::builder()
                .name("tenant_id")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        )
        .lambda_config(
            LambdaConfigType::builder()
                .pre_token_generation_config(
                    PreTokenGenerationVersionConfigType::builder()
                        .lambda_version(PreTokenGenerationLambdaVersionType::V20)
                        .lambda_arn("arn:aws:lambda:us-east-1:111122223333:function:claim-mapper")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("web")
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .supported_identity_providers("COGNITO")
        .callback_urls("https://app.example.com/callback")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let attribute = |name: &str, value: &str| {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .unwrap()
    };
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("jdoe")
        .user_attributes(attribute("email", "jdoe@example.com"))
        .user_attributes(attribute("custom:tenant_id", "tenant-42"))
        .send()
        .await
        .unwrap();
    for (group, precedence, role) in [
        ("readers", None, None),
        (
            "billing",
            Some(5),
            Some("arn:aws:iam::111122223333:role/billing"),
        ),
        (
            "admins",
            Some(1),
            Some("arn:aws:iam::111122223333:role/admins"),
        ),
    ] {
        c.create_group()
            .user_pool_id(&pool)
            .group_name(group)
            .set_precedence(precedence)
            .set_role_arn(role.map(str::to_owned))
            .send()
            .await
            .unwrap();
        c.admin_add_user_to_group()
            .user_pool_id(&pool)
            .username("jdoe")
            .group_name(group)
            .send()
            .await
            .unwrap();
    }
    (pool, client)
}

fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test]
#[ignore = "needs moto_server, the local SSM and Cognito APIs: run scripts/test"]
async fn preview_builds_the_event_cognito_would_send_and_shows_the_tokens() {
    let (pool, client) = pool_with_user().await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("m.yaml");
    std::fs::write(&mapping, MAPPING).unwrap();
    let saved = dir.path().join("jdoe.json");
    let args = |extra: &[&str]| {
        let mut args = vec![
            "preview",
            "--user-pool-id",
            &pool,
            "--username",
            "jdoe",
            "--client-id",
            &client,
            "--mapping",
            mapping.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |extra: &[&str]| {
        let args = args(extra);
        cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let out = run(&["--json", "--save", saved.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds the user's attribute values"));
    let line = json_out(&out);
    let details = &line["output"]["response"]["claimsAndScopeOverrideDetails"];
    assert_eq!(
        details["idTokenGeneration"]["claimsToAddOrOverride"]["tenant"],
        "tenant-42"
    );
    assert_eq!(
        details["accessTokenGeneration"]["claimsToAddOrOverride"]["admin"],
        true
    );
    assert_eq!(
        details["accessTokenGeneration"]["scopesToAdd"],
        json!(["orders-api/write"])
    );

    // The event, as Cognito sends it for a V2 pool and an API sign-in.
    let event: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(event["version"], "2");
    assert_eq!(event["triggerSource"], "TokenGeneration_Authentication");
    assert_eq!(event["userPoolId"], json!(pool));
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(event["userName"], "jdoe");
    assert_eq!(event["callerContext"]["clientId"], json!(client));
    let request = &event["request"];
    assert_eq!(request["userAttributes"]["custom:tenant_id"], "tenant-42");
    assert_eq!(request["userAttributes"]["email"], "jdoe@example.com");
    assert!(request["userAttributes"]["sub"].is_string());
    assert!(request["userAttributes"]["cognito:user_status"].is_string());
    assert_eq!(
        request["groupConfiguration"],
        json!({
            "groupsToOverride": ["admins", "billing", "readers"],
            "iamRolesToOverride": [
                "arn:aws:iam::111122223333:role/admins",
                "arn:aws:iam::111122223333:role/billing"
            ],
            "preferredRole": "arn:aws:iam::111122223333:role/admins"
        })
    );
    assert_eq!(request["scopes"], json!(["aws.cognito.signin.user.admin"]));
    assert_eq!(
        event["response"],
        json!({"claimsAndScopeOverrideDetails": null})
    );

    // The saved event is a fixture: dry-run reads it and answers the same.
    let again = cli(&[
        "dry-run",
        "--json",
        "--tokens",
        "--mapping",
        mapping.to_str().unwrap(),
        saved.to_str().unwrap(),
    ]);
    assert_eq!(json_out(&again)["output"], line["output"]);

    // Managed login asks for the client's scopes; version 1 carries none and cannot add scopes.
    let hosted = json_out(&run(&[
        "--json",
        "--trigger",
        "TokenGeneration_HostedAuth",
        "--version",
        "1",
    ]));
    assert_eq!(hosted["output"]["version"], "1");
    assert!(hosted["output"]["request"].get("scopes").is_none());
    let hosted = json_out(&run(&["--json", "--trigger", "TokenGeneration_HostedAuth"]));
    assert_eq!(
        hosted["output"]["request"]["scopes"],
        json!(["openid", "email"])
    );

    // The human report says where the version came from, then the token preview.
    let human = String::from_utf8(run(&[]).stdout).unwrap();
    assert!(
        human.contains("event version 2, the pool's trigger version"),
        "{human}"
    );
    assert!(human.contains("+ tenant: \"tenant-42\""), "{human}");
    let explained = String::from_utf8(run(&["--explain"]).stdout).unwrap();
    assert!(explained.contains("admin"), "{explained}");
}

#[tokio::test]
#[ignore = "needs moto_server, the local SSM and Cognito APIs: run scripts/test"]
async fn preview_refuses_what_cognito_would_not_send_and_names_what_is_missing() {
    let (pool, client) = pool_with_user().await;
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("m.yaml");
    std::fs::write(&mapping, MAPPING).unwrap();
    let m = mapping.to_str().unwrap();
    let refused = |args: &[&str], says: &str| {
        let out = cli(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    let base = [
        "preview",
        "--user-pool-id",
        &pool,
        "--client-id",
        &client,
        "--mapping",
        m,
    ];
    // Machine tokens come from version 3 pools only; this pool is version 2.
    refused(
        &[
            &base[..],
            &["--trigger", "TokenGeneration_ClientCredentials"],
        ]
        .concat(),
        "only to version 3 triggers",
    );
    refused(&base, "a username is needed");
    refused(
        &[&base[..], &["--username", "nobody"]].concat(),
        "AdminGetUser: not found",
    );
    refused(
        &[
            &base[..],
            &["--username", "jdoe", "--trigger", "TokenGeneration_Nope"],
        ]
        .concat(),
        "unknown trigger source `TokenGeneration_Nope`",
    );
    // A machine at version 3: no user, the client's scopes.
    let out = cli(&[
        &base[..],
        &[
            "--trigger",
            "TokenGeneration_ClientCredentials",
            "--version",
            "3",
            "--json",
        ],
    ]
    .concat());
    let line = json_out(&out);
    assert_eq!(line["output"]["userName"], json!(client));
    assert_eq!(line["output"]["request"]["groupConfiguration"], Value::Null);
    assert_eq!(
        line["output"]["request"]["scopes"],
        json!(["openid", "email"])
    );
}
