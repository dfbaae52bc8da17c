//! End to end through a Cognito emulator. cognito-local (pinned, installed by `scripts/setup`)
//! signs users in and calls the real `bootstrap` of the file-only deployable zip as its Pre Token
//! Generation trigger: emulator -> Lambda Invoke API -> Runtime API -> function. The tests verify
//! the issued tokens' signatures against the emulator's JWKS and read the claims the mapping
//! added, overrode and suppressed. What the emulator sends and applies (pinned here, so an
//! upgrade that changes it fails) is in docs/development.md, "Signing in through cognito-local".

use crate::support;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Value, json};
use support::cognito_local::{ApiError, CognitoLocal};
use support::invoke_api::InvokeApi;
use support::lambda::Lambda;

const PASSWORD: &str = "Corr3ct-horse-battery!";

/// The mapping the emulator's trigger applies; `ON_ERROR` is replaced per test.
const MAPPING: &str = r#"
version: 1
on_error: ON_ERROR
claims:
  - claim: department            # added, renamed from a custom attribute
    from: custom:department
    transform: [trim, lowercase]
  - claim: email                 # overrides the claim Cognito put there
    from: email
    transform: [lowercase]
  - claim: signed_in_by          # which sign-in asked for the token
    from: $.triggerSource
  - claim: seats                 # fails for a value that is not a number
    from: custom:seat_count
    transform: [to_number]
  - claim: admin                 # needs the groups in the event
    value: true
    when: { groups: [admins] }
suppress:
  id: [custom:department, custom:internal_note]
"#;

/// The emulator, the function behind it, and a pool with one app client.
struct Stack {
    cognito: CognitoLocal,
    function: InvokeApi,
    pool: String,
    client: String,
    _task_root: tempfile::TempDir,
}

impl Stack {
    fn start(on_error: &str) -> Stack {
        let mapping = MAPPING.replace("ON_ERROR", on_error);
        Stack::serving("claim-mapper-lambda-file", &mapping, Vec::new())
    }

    /// The emulator, with the deployable `binary` serving `mapping` (with `env` added) behind it.
    fn serving(binary: &str, mapping: &str, env: Vec<(&'static str, String)>) -> Stack {
        let (root, bootstrap) = support::lambda::unpack(binary);
        std::fs::write(root.path().join("emulator.yaml"), mapping).unwrap();
        let mut env = env;
        env.push(("LAMBDA_TASK_ROOT", root.path().to_str().unwrap().to_owned()));
        env.push(("CLAIM_MAPPING_FILE", "emulator.yaml".to_owned()));
        let function = InvokeApi::start(Lambda::start_bin(&bootstrap, &env));
        let cognito = CognitoLocal::start(&function.endpoint);
        let pool =
            cognito.must("CreateUserPool", json!({ "PoolName": "claims" }))["UserPool"]["Id"]
                .as_str()
                .unwrap()
                .to_owned();
        let client = cognito.must(
            "CreateUserPoolClient",
            json!({
                "UserPoolId": pool,
                "ClientName": "web",
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
            }),
        )["UserPoolClient"]["ClientId"]
            .as_str()
            .unwrap()
            .to_owned();
        Stack {
            cognito,
            function,
            pool,
            client,
            _task_root: root,
        }
    }

    /// Creates a confirmed user (signed in by email) with `attributes`, in `groups`.
    fn add_user(&self, email: &str, attributes: &[(&str, &str)], groups: &[&str]) {
        let mut user_attributes = vec![json!({ "Name": "email", "Value": email })];
        user_attributes.extend(
            attributes
                .iter()
                .map(|(name, value)| json!({ "Name": name, "Value": value })),
        );
        let user = json!({ "UserPoolId": self.pool, "Username": email });
        let mut create = user.clone();
        create["UserAttributes"] = user_attributes.into();
        create["MessageAction"] = "SUPPRESS".into();
        self.cognito.must("AdminCreateUser", create);
        let mut password = user.clone();
        password["Password"] = PASSWORD.into();
        password["Permanent"] = true.into();
        self.cognito.must("AdminSetUserPassword", password);
        for group in groups {
            let named = json!({ "UserPoolId": self.pool, "GroupName": group });
            if let Err(e) = self.cognito.call("CreateGroup", named) {
                assert_eq!(e.kind, "GroupExistsException", "{e:?}");
            }
            let mut member = user.clone();
            member["GroupName"] = (*group).into();
            self.cognito.must("AdminAddUserToGroup", member);
        }
    }

    /// `InitiateAuth` with `USER_PASSWORD_AUTH`: the `AuthenticationResult`, or the error.
    fn sign_in(&self, email: &str) -> Result<Value, ApiError> {
        self.initiate_auth(
            "USER_PASSWORD_AUTH",
            json!({ "USERNAME": email, "PASSWORD": PASSWORD }),
        )
    }

    /// `InitiateAuth` with `REFRESH_TOKEN_AUTH`.
    fn refresh(&self, refresh_token: &str) -> Result<Value, ApiError> {
        self.initiate_auth(
            "REFRESH_TOKEN_AUTH",
            json!({ "REFRESH_TOKEN": refresh_token }),
        )
    }

    fn initiate_auth(&self, flow: &str, parameters: Value) -> Result<Value, ApiError> {
        let request =
            json!({ "ClientId": self.client, "AuthFlow": flow, "AuthParameters": parameters });
        self.cognito
            .call("InitiateAuth", request)
            .map(|r| r["AuthenticationResult"].clone())
    }

    /// The claims of `token`, after checking its RS256 signature against the pool's JWKS, its
    /// issuer, expiry and, for an ID token, its audience: what an API does before trusting a claim.
    fn verified(&self, token: &str, use_: Use) -> Result<Value, jsonwebtoken::errors::Error> {
        let jwks: JwkSet = serde_json::from_value(self.cognito.jwks(&self.pool)).unwrap();
        let kid = decode_header(token)?
            .kid
            .expect("a kid in the token header");
        let key = DecodingKey::from_jwk(jwks.find(&kid).expect("the token's key in the JWKS"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[format!("{}/{}", self.cognito.endpoint, self.pool)]);
        match use_ {
            Use::Id => validation.set_audience(&[&self.client]),
            // Access tokens carry `client_id`, not `aud`.
            Use::Access => validation.validate_aud = false,
        }
        let claims = decode::<Value>(token, &key, &validation)?.claims;
        assert_eq!(claims["token_use"], use_.as_str());
        Ok(claims)
    }

    /// Stops the function and returns its logs, after checking that no value in `values` is in
    /// them (attribute values are never logged).
    fn logs_without(self, values: &[&str]) -> String {
        let logs = self.function.stop();
        for value in values {
            assert!(!logs.contains(value), "{value:?} logged:\n{logs}");
        }
        logs
    }

    /// The verified claims of the ID token of an `AuthenticationResult`.
    fn id_token(&self, result: &Value) -> Value {
        self.verified(result["IdToken"].as_str().unwrap(), Use::Id)
            .expect("the ID token's signature verifies")
    }
}

/// Which token a JWT is meant to be (`token_use`).
#[derive(Clone, Copy)]
enum Use {
    Id,
    Access,
}

impl Use {
    fn as_str(self) -> &'static str {
        match self {
            Use::Id => "id",
            Use::Access => "access",
        }
    }
}

/// The structure of a JSON value: its keys and the types of its leaves, not its values.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), shape(v))).collect(),
        Value::Array(items) => items.iter().map(shape).collect(),
        Value::String(_) => "string".into(),
        Value::Number(_) => "number".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => Value::Null,
    }
}

