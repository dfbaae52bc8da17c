import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { App, Fn, Stack, aws_codedeploy as codedeploy, aws_cognito as cognito, aws_logs as logs, aws_sns as sns } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { ClaimMapper } from "../lib/claim-mapper";
import { ENV, TEAM_MAPPING, fixture, only, ofType, synth } from "./helpers";

const aliasRef = (template: Template) => ({ Ref: only(template, "AWS::Lambda::Alias")[0] });
const TENANTS = "arn:aws:dynamodb:eu-west-1:123456789012:table/tenants";
const PLANS = "arn:aws:dynamodb:eu-west-1:123456789012:table/plans";
/** The statements of the function role's policies that name a DynamoDB action. */
const dynamodbStatements = (template: Template) =>
  Object.values(ofType(template, "AWS::IAM::Policy"))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => JSON.stringify(s.Action).includes("dynamodb:"));
const functionId = (template: Template) => only(template, "AWS::Lambda::Function")[0];

describe("the function", () => {
  it("runs the SSM build on provided.al2023, arm64, 128 MB, 5 s, with the SAM stack's environment", () => {
    const template = synth();
    const [, fn] = only(template, "AWS::Lambda::Function");
    const p = fn.Properties;
    assert.equal(p.Runtime, "provided.al2023");
    assert.deepEqual(p.Architectures, ["arm64"]);
    assert.equal(p.MemorySize, 128);
    assert.equal(p.Timeout, 5);
    assert.equal(p.Handler, "bootstrap");
    assert.deepEqual(p.LoggingConfig.LogFormat, "JSON");
    const parameterId = only(template, "AWS::SSM::Parameter")[0];
    assert.deepEqual(p.Environment.Variables, {
      CLAIM_MAPPING_MODE: "apply",
      POWERTOOLS_METRICS_NAMESPACE: "ClaimMapper",
      POWERTOOLS_SERVICE_NAME: "claim-mapper",
      POWERTOOLS_METRICS_FUNCTION_NAME: "cognito-claim-mapper-prod",
      CLAIM_MAPPING_FILE: "/opt/prod.yaml",
      CLAIM_MAPPING_SSM_PARAMETER: { "Fn::Join": ["", [{ Ref: parameterId }, ":live"]] },
      CLAIM_MAPPING_REFRESH_SECONDS: "60",
    });
  });

  it("deploys the zip of the build the mapping source needs", () => {
    // Each build's stand-in differs, so the asset hash (the S3 key) tells them apart.
    const { zipDirectory, mappingFile } = fixture();
    fs.appendFileSync(`${zipDirectory}/claim-mapper-lambda-file/bootstrap.zip`, "file-only");
    const key = (source: "ssm" | "file") =>
      only(synth({ zipDirectory, mappingFile, mappingSource: source }), "AWS::Lambda::Function")[1].Properties.Code.S3Key;
    assert.notEqual(key("ssm"), key("file"));
    assert.throws(() => synth({ zipDirectory: "/nonexistent", mappingFile }), /nonexistent/);
  });

  it("file-only: no SSM variables and no SSM, KMS or DynamoDB permission", () => {
    const template = synth({ mappingSource: "file", kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k", lookupTableArns: [TENANTS] });
    const vars = only(template, "AWS::Lambda::Function")[1].Properties.Environment.Variables;
    assert.equal(vars.CLAIM_MAPPING_SSM_PARAMETER, undefined);
    assert.equal(vars.CLAIM_MAPPING_REFRESH_SECONDS, undefined);
    assert.deepEqual(ofType(template, "AWS::IAM::Policy"), {});
    assert.doesNotMatch(JSON.stringify(template.toJSON()), /ssm:|kms:|dynamodb:/);
  });
});

describe("the mapping", () => {
  it("seeds the parameter with the given file's text, at the template's name and tier", () => {
    const mapping = "version: 1\nclaims:\n  - claim: only_here\n    value: 42\n";
    const template = synth({ ...fixture(mapping), environment: "dev" });
    template.hasResourceProperties("AWS::SSM::Parameter", {
      Name: "/cognito-claim-mapper/dev/claim-mapping",
      Type: "String",
      Tier: "Intelligent-Tiering",
      Value: mapping,
    });
    const vars = only(template, "AWS::Lambda::Function")[1].Properties.Environment.Variables;
    assert.equal(vars.CLAIM_MAPPING_FILE, "/opt/dev.yaml");
    assert.equal(vars.POWERTOOLS_METRICS_FUNCTION_NAME, "cognito-claim-mapper-dev");
  });

  it("puts the file alone in the layer as <environment>.yaml", () => {
    const app = new App();
    const stack = new Stack(app, "S", { env: ENV });
    new ClaimMapper(stack, "M", { ...fixture(), environment: "dev" });
    const assembly = app.synth();
    const template = Template.fromStack(stack);
    const [, layer] = only(template, "AWS::Lambda::LayerVersion");
    const assetDir = `${assembly.directory}/asset.${layer.Properties.Content.S3Key.replace(/\.zip$/, "")}`;
    assert.deepEqual(fs.readdirSync(assetDir), ["dev.yaml"]);
    assert.equal(fs.readFileSync(`${assetDir}/dev.yaml`, "utf8"), TEAM_MAPPING);
    template.hasResourceProperties("AWS::Lambda::Function", { Layers: [{ Ref: only(template, "AWS::Lambda::LayerVersion")[0] }] });
  });

  it("requires the team's mapping file", () => {
    assert.throws(() => synth({ mappingFile: "/nonexistent/prod.yaml" }), /ENOENT/);
  });

  it("an existing parameter: none created, the function reads it at the label, KMS through SSM only", () => {
    const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd";
    const template = synth({ existingParameterName: "/myapp/prod/claim-mapping", kmsKeyArn: key, mappingLabel: "canary" });
    assert.deepEqual(ofType(template, "AWS::SSM::Parameter"), {});
    const vars = only(template, "AWS::Lambda::Function")[1].Properties.Environment.Variables;
    assert.equal(vars.CLAIM_MAPPING_SSM_PARAMETER, "/myapp/prod/claim-mapping:canary");
    const statements = only(template, "AWS::IAM::Policy")[1].Properties.PolicyDocument.Statement;
    assert.deepEqual(statements, [
      {
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Effect: "Allow",
        Resource: {
          "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":ssm:eu-west-1:123456789012:parameter/myapp/prod/claim-mapping"]],
        },
      },
      { Action: "kms:Decrypt", Condition: { StringEquals: { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" } }, Effect: "Allow", Resource: key },
    ]);
    assert.throws(() => synth({ existingParameterName: "no-hierarchy" }), /hierarchy/);
  });
});

describe("IAM", () => {
  it("the role may read the one parameter it created, nothing else beyond basic logging", () => {
    const template = synth();
    const parameterId = only(template, "AWS::SSM::Parameter")[0];
    const policies = Object.values(ofType(template, "AWS::IAM::Policy"));
    // The function role's policy (the CodeDeploy role gets a managed policy only).
    assert.equal(policies.length, 1);
    assert.deepEqual(policies[0].Properties.PolicyDocument.Statement, [
      {
        Action: ["ssm:GetParameter", "ssm:GetParameters"],
        Effect: "Allow",
        Resource: {
          "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":ssm:eu-west-1:123456789012:parameter", { Ref: parameterId }]],
        },
      },
    ]);
    const roles = Object.values(ofType(template, "AWS::IAM::Role")).map((r: any) => JSON.stringify(r.Properties.ManagedPolicyArns));
    assert.ok(roles.some((r) => r.includes("service-role/AWSLambdaBasicExecutionRole")));
  });

  it("lookup tables: GetItem and BatchGetItem on exactly the ARNs given, nothing more", () => {
    assert.deepEqual(dynamodbStatements(synth({ lookupTableArns: [TENANTS, PLANS] })), [
      { Action: ["dynamodb:GetItem", "dynamodb:BatchGetItem"], Effect: "Allow", Resource: [TENANTS, PLANS] },
    ]);
    // A table's ARN known at deploy time only (a token) is granted as it is.
    assert.deepEqual(dynamodbStatements(synth({ lookupTableArns: [Fn.importValue("TenantsTableArn")] })), [
      { Action: ["dynamodb:GetItem", "dynamodb:BatchGetItem"], Effect: "Allow", Resource: { "Fn::ImportValue": "TenantsTableArn" } },
    ]);
  });

  it("no lookup tables given (unset or empty): no DynamoDB permission", () => {
    for (const props of [{}, { lookupTableArns: [] }]) {
      const template = synth(props);
      assert.deepEqual(dynamodbStatements(template), []);
      assert.doesNotMatch(JSON.stringify(template.toJSON()), /dynamodb:/);
    }
  });

  it("refuses what is not a table's own ARN: an index, a wildcard, a name", () => {
    for (const arn of [`${TENANTS}/index/by-plan`, "arn:aws:dynamodb:eu-west-1:123456789012:table/*", "*", "tenants"]) {
      assert.throws(() => synth({ lookupTableArns: [arn] }), /not a DynamoDB table ARN/, arn);
    }
  });
});

describe("alias, versions and gradual deployment", () => {
  it("publishes a version behind `live`, moved by CodeDeploy (Canary10Percent5Minutes), rolled back by the alarm", () => {
    const template = synth();
    const [versionId] = only(template, "AWS::Lambda::Version");
    const [aliasId, alias] = only(template, "AWS::Lambda::Alias");
    assert.equal(alias.Properties.Name, "live");
    assert.deepEqual(alias.Properties.FunctionVersion, { "Fn::GetAtt": [versionId, "Version"] });
    assert.deepEqual(alias.Properties.FunctionName, { Ref: functionId(template) });
    assert.ok(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate, `${aliasId} is updated by CodeDeploy`);
    const [alarmId] = Object.entries(ofType(template, "AWS::CloudWatch::Alarm")).find(([, a]: any) => a.Properties.MetricName === "Errors")!;
    template.hasResourceProperties("AWS::CodeDeploy::DeploymentGroup", {
      DeploymentConfigName: "CodeDeployDefault.LambdaCanary10Percent5Minutes",
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: alarmId } }] },
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: Match.arrayEquals(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"]),
      },
    });
    template.hasResource("AWS::Lambda::Version", { DeletionPolicy: "Retain" });
  });

  // What the SAM stack must have too: a changed setting that reaches the function reaches `live`.
  const base = fixture();
  const published = (props: object, files = base) => {
    const template = synth({ ...files, ...props });
    const [versionId] = only(template, "AWS::Lambda::Version");
    const alias = only(template, "AWS::Lambda::Alias")[1];
    assert.deepEqual(alias.Properties.FunctionVersion, { "Fn::GetAtt": [versionId, "Version"] });
    return versionId;
  };
  const before = published({});
  for (const [what, props] of [
    ["mode", { mode: "shadow" }],
    ["mode", { mode: "compare" }],
    ["refresh", { refreshSeconds: 30 }],
    ["label", { mappingLabel: "canary" }],
    ["environment", { environment: "dev" }],
    ["mapping source", { mappingSource: "file" }],
    ["existing parameter", { existingParameterName: "/myapp/prod/claim-mapping" }],
  ] as const) {
    it(`a changed ${what} (${JSON.stringify(props)}) publishes a new version behind live`, () => {
      assert.notEqual(published(props), before);
    });
  }
  it("a changed mapping file publishes a new version behind live", () => {
    const changed = { ...base, mappingFile: fixture(TEAM_MAPPING.replace("team_claim", "other_claim")).mappingFile };
    assert.notEqual(published({}, changed), before);
  });
  it("a changed zip publishes a new version behind live", () => {
    const changed = fixture();
    fs.appendFileSync(`${changed.zipDirectory}/claim-mapper-lambda/bootstrap.zip`, "x");
    assert.notEqual(published({}, { ...changed, mappingFile: base.mappingFile }), before);
  });
  it("the same settings keep the version (a redeploy publishes nothing)", () => {
    assert.equal(published({}), before);
    assert.equal(published({}, fixture()), before);
  });
  it("settings that do not reach the function keep the version", () => {
    assert.equal(
      published({
        deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
        logRetention: logs.RetentionDays.ONE_YEAR,
        lookupTableArns: [TENANTS],
      }),
      before,
    );
  });
});

describe("alarms", () => {
  it("has the SAM stack's six alarms, on the alias's Errors and the function's own metrics", () => {
    const template = synth();
    const fn = functionId(template);
    const alarms = Object.values(ofType(template, "AWS::CloudWatch::Alarm")).map((a: any) => a.Properties);
    assert.deepEqual(alarms.map((a) => a.MetricName).sort(), [
      "CanaryRolledBack",
      "Errors",
      "FallbackServed",
      "LookupsFailed",
      "MappingVersionRejected",
      "RulesSkipped",
    ]);
    const errors = alarms.find((a) => a.MetricName === "Errors");
    assert.equal(errors.Namespace, "AWS/Lambda");
    assert.deepEqual(errors.Dimensions, [
      { Name: "FunctionName", Value: { Ref: fn } },
      { Name: "Resource", Value: { "Fn::Join": ["", [{ Ref: fn }, ":live"]] } },
    ]);
    for (const a of alarms) {
      assert.equal(a.Threshold, 1);
      assert.equal(a.ComparisonOperator, "GreaterThanOrEqualToThreshold");
      assert.equal(a.TreatMissingData, "notBreaching");
      assert.equal(a.Statistic, "Sum");
      assert.equal(a.AlarmActions, undefined);
      if (a.Namespace === "ClaimMapper") {
        assert.deepEqual(a.Dimensions, [
          { Name: "function_name", Value: "cognito-claim-mapper-prod" },
          { Name: "service", Value: "claim-mapper" },
        ]);
      }
    }
    assert.equal(alarms.find((a) => a.MetricName === "RulesSkipped").Period, 300);
    assert.equal(alarms.find((a) => a.MetricName === "LookupsFailed").Period, 300);
  });

  it("watches failed lookups with no table given too (a mapping with lookups then fails them), not with the file-only build", () => {
    const metrics = (props: object) =>
      Object.values(ofType(synth(props), "AWS::CloudWatch::Alarm")).map((a: any) => a.Properties.MetricName);
    assert.ok(metrics({}).includes("LookupsFailed"));
    assert.ok(metrics({ lookupTableArns: [TENANTS] }).includes("LookupsFailed"));
    // The file-only build refuses a mapping with lookups at init: a refused sign-in, not a failed lookup.
    assert.deepEqual(metrics({ mappingSource: "file" }).sort(), ["Errors", "FallbackServed", "MappingVersionRejected", "RulesSkipped"]);
  });

  it("notifies the topic, if given, from every alarm", () => {
    const app = new App();
    const stack = new Stack(app, "S", { env: ENV });
    const topic = new sns.Topic(stack, "Alarms");
    new ClaimMapper(stack, "M", { ...fixture(), alarmTopic: topic });
    const alarms = Object.values(Template.fromStack(stack).findResources("AWS::CloudWatch::Alarm"));
    assert.equal(alarms.length, 6);
    const topicId = stack.getLogicalId(topic.node.defaultChild as any);
    for (const a of alarms) assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
  });

  it("keeps logs for 30 days by default, in /aws/lambda/<stack name>", () => {
    const template = synth();
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30, LogGroupName: "/aws/lambda/ClaimMapperStack" });
    const [logGroupId] = only(template, "AWS::Logs::LogGroup");
    template.hasResourceProperties("AWS::Lambda::Function", { LoggingConfig: { LogGroup: { Ref: logGroupId } } });
  });
});

