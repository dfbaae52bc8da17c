// Stand-ins for what scripts/build and a team's repository provide, so that the tests need no
// Rust build: an empty but valid zip per build, and a mapping file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { ClaimMapper, ClaimMapperProps } from "../lib/claim-mapper";

export const ROOT = path.resolve(__dirname, "..", "..", "..", "..");
export const ENV = { account: "123456789012", region: "eu-west-1" };

// The end-of-central-directory record alone: a zip archive with no entries.
const EMPTY_ZIP = Buffer.concat([Buffer.from("PK\x05\x06", "latin1"), Buffer.alloc(18)]);

export const TEAM_MAPPING = "version: 1\nclaims:\n  - claim: team_claim\n    from: custom:team\n";

export function fixture(mapping: string = TEAM_MAPPING): { zipDirectory: string; mappingFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "claim-mapper-cdk-test-"));
  for (const build of ["claim-mapper-lambda", "claim-mapper-lambda-file"]) {
    fs.mkdirSync(path.join(dir, "zips", build), { recursive: true });
    fs.writeFileSync(path.join(dir, "zips", build, "bootstrap.zip"), EMPTY_ZIP);
  }
  fs.writeFileSync(path.join(dir, "prod.yaml"), mapping);
  return { zipDirectory: path.join(dir, "zips"), mappingFile: path.join(dir, "prod.yaml") };
}

/** A stack holding one ClaimMapper; `wire` attaches it (or not). */
export function synth(
  props: Partial<ClaimMapperProps> = {},
  wire: (mapper: ClaimMapper, stack: Stack) => void = () => {},
): Template {
  const app = new App();
  const stack = new Stack(app, "ClaimMapperStack", { env: ENV });
  const mapper = new ClaimMapper(stack, "ClaimMapper", { ...fixture(), ...props });
  wire(mapper, stack);
  return Template.fromStack(stack);
}

export function ofType(template: Template, type: string): Record<string, any> {
  return template.findResources(type);
}

/** The one resource of a type (fails when there are none or several). */
export function only(template: Template, type: string): [string, any] {
  const found = Object.entries(ofType(template, type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}