#[test]
#[ignore = "needs cognito-local and the deployable zips: run scripts/test"]
fn signing_in_through_the_emulator_issues_an_id_token_with_the_mapped_claims() {
    let stack = Stack::start("skip");
    stack.add_user(
        "Ada.Lovelace@Example.com",
        &[
            ("custom:department", "  Engineering "),
            ("custom:internal_note", "payroll review"),
            ("custom:seat_count", "12"),
        ],
        &["admins"],
    );

    let signed_in = stack
        .sign_in("Ada.Lovelace@Example.com")
        .expect("signed in");
    let id = stack.id_token(&signed_in);
    assert_eq!(id["department"], "engineering", "added: {id}");
    assert_eq!(id["email"], "ada.lovelace@example.com", "overridden: {id}");
    assert_eq!(id["signed_in_by"], "TokenGeneration_Authentication");
    // The emulator's events are version 1 in shape: every claim value is a string.
    assert_eq!(id["seats"], "12");
    for suppressed in ["custom:department", "custom:internal_note"] {
        assert!(
            id.get(suppressed).is_none(),
            "{suppressed} suppressed: {id}"
        );
    }
    // The emulator puts the user's groups in the token itself but sends none to the trigger.
    assert_eq!(id["cognito:groups"], json!(["admins"]));
    assert!(id.get("admin").is_none(), "{id}");
    // The emulator applies the trigger's answer to the ID token only.
    let access = stack
        .verified(signed_in["AccessToken"].as_str().unwrap(), Use::Access)
        .expect("the access token's signature verifies");
    assert!(access.get("department").is_none(), "{access}");

    let refreshed = stack
        .refresh(signed_in["RefreshToken"].as_str().unwrap())
        .expect("refreshed");
    let id = stack.id_token(&refreshed);
    assert_eq!(id["signed_in_by"], "TokenGeneration_RefreshTokens");
    assert_eq!(id["department"], "engineering");
    assert!(id.get("custom:internal_note").is_none(), "{id}");

    // What the emulator sent, as docs/development.md describes it.
    let invoked = stack.function.invoked();
    assert_eq!(invoked.len(), 2);
    let event = &invoked[0];
    assert_eq!(
        shape(event),
        shape(&support::fixture("v0-cognito-local")),
        "examples/events/v0-cognito-local.json has the shape of what the emulator sends"
    );
    assert_eq!(event["version"], "0");
    assert_eq!(event["region"], "local");
    assert_eq!(event["callerContext"]["clientId"], stack.client.as_str());
    assert_eq!(event["request"]["groupConfiguration"], json!({}));
    assert_eq!(event["response"], json!({ "claimsOverrideDetails": {} }));
    assert_eq!(
        event["request"]["userAttributes"]["custom:seat_count"],
        "12"
    );

    stack.logs_without(&["payroll review", "Engineering"]);
}

