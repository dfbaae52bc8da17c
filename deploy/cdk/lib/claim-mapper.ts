// The CDK counterpart of deploy/template.yaml: the same function, parameter, layer, alias with
// gradual deployments, alarms, log group and IAM, for teams whose user pool lives in the CDK.
// test/drift.test.ts compares what this synthesises with the SAM stack, so change both together.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  Token,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_codedeploy as codedeploy,
  aws_cognito as cognito,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sns as sns,
  aws_ssm as ssm,
} from "aws-cdk-lib";
import { Construct } from "constructs";

export type MappingSource = "ssm" | "file";
export type MappingMode = "apply" | "shadow" | "compare";

export interface ClaimMapperProps {
  /**
   * The team's mapping file for this environment (YAML, format version 1). The SSM parameter
   * starts out holding its text, and the mappings layer holds it as `/opt/<environment>.yaml`,
   * the file the function falls back to. Required: no example mapping is deployed unless named.
   */
  readonly mappingFile: string;
  /**
   * Names the parameter (`/cognito-claim-mapper/<environment>/claim-mapping`), the layer's file
   * and the `function_name` dimension of the function's own metrics.
   * @default "prod"
   */
  readonly environment?: string;
  /**
   * The folder `scripts/build arm64` writes: `claim-mapper-lambda/bootstrap.zip` (ssm) and
   * `claim-mapper-lambda-file/bootstrap.zip` (file) below it.
   * @default this repository's target/lambda/arm64
   */
  readonly zipDirectory?: string;
  /**
   * `ssm`: the parameter is primary and the bundled file the fallback (the SSM build);
   * `file`: the bundled file only (the file-only build, no SSM permission).
   * @default "ssm"
   */
  readonly mappingSource?: MappingSource;
  /**
   * `CLAIM_MAPPING_MODE`: `apply` changes tokens; `shadow` and `compare` only log (docs/operations.md, Shadow mode).
   * @default "apply"
   */
  readonly mode?: MappingMode;
  /**
   * With `ssm`: re-read the parameter when the live mapping is older than this (0 = once per cold start).
   * @default 60
   */
  readonly refreshSeconds?: number;
  /**
   * With `ssm`: the parameter label the function reads (`NAME:LABEL`).
   * @default "live"
   */
  readonly mappingLabel?: string;
  /**
   * A parameter created beforehand (a name in a hierarchy, `/a/b`), e.g. a SecureString: the
   * construct then creates none and the function reads this one.
   * @default a String parameter seeded from mappingFile
   */
  readonly existingParameterName?: string;
  /**
   * The customer managed key of a SecureString `existingParameterName`: grants `kms:Decrypt` on
   * it through SSM only. Leave unset for the AWS managed key `aws/ssm`.
   * @default no KMS grant
   */
  readonly kmsKeyArn?: string;
  /**
   * With `ssm`: the ARNs of the DynamoDB tables the mapping's lookups read
   * (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`, or a table's `tableArn`). Grants
   * `dynamodb:GetItem` and `dynamodb:BatchGetItem` on exactly these: no index ARN, no wildcard.
   * Unset or empty: no table access, so a mapping with lookups fails its lookups, counted by the
   * `LookupsFailed` metric (the lookup failures alarm). Ignored with `file`, whose build refuses a
   * mapping with lookups.
   * @default no table access
   */
  readonly lookupTableArns?: string[];
  /**
   * How CodeDeploy shifts sign-ins to a new version of the `live` alias.
   * @default LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
   */
  readonly deploymentConfig?: codedeploy.ILambdaDeploymentConfig;
  /**
   * Days the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Encrypts the log group; its key policy must let `logs.REGION.amazonaws.com` use it.
   * @default CloudWatch Logs' own encryption at rest
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Notified when an alarm fires (refused sign-ins, skipped rules, rejected mapping versions, fallback serving, failed lookups).
   * @default no notification
   */
  readonly alarmTopic?: sns.ITopic;
}

