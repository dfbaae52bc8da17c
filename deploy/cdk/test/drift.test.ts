// The CDK stack against the SAM stack (deploy/template.yaml translated offline by
// test/sam_translate.py), for the same settings: the same kinds of resources, alarms, IAM
// actions and resources, and function configuration. Also cfn-lint on what the CDK synthesises.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { App, Stack, aws_codedeploy as codedeploy, aws_cognito as cognito, aws_sns as sns } from "aws-cdk-lib";
import { ClaimMapper, ClaimMapperProps } from "../lib/claim-mapper";
import { ENV, ROOT, fixture } from "./helpers";

const PYTHON = path.join(ROOT, ".venv", "bin", "python");
const CFN_LINT = path.join(ROOT, ".venv", "bin", "cfn-lint");
const STACK = "ClaimMapperStack";
const POOL_ID = "eu-west-1_Example12";
const KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:claim-mapper-alarms";
const TABLES = ["arn:aws:dynamodb:eu-west-1:123456789012:table/tenants", "arn:aws:dynamodb:eu-west-1:123456789012:table/plans"];
// The resource kinds the comparison covers; any other kind on either side fails it.
const COMPARED = [
  "AWS::Lambda::Function",
  "AWS::Lambda::Version",
  "AWS::Lambda::Alias",
  "AWS::Lambda::LayerVersion",
  "AWS::Lambda::Permission",
  "AWS::CodeDeploy::Application",
  "AWS::CodeDeploy::DeploymentGroup",
  "AWS::CloudWatch::Alarm",
  "AWS::Logs::LogGroup",
  "AWS::SSM::Parameter",
  "AWS::IAM::Role",
  "AWS::IAM::Policy",
];
// Not part of what is deployed for the trigger: a pool (the team's own, or SAM's trial pool) and
// the CDK's version-reporting resource.
const IGNORED = ["AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::CDK::Metadata"];
// The one known difference: CDK gives CodeDeploy the narrower managed policy (no S3 or other
// actions a CloudFormation-driven Lambda deployment does not use); SAM the broader one.
const CODEDEPLOY_POLICY = { cdk: "AWSCodeDeployRoleForLambdaLimited", sam: "AWSCodeDeployRoleForLambda" };

type Json = any;
const NO_VALUE = Symbol("AWS::NoValue");