#[test]
#[ignore = "needs cognito-local and the deployable zips: run scripts/test"]
fn a_rule_that_fails_under_on_error_skip_is_left_out_and_the_sign_in_goes_on() {
    let stack = Stack::start("skip");
    stack.add_user(
        "grace@example.com",
        &[("custom:department", "Navy"), ("custom:seat_count", "lots")],
        &[],
    );
    let id = stack.id_token(&stack.sign_in("grace@example.com").expect("signed in"));
    assert_eq!(id["department"], "navy");
    assert!(id.get("seats").is_none(), "{id}");
    let logs = stack.logs_without(&["lots"]);
    assert!(
        logs.contains("seats"),
        "the warning names the claim: {logs}"
    );
}

#[test]
#[ignore = "needs cognito-local and the deployable zips: run scripts/test"]
fn a_rule_that_fails_under_on_error_fail_refuses_the_sign_in_without_showing_the_value() {
    let stack = Stack::start("fail");
    stack.add_user(
        "grace@example.com",
        &[("custom:seat_count", "lots of seats")],
        &[],
    );
    let refused = stack
        .sign_in("grace@example.com")
        .expect_err("the sign-in is refused");
    assert_eq!(refused.kind, "UserLambdaValidationException", "{refused:?}");
    assert!(
        refused.message.contains("claim mapping failed (rule 4)"),
        "{refused:?}"
    );
    assert!(!refused.message.contains("lots"), "{refused:?}");
    stack.logs_without(&["lots"]);
}

#[test]
#[ignore = "needs cognito-local and the deployable zips: run scripts/test"]
fn an_id_token_carrying_another_tokens_claims_fails_verification() {
    let stack = Stack::start("skip");
    stack.add_user("ada@example.com", &[("custom:department", "Eng")], &[]);
    let signed_in = stack.sign_in("ada@example.com").expect("signed in");
    let id: Vec<&str> = signed_in["IdToken"].as_str().unwrap().split('.').collect();
    let access: Vec<&str> = signed_in["AccessToken"]
        .as_str()
        .unwrap()
        .split('.')
        .collect();
    assert!(stack.verified(&id.join("."), Use::Id).is_ok());
    let swapped = format!("{}.{}.{}", id[0], access[1], id[2]);
    assert!(stack.verified(&swapped, Use::Id).is_err());
}

#[test]
#[ignore = "needs cognito-local, moto, the AWS request gate and the deployable zips: run scripts/test"]
fn a_claim_from_a_dynamodb_table_reaches_the_signed_id_token() {
    use support::dynamodb::{create_table, put, unique};
    let tenants = unique("emulator-tenants");
    create_table(&tenants);
    put(
        &tenants,
        &[
            ("pk", "TENANT#acme"),
            ("plan", "enterprise"),
            ("seats", "N:250"),
        ],
    );
    let mapping = format!(
        "version: 1\nlookups:\n  tenant:\n    table: {tenants}\n    key: {{pk: 'TENANT#{{custom:tenant_id}}'}}\n    attributes: [plan, seats]\nclaims:\n  - {{claim: plan, from: lookup.tenant.plan, default: free}}\n  - {{claim: seats, from: lookup.tenant.seats}}\n"
    );
    let stack = Stack::serving(
        "claim-mapper-lambda",
        &mapping,
        support::ssm::aws_env(&support::gate::endpoint()),
    );
    stack.add_user("grace@example.com", &[("custom:tenant_id", "acme")], &[]);
    stack.add_user("linus@example.com", &[("custom:tenant_id", "initech")], &[]);

    let id = stack.id_token(&stack.sign_in("grace@example.com").expect("signed in"));
    assert_eq!(id["plan"], "enterprise", "{id}");
    // Version 1 in shape: the number travels as a string.
    assert_eq!(id["seats"], "250", "{id}");
    let id = stack.id_token(&stack.sign_in("linus@example.com").expect("signed in"));
    assert_eq!(id["plan"], "free", "no item for the tenant: {id}");
    assert!(id.get("seats").is_none(), "{id}");
    assert_eq!(support::gate::requests("BatchGetItem", &tenants).len(), 2);
    stack.logs_without(&["TENANT#acme", "enterprise"]);
}
