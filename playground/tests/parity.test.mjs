// The playground's engine (WebAssembly) against the CLI (native): for every example mapping over
// every example event, `dry-run`, `dry-run --tokens`, `explain` and the Lambda's reply are the same
// byte for byte; for those and every UTF-8 mapping of the fuzz corpus, `validate` says the same.
//
// Run from the repository's root with node --test, after scripts/build-playground:
//   PLAYGROUND_PKG (default target/playground/pkg): the wasm-bindgen output;
//   CLAIM_MAPPER (default target/debug/claim-mapper): the CLI.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "node:test";
import vm from "node:vm";
import { events, itemsOf, mappings } from "../examples.mjs";

const pkg = process.env.PLAYGROUND_PKG ?? "target/playground/pkg";
const cli = process.env.CLAIM_MAPPER ?? "target/debug/claim-mapper";
const TODAY = "2026-11-26";

// The no-modules glue defines the global `wasm_bindgen`, as on the page.
const engine = vm.runInThisContext(
  readFileSync(join(pkg, "claim_mapper_playground.js"), "utf8") + "\n;wasm_bindgen");
engine.initSync({ module: readFileSync(join(pkg, "claim_mapper_playground_bg.wasm")) });

const listed = (dir, ext) =>
  readdirSync(dir).filter((f) => f.endsWith(ext)).sort().map((f) => join(dir, f));
const text = (file) => new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(readFileSync(file));
// The mapping's items, if it has an items file, as the CLI's `--lookup-items` gives them.
const evaluate = (mapping, event) => {
  const items = itemsOf(mapping);
  return JSON.parse(engine.evaluate(mapping, text(mapping), event, text(event),
    items ?? "", items ? text(items) : "", TODAY));
};
const withItems = (mapping) => {
  const items = itemsOf(mapping);
  return items ? ["--lookup-items", items] : [];
};

const run = (...args) => {
  const done = spawnSync(cli, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  assert.ok(done.status === 0 || done.status === 1, `${cli} ${args.join(" ")}: ${done.stderr}`);
  return done.stdout;
};
// The CLI's output after its first `lines` lines (the mapping's and event's names).
const after = (output, lines) => output.split("\n").slice(lines).join("\n");

test("the example mappings are valid and the events many", () => {
  assert.ok(mappings.length >= 6 && events.length >= 19);
  assert.ok(mappings.some(itemsOf), "a mapping with lookup items");
  for (const mapping of mappings) assert.equal(evaluate(mapping, events[0]).valid, true, mapping);
});

test("dry-run, with and without --tokens, says the same of every example", () => {
  for (const mapping of mappings) {
    for (const [flag, key] of [[[], "changes"], [["--tokens"], "tokens"]]) {
      const native = run("dry-run", ...flag, "--today", TODAY, "--mapping", mapping,
        ...withItems(mapping), ...events);
      const wasm = events.map((event) => evaluate(mapping, event)[key] + "\n").join("");
      assert.equal(wasm, after(native, 2), `dry-run ${flag} --mapping ${mapping}`);
    }
  }
});

test("the Lambda's reply is the same for every example", () => {
  for (const mapping of mappings) {
    const native = run("dry-run", "--json", "--today", TODAY, "--mapping", mapping, ...withItems(mapping),
      ...events)
      .trimEnd().split("\n").map((line) => JSON.parse(line));
    events.forEach((event, i) => {
      const wasm = evaluate(mapping, event);
      assert.equal(native[i].file, event);
      // Parsed with the key order kept: the same members, values and order.
      assert.equal(JSON.stringify(JSON.parse(wasm.reply)), JSON.stringify(native[i].output),
        `${mapping} over ${event}`);
    });
  }
});

test("explain says the same of every example", () => {
  for (const mapping of mappings) {
    for (const event of events) {
      const native = run("explain", "--today", TODAY, "--mapping", mapping, ...withItems(mapping), event);
      assert.equal(evaluate(mapping, event).explain.trimEnd(), after(native, 2).trimEnd(),
        `explain --mapping ${mapping} ${event}`);
    }
  }
});

test("lookup items dry-run would refuse are refused with the same messages", () => {
  const mapping = "examples/lookups/mapping.yaml";
  const dir = mkdtempSync(join(tmpdir(), "playground-items-"));
  for (const bad of ["tenant:\n  - { key: { pk: a }, missing: true, fails: error }\n  - { key: { pk: b }, item: 3 }\n",
    "tenant: [", "tenant:\n  - { key: { pk: a }, item: {}, colour: red }\n"]) {
    const items = join(dir, "items.yaml");
    writeFileSync(items, bad);
    const native = spawnSync(cli, ["dry-run", "--mapping", mapping, "--lookup-items", items, events[0]],
      { encoding: "utf8" });
    assert.equal(native.status, 2);
    const wasm = engine.evaluate(mapping, text(mapping), events[0], text(events[0]), items, bad, TODAY);
    assert.equal(`error: ${JSON.parse(wasm).items.join("\n")}\n`, native.stderr, bad);
  }
});

test("validate refuses the same mappings with the same messages", () => {
  const corpus = listed("fuzz/corpus/mapping_bytes", "").filter((file) => {
    try {
      text(file);
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(corpus.length > 1000, `${corpus.length} corpus mappings`);
  const files = [...mappings, ...corpus];
  const native = run("validate", ...files);
  const wasm = files.map((file) => evaluate(file, events[0]));
  assert.equal(wasm.map((out) => out.validate + "\n").join(""), native);
  const refused = wasm.filter((out) => !out.valid).length;
  assert.ok(refused > 100, `${refused} refused`);
});