function samTemplate(parameters: Record<string, string>): Json {
  const args = Object.entries(parameters).map(([k, v]) => `${k}=${v}`);
  const out = execFileSync(PYTHON, [path.join(ROOT, "deploy", "cdk", "test", "sam_translate.py"), ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out);
}

/** Resolves intrinsic functions to comparable text: parameters and pseudo parameters to values,
 * a resource's Ref to `<Type>`, GetAtt to `<Type.Attribute>`. */
function resolver(template: Json, parameters: Record<string, string>) {
  const resources = template.Resources;
  const values: Record<string, Json> = {};
  for (const [name, p] of Object.entries<Json>(template.Parameters ?? {})) {
    if ("Default" in p) values[name] = String(p.Default);
  }
  Object.assign(values, parameters);
  // As CloudFormation reads a CommaDelimitedList: a list, "" being a list of one empty string.
  for (const [name, p] of Object.entries<Json>(template.Parameters ?? {})) {
    if (p.Type === "CommaDelimitedList" && name in values) values[name] = values[name].split(",");
  }
  Object.assign(values, {
    "AWS::Region": ENV.region,
    "AWS::AccountId": ENV.account,
    "AWS::Partition": "aws",
    "AWS::StackName": STACK,
    "AWS::URLSuffix": "amazonaws.com",
  });
  const ref = (name: string): Json => {
    if (name === "AWS::NoValue") return NO_VALUE;
    if (name in values) return values[name];
    if (name in resources) return `<${resources[name].Type}>`;
    throw new Error(`Ref to unknown ${name}`);
  };
  const condition = (name: string): boolean => test(template.Conditions[name]);
  const test = (node: Json): boolean => {
    const [[fn, arg]] = Object.entries<Json>(node);
    switch (fn) {
      case "Fn::Equals":
        return resolve(arg[0]) === resolve(arg[1]);
      case "Fn::And":
        return arg.every(test);
      case "Fn::Or":
        return arg.some(test);
      case "Fn::Not":
        return !test(arg[0]);
      case "Condition":
        return condition(arg);
    }
    throw new Error(`condition ${fn}`);
  };
  const resolve = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(resolve).filter((v) => v !== NO_VALUE);
    if (node === null || typeof node !== "object") return node;
    const keys = Object.keys(node);
    if (keys.length === 1) {
      const arg = node[keys[0]];
      switch (keys[0]) {
        case "Ref":
          return ref(arg);
        case "Fn::GetAtt": {
          const [name, attribute] = Array.isArray(arg) ? arg : arg.split(/\.(.*)/);
          return `<${resources[name].Type}.${attribute}>`;
        }
        case "Fn::Join":
          return resolve(arg[1]).join(arg[0]);
        case "Fn::Sub": {
          const [text, local] = typeof arg === "string" ? [arg, {}] : arg;
          return text.replace(/\$\{([^!}][^}]*)\}/g, (_: string, name: string) => {
            if (name in local) return resolve(local[name]);
            const [base, attribute] = name.split(/\.(.*)/);
            return attribute ? `<${resources[base].Type}.${attribute}>` : ref(base);
          });
        }
        case "Fn::If":
          return resolve(condition(arg[0]) ? arg[1] : arg[2]);
        case "Fn::FindInMap": {
          const [map, first, second] = arg.map(resolve);
          return template.Mappings[map][first][second];
        }
      }
    }
    const out: Json = {};
    for (const key of keys) {
      const value = resolve(node[key]);
      if (value !== NO_VALUE) out[key] = value;
    }
    return out;
  };
  const created = Object.entries<Json>(resources).filter(([, r]) => !r.Condition || condition(r.Condition));
  // A resource that refers to one not created is not deployable (CloudFormation cannot resolve
  // the reference): left out, and reported.
  const names = new Set(created.map(([id]) => id));
  const refersTo = (node: Json): string[] =>
    Array.isArray(node)
      ? node.flatMap(refersTo)
      : node && typeof node === "object"
        ? Object.entries<Json>(node).flatMap(([k, v]) =>
            k === "Ref" && typeof v === "string" ? [v] : k === "Fn::GetAtt" ? [Array.isArray(v) ? v[0] : v.split(".")[0]] : refersTo(v),
          )
        : [];
  const taken = (node: Json): Json =>
    Array.isArray(node)
      ? node.map(taken)
      : node && typeof node === "object"
        ? "Fn::If" in node
          ? taken(condition(node["Fn::If"][0]) ? node["Fn::If"][1] : node["Fn::If"][2])
          : Object.fromEntries(Object.entries<Json>(node).map(([k, v]) => [k, taken(v)]))
        : node;
  const dangling = created
    .filter(([, r]) => refersTo(taken(r.Properties)).some((x) => x in resources && !names.has(x)))
    .map(([id]) => id);
  const deployed = created.filter(([id]) => !dangling.includes(id));
  return { resolve, deployed, dangling };
}

/** Order-free: arrays sorted, a lone IAM Action/Resource/Service as a one-item list; a number
 * given as text (a template parameter's value) as a number. */
function normalise(node: Json): Json {
  if (typeof node === "string" && /^[0-9]+$/.test(node)) return Number(node);
  if (Array.isArray(node)) return node.map(normalise).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (node === null || typeof node !== "object") return node;
  const out: Json = {};
  for (const key of Object.keys(node).sort()) {
    const value = ["Action", "Resource", "Service"].includes(key) && !Array.isArray(node[key]) ? [node[key]] : node[key];
    out[key] = normalise(value);
  }
  return out;
}

