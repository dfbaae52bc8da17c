//! The SAM template (`deploy/template.yaml`): what it must say for the trigger to work and stay
//! least-privilege. `cfn-lint` checks it against CloudFormation's schemas in `scripts/test`.

use crate::support;

use serde_yaml::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(support::root().join("deploy/template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    &t["Resources"][name]["Properties"]
}

/// The YAML text of a value, tags (`!Ref`, `!Sub`, ...) included.
fn text(v: &Value) -> String {
    serde_yaml::to_string(v).unwrap()
}

#[test]
fn the_parameter_holds_the_default_mapping() {
    let t = template();
    let value = resource(&t, "ClaimMappingParameter")["Value"]
        .as_str()
        .unwrap();
    let default = std::fs::read_to_string(support::root().join("mappings/default.yaml")).unwrap();
    assert_eq!(
        value, default,
        "deploy/template.yaml and mappings/default.yaml differ"
    );
}

#[test]
fn the_functions_are_cargo_lambda_builds_on_al2023_arm64() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(globals["Timeout"], 5);
    assert_eq!(globals["LoggingConfig"]["LogFormat"], "JSON");
    // Both functions take the mode (apply or shadow) from one parameter.
    assert!(
        text(&globals["Environment"]["Variables"]["CLAIM_MAPPING_MODE"]).contains("MappingMode")
    );
    let modes = &t["Parameters"]["MappingMode"];
    assert_eq!(modes["Default"], "apply");
    assert_eq!(text(&modes["AllowedValues"]), "- apply\n- shadow\n");
    for (name, binary, condition) in [
        ("ClaimMapperFunction", "claim-mapper-lambda", "UseSsm"),
        (
            "ClaimMapperFileFunction",
            "claim-mapper-lambda-file",
            "UseFile",
        ),
    ] {
        let f = &t["Resources"][name];
        assert_eq!(f["Condition"], condition);
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
        assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], binary);
        assert!(
            f["Properties"].get("Policies").is_none(),
            "permissions come from MappingReadPolicy only"
        );
        assert!(text(&f["Properties"]["Environment"]).contains("CLAIM_MAPPING_FILE"));
    }
    let ssm_env = text(&resource(&t, "ClaimMapperFunction")["Environment"]);
    assert!(
        ssm_env.contains("CLAIM_MAPPING_SSM_PARAMETER")
            && ssm_env.contains("CLAIM_MAPPING_REFRESH_SECONDS")
    );
    let file_env = text(&resource(&t, "ClaimMapperFileFunction")["Environment"]);
    assert!(!file_env.contains("SSM"), "{file_env}");
}

#[test]
fn the_user_pool_uses_trigger_version_2_or_3() {
    let t = template();
    let lambda_config = &resource(&t, "UserPool")["LambdaConfig"];
    assert!(
        lambda_config.get("PreTokenGeneration").is_none(),
        "the legacy key means V1_0"
    );
    assert!(
        text(&lambda_config["PreTokenGenerationConfig"]["LambdaVersion"])
            .contains("TriggerVersion")
    );
    let allowed = &t["Parameters"]["TriggerVersion"]["AllowedValues"];
    assert_eq!(
        allowed,
        &serde_yaml::from_str::<Value>("[V2_0, V3_0]").unwrap()
    );
    assert_eq!(resource(&t, "UserPool")["UserPoolTier"], "ESSENTIALS");
}

#[test]
fn permissions_are_least_privilege() {
    let t = template();
    let invoke = resource(&t, "CognitoInvokePermission");
    assert_eq!(invoke["Principal"], "cognito-idp.amazonaws.com");
    assert_eq!(invoke["Action"], "lambda:InvokeFunction");
    assert!(text(&invoke["SourceArn"]).contains("UserPool.Arn"));

    let policy = &t["Resources"]["MappingReadPolicy"];
    assert_eq!(
        policy["Condition"], "UseSsm",
        "no SSM permission for a file source"
    );
    let statements = text(&policy["Properties"]["PolicyDocument"]["Statement"]);
    let actions: Vec<&str> = statements
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("Action: "))
        .collect();
    assert_eq!(actions, ["ssm:GetParameter", "kms:Decrypt"]);
    assert!(
        statements.contains("parameter${ClaimMappingParameter}"),
        "{statements}"
    );
    assert!(
        statements.contains("HasKmsKey"),
        "kms:Decrypt only with a key: {statements}"
    );
    assert!(
        !statements.contains('*'),
        "no wildcard resources: {statements}"
    );
}
