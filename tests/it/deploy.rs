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
fn the_parameter_starts_out_holding_the_file_the_function_falls_back_to() {
    let t = template();
    // The parameter's value and the fallback file are the same environment's.
    assert_eq!(
        text(&resource(&t, "ClaimMappingParameter")["Value"]),
        "!FindInMap\n- MappingFiles\n- !Ref Environment\n- Text\n"
    );
    for function in ["ClaimMapperFunction", "ClaimMapperFileFunction"] {
        let env = &resource(&t, function)["Environment"]["Variables"];
        assert_eq!(
            text(&env["CLAIM_MAPPING_FILE"]),
            "!Sub /opt/${Environment}.yaml\n"
        );
    }
    // And each environment's text is its file (`scripts/sync-template` writes them).
    let environments = &t["Parameters"]["Environment"]["AllowedValues"];
    for environment in environments.as_sequence().unwrap() {
        let environment = environment.as_str().unwrap();
        let file =
            std::fs::read_to_string(support::root().join(format!("mappings/{environment}.yaml")))
                .unwrap();
        assert_eq!(
            t["Mappings"]["MappingFiles"][environment]["Text"].as_str(),
            Some(file.as_str()),
            "deploy/template.yaml holds another mappings/{environment}.yaml: run scripts/sync-template"
        );
    }
}

#[test]
fn the_function_reads_the_parameter_at_a_label() {
    let t = template();
    assert_eq!(t["Parameters"]["MappingLabel"]["Default"], "live");
    // The stack's own parameter, or one created beforehand (a SecureString: CloudFormation
    // cannot create one), at the label.
    assert_eq!(
        text(
            &resource(&t, "ClaimMapperFunction")["Environment"]["Variables"]["CLAIM_MAPPING_SSM_PARAMETER"]
        ),
        "!If\n- CreateParameter\n- !Sub ${ClaimMappingParameter}:${MappingLabel}\n- !Sub ${ExistingParameterName}:${MappingLabel}\n"
    );
    assert!(text(&t["Outputs"]["ReleaseCommand"]["Value"]).contains("claim-mapper release"));
}

#[test]
fn a_changed_parameter_publishes_a_new_version_and_teardown_is_said() {
    let t = template();
    // scripts/deploy's hash over the zips, the mapping files and the values that reach the function
    // names the version SAM publishes (scripts/check-template proves it with SAM's translator).
    let hash = &t["Parameters"]["DeployHash"];
    assert_eq!(hash["AllowedPattern"], "^[0-9a-f]{64}$");
    assert!(hash.get("Default").is_none(), "{hash:?}");
    for function in ["ClaimMapperFunction", "ClaimMapperFileFunction"] {
        assert_eq!(
            text(&resource(&t, function)["AutoPublishCodeSha256"]),
            "!Ref DeployHash\n",
            "{function}"
        );
    }
    let statements = serde_yaml::to_string(&resource(&t, "MappingReadPolicy")).unwrap();
    assert!(statements.contains("kms:ViaService"), "{statements}");
    assert!(
        text(&resource(&t, "FunctionLogGroup")["LogGroupName"]).contains("${AWS::StackName}"),
        "two stacks of one environment need log groups of their own"
    );
    assert!(text(&t["Outputs"]["DetachCommand"]["Value"]).contains("claim-mapper detach"));
}

#[test]
fn new_code_reaches_sign_ins_gradually_and_a_refused_sign_in_rolls_it_back() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["AutoPublishAlias"], "live");
    assert_eq!(
        text(&globals["LoggingConfig"]["LogGroup"]),
        "!Ref FunctionLogGroup\n"
    );
    assert!(
        text(&resource(&t, "FunctionLogGroup")["RetentionInDays"]).contains("LogRetentionDays")
    );
    assert_eq!(
        t["Parameters"]["DeploymentType"]["Default"],
        "Canary10Percent5Minutes"
    );
    for (function, alarm) in [
        ("ClaimMapperFunction", "RefusedSignInsAlarm"),
        ("ClaimMapperFileFunction", "RefusedFileSignInsAlarm"),
    ] {
        let preference = &resource(&t, function)["DeploymentPreference"];
        assert_eq!(text(&preference["Type"]), "!Ref DeploymentType\n");
        assert_eq!(text(&preference["Alarms"]), format!("- !Ref {alarm}\n"));
        let a = resource(&t, alarm);
        assert_eq!(a["MetricName"], "Errors");
        assert_eq!(a["Threshold"], 1);
        assert!(text(&a["Dimensions"]).contains(&format!("${{{function}}}:live")));
        // The code is what scripts/build makes, not a `sam build` with cargo-lambda's defaults.
        let code = resource(&t, function)["CodeUri"].as_str().unwrap();
        assert!(
            code.starts_with("../target/lambda/arm64/") && code.ends_with("/bootstrap.zip"),
            "{code}"
        );
        assert!(t["Resources"][function].get("Metadata").is_none());
    }
}