const without = (props: Json, ...keys: string[]) => Object.fromEntries(Object.entries(props ?? {}).filter(([k]) => !keys.includes(k)));

/** What the comparison looks at, per resource kind. */
export function view(template: Json, parameters: Record<string, string> = {}, dangling: string[] = []): Json {
  const resolved = resolver(template, parameters);
  const { resolve, deployed } = resolved;
  dangling.push(...resolved.dangling);
  const byType: Record<string, Json[]> = {};
  const roles: Record<string, Json> = {};
  const policies: Json[] = [];
  for (const [id, r] of deployed) {
    if (IGNORED.includes(r.Type)) continue;
    const props = resolve(r.Properties ?? {});
    const deletion = r.DeletionPolicy ?? "Delete";
    let shown: Json;
    switch (r.Type) {
      case "AWS::Lambda::Function":
        // Code: each side's own upload; Description: SAM's DeployHash; Tags: SAM's createdBy.
        shown = without(props, "Code", "Description", "Tags");
        break;
      case "AWS::Lambda::LayerVersion":
        shown = { ...without(props, "Content"), DeletionPolicy: deletion };
        break;
      case "AWS::Lambda::Version":
        shown = { ...props, DeletionPolicy: deletion };
        break;
      case "AWS::Lambda::Alias":
        shown = { ...props, CodeDeployUpdate: Boolean(r.UpdatePolicy?.CodeDeployLambdaAliasUpdate) };
        break;
      case "AWS::Logs::LogGroup":
        shown = { ...props, DeletionPolicy: deletion };
        break;
      case "AWS::IAM::Role":
        roles[id] = { ...without(props, "Tags", "Policies"), Statements: (props.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement) };
        continue;
      case "AWS::IAM::Policy":
        policies.push({ roles: (r.Properties.Roles ?? []).map((x: Json) => x.Ref), statements: props.PolicyDocument.Statement });
        continue;
      default:
        if (!COMPARED.includes(r.Type)) throw new Error(`${id}: a ${r.Type}, which the drift test does not compare (add it to COMPARED or IGNORED)`);
        shown = props;
    }
    (byType[r.Type] ??= []).push(shown);
  }
  for (const p of policies) for (const role of p.roles) roles[role].Statements.push(...p.statements);
  byType["AWS::IAM::Role"] = Object.values(roles);
  byType["AWS::IAM::Policy"] = [];
  return normalise(byType);
}

interface Case {
  name: string;
  sam: Record<string, string>;
  cdk: Partial<ClaimMapperProps>;
  topic?: boolean;
}
const CASES: Case[] = [
  { name: "SSM build, parameter created, a pool owned elsewhere", sam: { MappingSource: "ssm", UserPoolId: POOL_ID }, cdk: {} },
  // Lookup tables given to the file-only build grant nothing on either side (it refuses lookups).
  {
    name: "file-only build",
    sam: { MappingSource: "file", UserPoolId: POOL_ID, LookupTableArns: TABLES.join(",") },
    cdk: { mappingSource: "file", lookupTableArns: TABLES },
  },
  {
    name: "existing SecureString parameter with a key, label, mode, refresh, environment, alarm topic, lookup tables",
    sam: {
      MappingSource: "ssm",
      UserPoolId: POOL_ID,
      ExistingParameterName: "/myapp/dev/claim-mapping",
      KmsKeyArn: KMS_KEY,
      MappingLabel: "canary",
      MappingMode: "shadow",
      RefreshSeconds: "15",
      Environment: "dev",
      AlarmTopicArn: TOPIC,
      LogRetentionDays: "90",
      DeploymentType: "Linear10PercentEvery1Minute",
      LookupTableArns: TABLES.join(","),
    },
    cdk: {
      existingParameterName: "/myapp/dev/claim-mapping",
      kmsKeyArn: KMS_KEY,
      mappingLabel: "canary",
      mode: "shadow",
      refreshSeconds: 15,
      environment: "dev",
      logRetention: 90,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
      lookupTableArns: TABLES,
    },
    topic: true,
  },
];

