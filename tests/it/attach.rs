//! `claim-mapper attach` and `detach` against the AWS request gate (`support::gate`): its fake
//! user pools behave as the Cognito API reference says (`UpdateUserPool` resets every setting it is
//! not given, refuses the legacy `UnusedAccountValidityDays` beside `TemporaryPasswordValidityDays`)
//! and describe themselves with members newer than our SDK; its fake functions keep resource
//! policies as Lambda does; and every request is checked against AWS's service models.

use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support;
use support::gate;

/// Runs the CLI against the gate.
fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claim-mapper"))
        .args(args)
        .envs(support::ssm::aws_env(&gate::endpoint()))
        .current_dir(support::root())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A function no other test uses, seeded with a `live` alias and no policy: its alias ARN.
fn function(test: &str) -> String {
    gate::seed_function(&format!("cm-{test}-{}", std::process::id()))
}

fn function_name(arn: &str) -> &str {
    arn.split(':').nth(6).unwrap()
}

/// The example pool of the API reference, with `lambda` as its `LambdaConfig` and `extra` members
/// set; seeded, with its id.
fn pool(lambda: Value, extra: Value) -> (String, Value) {
    let mut pool = gate::example_pool();
    pool["LambdaConfig"] = lambda;
    for (k, v) in extra.as_object().unwrap() {
        pool[k] = v.clone();
    }
    let stored = gate::seed_pool(pool);
    (stored["Id"].as_str().unwrap().to_owned(), stored)
}

/// The example pool's triggers other than Pre Token Generation, `InboundFederation` (newer than
/// our SDK's first releases) among them.
fn other_triggers() -> Value {
    let mut lambda = gate::example_pool()["LambdaConfig"].clone();
    let config = lambda.as_object_mut().unwrap();
    config.remove("PreTokenGeneration");
    config.remove("PreTokenGenerationConfig");
    lambda
}

/// `stored` without what an attach is meant to change (the trigger, the legacy validity days
/// superseded by `TemporaryPasswordValidityDays`, the modification date).
fn settings_besides_the_trigger(stored: &Value) -> Value {
    let mut pool = stored.clone();
    let lambda = pool["LambdaConfig"].as_object_mut().unwrap();
    lambda.remove("PreTokenGeneration");
    lambda.remove("PreTokenGenerationConfig");
    pool.as_object_mut().unwrap().remove("LastModifiedDate");
    pool["AdminCreateUserConfig"]
        .as_object_mut()
        .unwrap()
        .remove("UnusedAccountValidityDays");
    pool
}

fn updates(pool: &str) -> Vec<Value> {
    gate::requests("UpdateUserPool", pool)
}

#[test]
#[ignore = "needs the AWS request gate and moto: run scripts/test"]
fn attach_keeps_every_setting_of_a_pool_shaped_like_the_api_reference() {
    let function = function("keeps");
    let (id, before) = pool(other_triggers(), json!({}));
    // As real pools return them, both validity-days settings, which Cognito refuses together.
    assert_eq!(
        before["AdminCreateUserConfig"]["UnusedAccountValidityDays"],
        7
    );
    assert_eq!(
        before["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"],
        7
    );
    let out = cli(&[
        "attach",
        "--user-pool-id",
        &id,
        "--function-arn",
        &function,
        "--add-permission",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("written, and read back as planned"),
        "{}",
        text(&out)
    );

    let after = gate::pool(&id);
    let trigger = &after["LambdaConfig"]["PreTokenGenerationConfig"];
    assert_eq!(trigger["LambdaArn"], function);
    assert_eq!(trigger["LambdaVersion"], "V2_0");
    assert_eq!(after["LambdaConfig"]["PreTokenGeneration"], function);
    // Every other setting is what it was, those newer than our SDK included.
    assert_eq!(
        settings_besides_the_trigger(&after),
        settings_besides_the_trigger(&before)
    );
    for newer in [
        "KeyConfiguration",
        "IssuerConfiguration",
        "AcrConfiguration",
        "DcrConfiguration",
    ] {
        assert_eq!(after[newer], before[newer], "{newer}");
    }
    assert_eq!(
        after["LambdaConfig"]["InboundFederation"],
        before["LambdaConfig"]["InboundFederation"]
    );
    assert_eq!(after["SmsConfiguration"], before["SmsConfiguration"]);
    // One update, which AWS's model accepts.
    let sent = updates(&id);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["violations"], json!([]), "{}", sent[0]);
    // The invoke permission, for this pool only.
    let policies = gate::function(function_name(&function)).to_string();
    assert!(policies.contains("cognito-idp.amazonaws.com"), "{policies}");
    assert!(
        policies.contains(before["Arn"].as_str().unwrap()),
        "{policies}"
    );
    assert!(policies.contains("111122223333"), "{policies}");

    // Attaching again changes nothing and adds nothing.
    let again = cli(&["attach", "--user-pool-id", &id, "--function-arn", &function]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("nothing to change"),
        "{}",
        text(&again)
    );
    assert_eq!(updates(&id).len(), 1);
}