#[test]
fn an_existing_pool_is_served_and_a_created_one_is_never_deleted_with_the_stack() {
    let t = template();
    assert_eq!(t["Parameters"]["UserPoolId"]["Default"], "");
    let pool = &t["Resources"]["UserPool"];
    assert_eq!(pool["Condition"], "CreatePool");
    assert_eq!(pool["DeletionPolicy"], "Retain");
    assert_eq!(pool["UpdateReplacePolicy"], "Retain");
    assert_eq!(pool["Properties"]["DeletionProtection"], "ACTIVE");
    assert_eq!(t["Resources"]["UserPoolClient"]["Condition"], "CreatePool");
    let invoke = resource(&t, "CognitoInvokePermission");
    let source = text(&invoke["SourceArn"]);
    assert!(
        source.contains("CreatePool") && source.contains("userpool/${UserPoolId}"),
        "{source}"
    );
    // Cognito invokes the alias, which the gradual deployment moves.
    assert!(text(&invoke["FunctionName"]).contains(".Alias"));
    assert!(text(&resource(&t, "UserPool")["LambdaConfig"]).contains(".Alias"));
    assert!(text(&t["Outputs"]["AttachCommand"]["Value"]).contains("claim-mapper attach"));
}

#[test]
fn the_functions_are_the_arm64_zips_on_al2023() {
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
    assert_eq!(
        text(&modes["AllowedValues"]),
        "- apply\n- shadow\n- compare\n"
    );
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
        assert_eq!(
            f["Properties"]["CodeUri"],
            format!("../target/lambda/arm64/{binary}/bootstrap.zip")
        );
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
    let statement = &policy["Properties"]["PolicyDocument"]["Statement"];
    // The parameter at its label, and the release's candidate labels in one call.
    assert_eq!(
        statement[0]["Action"],
        serde_yaml::from_str::<Value>("[ssm:GetParameter, ssm:GetParameters]").unwrap()
    );
    let statements = text(statement);
    let actions: Vec<&str> = statements
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("Action: "))
        .collect();
    assert_eq!(actions, ["kms:Decrypt"], "nothing else: {statements}");
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

/// A template value as the stack would see it with `Environment=prod`: a plain string, or a
/// `!Sub` of `${Environment}`.
#[cfg(feature = "ssm")]
fn resolved(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Tagged(t) if t.tag == "Sub" => {
            t.value.as_str().unwrap().replace("${Environment}", "prod")
        }
        other => panic!("not a string or !Sub: {}", text(other)),
    }
}

#[test]
#[cfg(feature = "ssm")]
fn the_alarms_watch_metrics_the_function_writes_under_the_template_settings() {
    let t = template();
    let vars = &t["Globals"]["Function"]["Environment"]["Variables"];
    let mut env: Vec<(&str, String)> = [
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_FUNCTION_NAME",
    ]
    .into_iter()
    .map(|var| (var, resolved(&vars[var])))
    .collect();
    // The SSM build with its parameter unreachable: the fallback file serves, and the line
    // carries the refresh and fallback metrics as well as the rules'.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    env.extend(support::ssm::aws_env(&format!("http://{closed}")));
    env.push(("CLAIM_MAPPING_SSM_PARAMETER", "/unreachable:live".into()));
    env.push(("CLAIM_MAPPING_FILE", "mappings/prod.yaml".into()));
    env.push(("CLAIM_MAPPING_REFRESH_SECONDS", "60".into()));
    let mut lambda = support::lambda::Lambda::start_bin(support::lambda::FULL, &env);
    lambda.invoke(&support::fixture("v2-authentication-custom-attrs-groups"));
    let lines = support::emf::lines(&lambda.stop());
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    support::emf::validate(line);

    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    for alarm in [
        "SkippedRulesAlarm",
        "RejectedMappingAlarm",
        "FallbackServingAlarm",
    ] {
        let a = resource(&t, alarm);
        assert_eq!(
            a["Namespace"].as_str(),
            directive["Namespace"].as_str(),
            "{alarm}"
        );
        let metric = a["MetricName"].as_str().unwrap();
        assert!(
            support::emf::metric_names(line).contains(&metric),
            "{alarm}: {metric} is not written"
        );
        let dimensions = a["Dimensions"].as_sequence().unwrap();
        let names: Vec<&str> = dimensions
            .iter()
            .map(|d| d["Name"].as_str().unwrap())
            .collect();
        assert!(
            directive["Dimensions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|set| set.as_array().unwrap() == &names),
            "{alarm}: no dimension set {names:?}"
        );
        for d in dimensions {
            let name = d["Name"].as_str().unwrap();
            assert_eq!(
                line[name],
                resolved(&d["Value"]).as_str(),
                "{alarm}: {name}"
            );
        }
        assert!(
            text(&a["AlarmActions"]).contains("AlarmTopicArn"),
            "{alarm}"
        );
        assert_eq!(a["TreatMissingData"], "notBreaching", "{alarm}");
    }
    assert_eq!(line["FallbackServed"], 1);
}