function cdkTemplate(c: Partial<ClaimMapperProps>, topic: boolean, wire: (m: ClaimMapper, s: Stack) => void): Json {
  const app = new App();
  const stack = new Stack(app, STACK, { env: ENV });
  const environment = c.environment ?? "prod";
  const mapper = new ClaimMapper(stack, "ClaimMapper", {
    ...fixture(),
    // The SAM template holds this repository's examples (scripts/sync-template).
    mappingFile: path.join(ROOT, "mappings", `${environment}.yaml`),
    alarmTopic: topic ? sns.Topic.fromTopicArn(stack, "Alarms", TOPIC) : undefined,
    ...c,
  });
  wire(mapper, stack);
  return app.synth().getStackByName(STACK).template;
}

function compare(cdk: Json, sam: Json) {
  const policies = (v: Json) =>
    v["AWS::IAM::Role"].filter((r: Json) => JSON.stringify(r.AssumeRolePolicyDocument).includes("codedeploy.amazonaws.com"));
  const cdkDeploy = policies(cdk);
  const samDeploy = policies(sam);
  assert.equal(cdkDeploy.length, 1);
  assert.equal(samDeploy.length, 1);
  assert.deepEqual(cdkDeploy[0].ManagedPolicyArns, [`arn:aws:iam::aws:policy/service-role/${CODEDEPLOY_POLICY.cdk}`]);
  assert.deepEqual(samDeploy[0].ManagedPolicyArns, [`arn:aws:iam::aws:policy/service-role/${CODEDEPLOY_POLICY.sam}`]);
  cdkDeploy[0].ManagedPolicyArns = samDeploy[0].ManagedPolicyArns;
  assert.deepEqual(cdk, sam);
}