#[test]
#[ignore = "needs the AWS request gate and moto: run scripts/test"]
fn attach_writes_nothing_to_a_pool_holding_a_setting_it_does_not_know() {
    let function = function("unknown");
    let (id, _) = pool(
        other_triggers(),
        json!({"PasskeyRelyingParty": {"Id": "example.com"}}),
    );
    let out = cli(&[
        "attach",
        "--user-pool-id",
        &id,
        "--function-arn",
        &function,
        "--add-permission",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("`PasskeyRelyingParty`"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("nothing was changed"), "{}", text(&out));
    assert!(updates(&id).is_empty());
    assert!(gate::requests("AddPermission", function_name(&function)).is_empty());
}

#[test]
#[ignore = "needs the AWS request gate and moto: run scripts/test"]
fn attach_refuses_a_trigger_cognito_may_not_invoke() {
    let function = function("permission");
    let (id, _) = pool(other_triggers(), json!({}));
    let out = cli(&["attach", "--user-pool-id", &id, "--function-arn", &function]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--add-permission"), "{}", text(&out));
    assert!(
        text(&out).contains("every sign-in would fail"),
        "{}",
        text(&out)
    );
    assert!(updates(&id).is_empty());
    // The ARN Cognito invokes must name the alias.
    let unqualified = function.trim_end_matches(":live");
    let out = cli(&[
        "attach",
        "--user-pool-id",
        &id,
        "--function-arn",
        unqualified,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("names no alias"), "{}", text(&out));
}

#[test]
#[ignore = "needs the AWS request gate and moto: run scripts/test"]
fn attach_plans_first_replaces_only_when_asked_and_detach_restores() {
    let ours = function("replace");
    let theirs = "arn:aws:lambda:us-east-1:111122223333:function:hand-written:prod";
    let mut lambda = other_triggers();
    lambda["PreTokenGeneration"] = json!(theirs);
    lambda["PreTokenGenerationConfig"] = json!({"LambdaArn": theirs, "LambdaVersion": "V3_0"});
    let (id, before) = pool(lambda, json!({"UserPoolTier": "PLUS"}));
    let attach = |extra: &[&str]| {
        let mut args = vec![
            "attach",
            "--user-pool-id",
            &id,
            "--function-arn",
            &ours,
            "--add-permission",
        ];
        args.extend_from_slice(extra);
        cli(&args)
    };

    let plan = attach(&["--dry-run", "--replace"]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(
        text(&plan).contains(&format!("{theirs} (V3_0) -> {ours} (V3_0)")),
        "{}",
        text(&plan)
    );
    assert!(
        text(&plan).contains("dry run: nothing written"),
        "{}",
        text(&plan)
    );
    assert!(updates(&id).is_empty(), "a dry run writes nothing");

    let refused = attach(&[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("--replace"), "{}", text(&refused));
    assert!(updates(&id).is_empty());

    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("before.json");
    let replaced = attach(&["--replace", "--save-previous", saved.to_str().unwrap()]);
    assert!(replaced.status.success(), "{}", text(&replaced));
    // The version stays V3_0: machine-to-machine tokens are still customised.
    assert_eq!(
        gate::pool(&id)["LambdaConfig"]["PreTokenGenerationConfig"],
        json!({"LambdaArn": ours, "LambdaVersion": "V3_0"})
    );
    let lowered = attach(&["--trigger-version", "V2_0"]);
    assert_eq!(lowered.status.code(), Some(1), "{}", text(&lowered));
    assert!(
        text(&lowered).contains("machine-to-machine"),
        "{}",
        text(&lowered)
    );

    // detach --restore puts the hand-written trigger back, and nothing else moves.
    let restored = cli(&[
        "detach",
        "--user-pool-id",
        &id,
        "--function-arn",
        &ours,
        "--restore",
        saved.to_str().unwrap(),
    ]);
    assert!(restored.status.success(), "{}", text(&restored));
    let after = gate::pool(&id);
    assert_eq!(
        after["LambdaConfig"]["PreTokenGenerationConfig"],
        json!({"LambdaArn": theirs, "LambdaVersion": "V3_0"})
    );
    assert_eq!(
        settings_besides_the_trigger(&after),
        settings_besides_the_trigger(&before)
    );
    // The trigger is theirs now: nothing of ours to detach.
    let again = cli(&["detach", "--user-pool-id", &id, "--function-arn", &ours]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    for sent in updates(&id) {
        assert_eq!(sent["violations"], json!([]), "{sent}");
    }
}

#[test]
#[ignore = "needs the AWS request gate and moto: run scripts/test"]
fn detach_removes_our_trigger_and_keeps_the_others() {
    let ours = function("detach");
    let (id, before) = pool(other_triggers(), json!({}));
    let out = cli(&[
        "attach",
        "--user-pool-id",
        &id,
        "--function-arn",
        &ours,
        "--add-permission",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = cli(&["detach", "--user-pool-id", &id, "--function-arn", &ours]);
    assert!(out.status.success(), "{}", text(&out));
    let after = gate::pool(&id);
    assert!(
        after["LambdaConfig"]
            .get("PreTokenGenerationConfig")
            .is_none(),
        "{after}"
    );
    assert_eq!(
        settings_besides_the_trigger(&after),
        settings_besides_the_trigger(&before)
    );
    // Nothing attached any more: a second detach has nothing to do.
    let again = cli(&["detach", "--user-pool-id", &id, "--function-arn", &ours]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains("nothing to change"),
        "{}",
        text(&again)
    );
}

#[test]
#[ignore = "needs the AWS request gate and moto: run scripts/test"]
fn attach_refuses_access_token_versions_on_the_lite_plan() {
    let function = function("lite");
    // A pool on the Lite plan has none of the Essentials and Plus features the example pool has.
    let mut lite = gate::example_pool();
    for feature in ["UserPoolAddOns", "AcrConfiguration", "DcrConfiguration"] {
        lite.as_object_mut().unwrap().remove(feature);
    }
    lite["Policies"] = json!({"PasswordPolicy": {"MinimumLength": 8}});
    lite["LambdaConfig"] = other_triggers();
    lite["UserPoolTier"] = json!("LITE");
    let id = gate::seed_pool(lite)["Id"].as_str().unwrap().to_owned();
    let out = cli(&[
        "attach",
        "--user-pool-id",
        &id,
        "--function-arn",
        &function,
        "--add-permission",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Lite feature plan"), "{}", text(&out));
    assert!(updates(&id).is_empty());
    // Version 1 (ID-token claims only) is allowed.
    let v1 = cli(&[
        "attach",
        "--user-pool-id",
        &id,
        "--function-arn",
        &function,
        "--add-permission",
        "--trigger-version",
        "V1_0",
    ]);
    assert!(v1.status.success(), "{}", text(&v1));
    assert_eq!(
        gate::pool(&id)["LambdaConfig"]["PreTokenGenerationConfig"]["LambdaVersion"],
        "V1_0"
    );
}

#[test]
#[ignore = "needs the AWS request gate and moto: run scripts/test"]
fn attach_json_states_the_plan_and_the_outcome() {
    let function = function("json");
    let (id, _) = pool(other_triggers(), json!({}));
    let out = cli(&[
        "attach",
        "--user-pool-id",
        &id,
        "--function-arn",
        &function,
        "--add-permission",
        "--dry-run",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["outcome"], "planned");
    assert_eq!(plan["after"]["LambdaArn"], function);
    assert_eq!(plan["permission"], "add");
    assert_eq!(
        plan["dropped"],
        json!(["AdminCreateUserConfig.UnusedAccountValidityDays"])
    );
    assert_eq!(plan["request"]["UserPoolId"], id);
}