const NAMESPACE = "ClaimMapper";
const SERVICE = "claim-mapper";
const ALIAS = "live";
// A table's own ARN, as the template's LookupTableArns allows: no index, no wildcard.
const TABLE_ARN = /^arn:[a-z-]+:dynamodb:[a-z0-9-]+:[0-9]{12}:table\/[a-zA-Z0-9_.-]{3,255}$/;

/**
 * The Pre Token Generation trigger of cognito-claim-mapper, as deploy/template.yaml deploys it.
 * Attach it with `attachTo(pool)` (a pool of this app) or `allowPool(poolId)` (a pool owned
 * elsewhere).
 */
export class ClaimMapper extends Construct {
  readonly function: lambda.Function;
  /** The alias Cognito invokes; CodeDeploy moves it to each new version. */
  readonly alias: lambda.Alias;
  /** The parameter the construct created (undefined with existingParameterName). */
  readonly parameter?: ssm.CfnParameter;
  /** The name of the parameter the function reads. */
  readonly parameterName: string;
  readonly refusedSignInsAlarm: cloudwatch.Alarm;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ClaimMapperProps) {
    super(scope, id);
    const environment = props.environment ?? "prod";
    const source = props.mappingSource ?? "ssm";
    const label = props.mappingLabel ?? "live";
    const refresh = props.refreshSeconds ?? 60;
    if (!/^[A-Za-z0-9_.-]+$/.test(environment)) {
      throw new Error(`environment ${JSON.stringify(environment)}: letters, digits, _ . - only (it names a file and a parameter)`);
    }
    if (!Number.isInteger(refresh) || refresh < 0) {
      throw new Error(`refreshSeconds must be a whole number >= 0, not ${refresh}`);
    }
    if (props.existingParameterName !== undefined && !/^(\/[a-zA-Z0-9_.-]+)+$/.test(props.existingParameterName)) {
      throw new Error(`existingParameterName ${props.existingParameterName}: a name in a hierarchy (/a/b), without :VERSION or :LABEL`);
    }
    const lookupTableArns = props.lookupTableArns ?? [];
    for (const arn of lookupTableArns) {
      // A token (a table's tableArn) resolves at deploy time to a table's ARN.
      if (!Token.isUnresolved(arn) && !TABLE_ARN.test(arn)) {
        throw new Error(`lookupTableArns: ${arn} is not a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME; no index, no wildcard)`);
      }
    }
    const mappingText = fs.readFileSync(props.mappingFile, "utf8");
    const stack = Stack.of(this);

    // The layer holds this environment's file alone, under the name the function reads.
    const layerDir = fs.mkdtempSync(path.join(os.tmpdir(), "claim-mapper-layer-"));
    fs.writeFileSync(path.join(layerDir, `${environment}.yaml`), mappingText);
    const layer = new lambda.LayerVersion(this, "MappingsLayer", {
      layerVersionName: `${stack.stackName}-mappings`,
      description: "cognito-claim-mapper mapping files",
      code: lambda.Code.fromAsset(layerDir),
      compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
      compatibleArchitectures: [lambda.Architecture.ARM_64],
      // As SAM does: a function version keeps working with the layer version it was published with.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    if (props.existingParameterName === undefined) {
      this.parameter = new ssm.CfnParameter(this, "ClaimMappingParameter", {
        name: `/cognito-claim-mapper/${environment}/claim-mapping`,
        type: "String",
        tier: "Intelligent-Tiering",
        description: "Claim mapping of the Pre Token Generation trigger (YAML, format version 1)",
        value: mappingText,
      });
      this.parameterName = this.parameter.ref;
    } else {
      this.parameterName = props.existingParameterName;
    }

    const logGroup = new logs.LogGroup(this, "FunctionLogGroup", {
      logGroupName: `/aws/lambda/${stack.stackName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      encryptionKey: props.logEncryptionKey,
      // Deleted with the stack, as the SAM stack's is (docs/operations.md, Tearing down).
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const build = source === "ssm" ? "claim-mapper-lambda" : "claim-mapper-lambda-file";
    const zipDirectory = props.zipDirectory ?? path.resolve(__dirname, "..", "..", "..", "..", "target", "lambda", "arm64");
    const environmentVariables: Record<string, string> = {
      CLAIM_MAPPING_MODE: props.mode ?? "apply",
      // The alarms read these names (embedded metric format), whichever build is deployed.
      POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
      POWERTOOLS_SERVICE_NAME: SERVICE,
      POWERTOOLS_METRICS_FUNCTION_NAME: `cognito-claim-mapper-${environment}`,
      CLAIM_MAPPING_FILE: `/opt/${environment}.yaml`,
    };
    if (source === "ssm") {
      environmentVariables.CLAIM_MAPPING_SSM_PARAMETER = `${this.parameterName}:${label}`;
      environmentVariables.CLAIM_MAPPING_REFRESH_SECONDS = String(refresh);
    }
    this.function = new lambda.Function(this, "Function", {
      code: lambda.Code.fromAsset(path.join(zipDirectory, build, "bootstrap.zip")),
      handler: "bootstrap",
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 128,
      // Cognito waits 5 s for the trigger in all.
      timeout: Duration.seconds(5),
      layers: [layer],
      environment: environmentVariables,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      logGroup,
      // As SAM does: a version survives updates (deleting the function deletes them all).
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    // The layer's ARN is a Ref whose text stays the same when its file changes; without this a
    // changed mapping file would not publish a new version behind the alias.
    this.function.invalidateVersionBasedOn(crypto.createHash("sha256").update(mappingText).digest("hex"));

    if (source === "ssm") {
      // Least privilege: this one parameter (GetParameters reads its release candidates' labels in
      // one call), and the key only in requests SSM makes for the function.
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["ssm:GetParameter", "ssm:GetParameters"],
          resources: [`arn:${stack.partition}:ssm:${stack.region}:${stack.account}:parameter${this.parameterName}`],
        }),
      );
      if (props.kmsKeyArn) {
        this.function.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ["kms:Decrypt"],
            resources: [props.kmsKeyArn],
            conditions: { StringEquals: { "kms:ViaService": `ssm.${stack.region}.amazonaws.com` } },
          }),
        );
      }
      // The lookups' tables, and only those: the function reads with one BatchGetItem; GetItem
      // reads the same items, so the grant does not depend on how the reads are batched.
      if (lookupTableArns.length > 0) {
        this.function.addToRolePolicy(
          new iam.PolicyStatement({ actions: ["dynamodb:GetItem", "dynamodb:BatchGetItem"], resources: [...lookupTableArns] }),
        );
      }
    }

    // currentVersion is named after a hash of the function's configuration (code, environment,
    // layers, and the mapping's hash above): a changed mode, refresh, label or file publishes a
    // new version, and CodeDeploy shifts sign-ins to it.
    this.alias = new lambda.Alias(this, "LiveAlias", { aliasName: ALIAS, version: this.function.currentVersion });

    const alarm = (id: string, description: string, metric: cloudwatch.IMetric) => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) created.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      return created;
    };
    // A refused sign-in is an invocation error of the live alias; one rolls a deployment back.
    this.refusedSignInsAlarm = alarm(
      "RefusedSignInsAlarm",
      "Sign-ins refused by the claim mapper (invocation errors of the live alias)",
      new cloudwatch.Metric({
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensionsMap: { FunctionName: this.function.functionName, Resource: `${this.function.functionName}:${ALIAS}` },
        statistic: "Sum",
        period: Duration.seconds(60),
      }),
    );
    const own = (metricName: string, minutes: number) =>
      new cloudwatch.Metric({
        namespace: NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE, function_name: `cognito-claim-mapper-${environment}` },
        statistic: "Sum",
        period: Duration.minutes(minutes),
      });
    // None of these refuses a sign-in, so they notify rather than roll back.
    this.alarms = [
      this.refusedSignInsAlarm,
      alarm("SkippedRulesAlarm", "Claim rules skipped under on_error skip (a claim left out of tokens)", own("RulesSkipped", 5)),
      alarm(
        "RejectedMappingAlarm",
        "A new mapping version in SSM was rejected as invalid; the last good mapping stays live",
        own("MappingVersionRejected", 1),
      ),
      alarm(
        "FallbackServingAlarm",
        "Sign-ins served by the bundled fallback file because the SSM parameter could not be read at cold start",
        own("FallbackServed", 1),
      ),
    ];
    // Only the SSM build reads tables (the file-only build refuses a mapping with lookups at
    // init), and whatever the tables given: a mapping with lookups and no grant is what it reports.
    if (source === "ssm") {
      this.alarms.push(
        alarm(
          "LookupFailuresAlarm",
          "DynamoDB lookups of the claim mapping failed or timed out (claims that read them follow the lookup's on_error)",
          own("LookupsFailed", 5),
        ),
        alarm(
          "CanaryRolledBackAlarm",
          "A canary mapping refused or skipped more sign-ins than the live mapping and was rolled back on an instance; end the release with claim-mapper abort",
          own("CanaryRolledBack", 1),
        ),
      );
    }

    new codedeploy.LambdaDeploymentGroup(this, "DeploymentGroup", {
      alias: this.alias,
      deploymentConfig: props.deploymentConfig ?? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [this.refusedSignInsAlarm],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
  }

  /**
   * Sets the alias as the Pre Token Generation trigger of a pool of this app (event version
   * V2_0 or V3_0; both need the Essentials or Plus plan) and lets that pool alone invoke it.
   * The permission is created in the pool's stack, so a pool in another stack depends on this
   * one and not the other way round (no circular dependency).
   */
  attachTo(pool: cognito.UserPool, triggerVersion: cognito.LambdaVersion = cognito.LambdaVersion.V2_0): void {
    if (triggerVersion !== cognito.LambdaVersion.V2_0 && triggerVersion !== cognito.LambdaVersion.V3_0) {
      // V1_0 customises the ID token only: every access-token claim of a mapping would be lost.
      throw new Error(`triggerVersion ${triggerVersion}: use V2_0 or V3_0 (V1_0 drops access-token claims)`);
    }
    const poolStack = Stack.of(pool);
    const target: lambda.IFunction =
      poolStack === Stack.of(this)
        ? this.alias
        : // addTrigger adds the permission to the function it is given; an import living in the
          // pool's stack puts it there.
          lambda.Function.fromFunctionAttributes(pool, `${this.node.id}ClaimMapperAlias`, {
            functionArn: this.alias.functionArn,
            sameEnvironment: true,
          });
    pool.addTrigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, target, triggerVersion);
  }

  /**
   * For a pool this app does not own (its id, or its ARN): lets that pool alone invoke the alias, and
   * outputs the alias ARN and the `claim-mapper attach` command its owner runs (or sets the
   * ARN in their own CDK or Terraform, docs/cdk.md).
   */
  allowPool(userPool: string, triggerVersion: cognito.LambdaVersion = cognito.LambdaVersion.V2_0): void {
    const fromArn = /^arn:[a-z-]+:cognito-idp:[a-z0-9-]+:([0-9]{12}):userpool\/([\w-]+_[0-9a-zA-Z]+)$/.exec(userPool);
    if (!fromArn && !/^[\w-]+_[0-9a-zA-Z]+$/.test(userPool)) {
      throw new Error(`${userPool}: neither a user pool id (REGION_xxxx) nor a user pool ARN`);
    }
    const userPoolId = fromArn ? fromArn[2] : userPool;
    const stack = Stack.of(this);
    const poolArn = fromArn
      ? userPool
      : `arn:${stack.partition}:cognito-idp:${stack.region}:${stack.account}:userpool/${userPoolId}`;
    this.alias.addPermission("CognitoInvokePermission", {
      principal: new iam.ServicePrincipal("cognito-idp.amazonaws.com"),
      action: "lambda:InvokeFunction",
      sourceArn: poolArn,
      sourceAccount: fromArn ? fromArn[1] : stack.account,
    });
    new CfnOutput(this, "FunctionArn", { description: "The live alias, which Cognito invokes", value: this.alias.functionArn });
    new CfnOutput(this, "AttachCommand", {
      description: "Sets this function as the pool's Pre Token Generation trigger, keeping every other setting of the pool",
      value: `claim-mapper attach --user-pool-id ${userPoolId} --function-arn ${this.alias.functionArn} --trigger-version ${triggerVersion}`,
    });
  }
}