describe("drift: the CDK stack deploys what the SAM stack deploys", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const dangling: string[] = [];
      const sam = view(samTemplate(c.sam), c.sam, dangling);
      const cdkDangling: string[] = [];
      const cdk = view(cdkTemplate(c.cdk, c.topic ?? false, (m) => m.allowPool(POOL_ID)), {}, cdkDangling);
      assert.deepEqual(cdkDangling, []);
      // Neither stack refers to a resource it does not create (CloudFormation would refuse it).
      assert.deepEqual(dangling, []);
      // The comparison is only as good as what it sees: the alarms, roles and the function are there.
      // (the lookup failures alarm with the SSM build only)
      assert.equal(sam["AWS::CloudWatch::Alarm"].length, c.sam.MappingSource === "ssm" ? 6 : 4);
      assert.equal(sam["AWS::IAM::Role"].length, 2);
      assert.equal(sam["AWS::Lambda::Function"].length, 1);
      const grantsTables = JSON.stringify(sam["AWS::IAM::Role"]).includes("dynamodb:BatchGetItem");
      assert.equal(grantsTables, c.sam.MappingSource === "ssm" && "LookupTableArns" in c.sam);
      compare(cdk, sam);
    });
  }

  it("a pool of the same app: the same trigger setting and permission as SAM's own pool", () => {
    for (const version of ["V2_0", "V3_0"] as const) {
      const parameters = { MappingSource: "ssm", TriggerVersion: version };
      const samRaw = samTemplate(parameters);
      const cdkRaw = cdkTemplate({}, false, (m, s) => m.attachTo(new cognito.UserPool(s, "Pool"), cognito.LambdaVersion[version]));
      const pool = (t: Json, p: Record<string, string>) => {
        const { resolve, deployed } = resolver(t, p);
        const [[, userPool]] = deployed.filter(([, r]) => r.Type === "AWS::Cognito::UserPool");
        const [[, permission]] = deployed.filter(([, r]) => r.Type === "AWS::Lambda::Permission");
        return { trigger: resolve(userPool.Properties.LambdaConfig), permission: without(resolve(permission.Properties), "SourceAccount") };
      };
      assert.deepEqual(pool(cdkRaw, {}), pool(samRaw, parameters));
      // Everything else as with a pool owned elsewhere.
      const rest = (v: Json) => ({ ...v, "AWS::Lambda::Permission": [] });
      compare(rest(view(cdkRaw)), rest(view(samRaw, parameters)));
    }
  });

  it("fails when one side has an alarm, an IAM action or a resource the other lacks", () => {
    const parameters = CASES[0].sam;
    const sam = samTemplate(parameters);
    const cdk = () => cdkTemplate({}, false, (m) => m.allowPool(POOL_ID));
    const fails = (mutate: (t: Json) => void) => {
      const t = cdk();
      mutate(t);
      // An assertion (a difference) or an error (a kind the comparison does not know).
      assert.throws(() => compare(view(t), view(sam, parameters)));
    };
    assert.doesNotThrow(() => compare(view(cdk()), view(sam, parameters)));
    const first = (t: Json, type: string) => Object.values<Json>(t.Resources).find((r) => r.Type === type);
    fails((t) => {
      const alarm = structuredClone(first(t, "AWS::CloudWatch::Alarm"));
      alarm.Properties.MetricName = "Throttles";
      t.Resources.ExtraAlarm = alarm;
    });
    fails((t) => {
      first(t, "AWS::IAM::Policy").Properties.PolicyDocument.Statement[0].Action = ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"];
    });
    fails((t) => {
      first(t, "AWS::Lambda::Function").Properties.Timeout = 6;
    });
    fails((t) => {
      first(t, "AWS::CloudWatch::Alarm").Properties.Threshold = 2;
    });
    fails((t) => {
      const id = Object.keys(t.Resources).find((k) => t.Resources[k].Properties?.MetricName === "FallbackServed")!;
      delete t.Resources[id];
    });
    fails((t) => {
      first(t, "AWS::Logs::LogGroup").Properties.RetentionInDays = 7;
    });
    fails((t) => {
      first(t, "AWS::Lambda::Function").Properties.Environment.Variables.CLAIM_MAPPING_MODE = "shadow";
    });
    fails((t) => {
      t.Resources.Queue = { Type: "AWS::SQS::Queue", Properties: {} };
    });
  });
});

describe("cfn-lint", () => {
  const lint = (name: string, template: Json) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "claim-mapper-cfn-lint-"));
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(template, null, 1));
    // W3005: the CDK makes the function depend on its role explicitly as well as through GetAtt
    // (so that the role's policy exists first); redundant, not wrong.
    const result = spawnSync(CFN_LINT, ["--ignore-checks", "W3005", "--", file], { encoding: "utf8" });
    assert.equal(result.error, undefined, `${CFN_LINT}: ${result.error}`);
    assert.equal(result.status, 0, `cfn-lint ${name}:\n${result.stdout}${result.stderr}`);
  };
  for (const c of CASES) {
    it(`passes the synthesised template: ${c.name}`, () => lint("stack", cdkTemplate(c.cdk, c.topic ?? false, (m) => m.allowPool(POOL_ID))));
  }
  it("passes both templates of an app whose pool is in another stack", () => {
    const app = new App();
    const mapperStack = new Stack(app, "Mapper", { env: ENV });
    const poolStack = new Stack(app, "Pool", { env: ENV });
    const mapper = new ClaimMapper(mapperStack, "ClaimMapper", { ...fixture(), mappingFile: path.join(ROOT, "mappings", "prod.yaml") });
    mapper.attachTo(new cognito.UserPool(poolStack, "Pool", { featurePlan: cognito.FeaturePlan.ESSENTIALS }), cognito.LambdaVersion.V2_0);
    const assembly = app.synth();
    lint("mapper", assembly.getStackByName("Mapper").template);
    lint("pool", assembly.getStackByName("Pool").template);
  });
});