describe("wiring a pool of the same app", () => {
  for (const version of [cognito.LambdaVersion.V2_0, cognito.LambdaVersion.V3_0]) {
    it(`points the pool's PreTokenGenerationConfig at the alias with ${version}, and lets that pool alone invoke it`, () => {
      const template = synth({}, (mapper, stack) => mapper.attachTo(new cognito.UserPool(stack, "Pool"), version));
      const [poolId, pool] = only(template, "AWS::Cognito::UserPool");
      assert.deepEqual(pool.Properties.LambdaConfig, { PreTokenGenerationConfig: { LambdaArn: aliasRef(template), LambdaVersion: version } });
      const [, permission] = only(template, "AWS::Lambda::Permission");
      assert.deepEqual(permission.Properties, {
        Action: "lambda:InvokeFunction",
        FunctionName: aliasRef(template),
        Principal: "cognito-idp.amazonaws.com",
        SourceArn: { "Fn::GetAtt": [poolId, "Arn"] },
      });
    });
  }

  it("refuses V1_0, which drops access-token claims", () => {
    assert.throws(() => synth({}, (m, s) => m.attachTo(new cognito.UserPool(s, "Pool"), cognito.LambdaVersion.V1_0)), /V1_0/);
  });

  it("a pool in another stack: the permission lives with the pool, no circular dependency", () => {
    const app = new App();
    const mapperStack = new Stack(app, "Mapper", { env: ENV });
    const poolStack = new Stack(app, "Pool", { env: ENV });
    const mapper = new ClaimMapper(mapperStack, "ClaimMapper", fixture());
    const pool = new cognito.UserPool(poolStack, "Pool");
    mapper.attachTo(pool, cognito.LambdaVersion.V3_0);
    app.synth(); // throws on a dependency cycle
    assert.deepEqual(poolStack.dependencies.map((s) => s.stackName), ["Mapper"]);
    assert.deepEqual(mapperStack.dependencies, []);
    const poolTemplate = Template.fromStack(poolStack);
    const mapperTemplate = Template.fromStack(mapperStack);
    assert.deepEqual(mapperTemplate.findResources("AWS::Lambda::Permission"), {});
    const [poolId, userPool] = only(poolTemplate, "AWS::Cognito::UserPool");
    const imported = userPool.Properties.LambdaConfig.PreTokenGenerationConfig;
    assert.equal(imported.LambdaVersion, "V3_0");
    assert.match(JSON.stringify(imported.LambdaArn), /Fn::ImportValue/);
    const [, permission] = only(poolTemplate, "AWS::Lambda::Permission");
    assert.deepEqual(permission.Properties.SourceArn, { "Fn::GetAtt": [poolId, "Arn"] });
    assert.deepEqual(permission.Properties.FunctionName, imported.LambdaArn);
  });

  it("the same app, one stack: synthesises (no cycle between pool, alias and permission)", () => {
    const app = new App();
    const stack = new Stack(app, "One", { env: ENV });
    const mapper = new ClaimMapper(stack, "ClaimMapper", fixture());
    mapper.attachTo(new cognito.UserPool(stack, "Pool"));
    assert.doesNotThrow(() => app.synth());
  });
});

describe("a pool the app does not own", () => {
  for (const given of ["eu-west-1_Example12", "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example12"]) {
    it(`(${given}) the permission is scoped to that pool's ARN; the alias ARN and attach command are outputs`, () => {
      const template = synth({}, (mapper) => mapper.allowPool(given));
      const [, permission] = only(template, "AWS::Lambda::Permission");
      assert.equal(permission.Properties.Principal, "cognito-idp.amazonaws.com");
      assert.equal(permission.Properties.Action, "lambda:InvokeFunction");
      assert.deepEqual(permission.Properties.FunctionName, aliasRef(template));
      assert.deepEqual(permission.Properties.SourceAccount, "123456789012");
      const arn = JSON.stringify(Stack.prototype.resolve.call(new Stack(), permission.Properties.SourceArn));
      assert.match(arn, /cognito-idp:eu-west-1:123456789012:userpool\/eu-west-1_Example12/);
      const outputs = template.toJSON().Outputs;
      const functionArn = Object.entries(outputs).find(([k]) => k.includes("FunctionArn"))![1] as any;
      assert.deepEqual(functionArn.Value, aliasRef(template));
      const attach = JSON.stringify(Object.entries(outputs).find(([k]) => k.includes("AttachCommand"))![1]);
      assert.match(attach, /claim-mapper attach --user-pool-id eu-west-1_Example12 --function-arn /);
      assert.deepEqual(ofType(template, "AWS::Cognito::UserPool"), {});
    });
  }
  it("refuses what is neither a pool id nor a pool ARN", () => {
    assert.throws(() => synth({}, (m) => m.allowPool("not a pool")), /neither/);
  });
});
