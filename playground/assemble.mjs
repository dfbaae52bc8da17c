// Assembles the playground into one self-contained HTML file: the page, its style and script, the
// wasm-bindgen glue, the engine's WebAssembly (base64) and the repository's example mappings (with
// their lookups' items) and events, all inline, so that it works opened from disk (file://) as
// from any static host. The Content-Security-Policy lists the hash of each inline script and style
// and allows nothing else.
//
// Usage: node playground/assemble.mjs PKG_DIR OUT_FILE   (from the repository's root)
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { events, itemsOf, mappings } from "./examples.mjs";

const [pkg, out] = process.argv.slice(2);
if (!pkg || !out) {
  console.error("usage: node playground/assemble.mjs PKG_DIR OUT_FILE");
  process.exit(2);
}
const read = (path) => readFileSync(path, "utf8");

const fixtures = {
  mappings: mappings.map((name) => {
    const items = itemsOf(name);
    return { name, text: read(name), items: items && { name: items, text: read(items) } };
  }),
  events: events.map((name) => ({ name, text: read(name) })),
  start: {
    mapping: "mappings/default.yaml",
    event: "examples/events/v2-authentication-custom-attrs-groups.json",
  },
};
// `<` escaped so that no text can close the script element.
const json = JSON.stringify(fixtures).replace(/</g, "\\u003c");
const wasm = readFileSync(join(pkg, "claim_mapper_playground_bg.wasm")).toString("base64");
const parts = {
  FIXTURES: `const PLAYGROUND_FIXTURES = ${json};`,
  WASM: `const PLAYGROUND_WASM = "${wasm}";`,
  BINDINGS: read(join(pkg, "claim_mapper_playground.js")),
  APP: read("playground/web/app.js"),
  STYLE: read("playground/web/style.css"),
};
for (const [name, text] of Object.entries(parts)) {
  if (/<\/(script|style)/i.test(text)) throw new Error(`${name} would close its element`);
}
const hash = (text) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
parts.SCRIPT_HASHES = ["FIXTURES", "WASM", "BINDINGS", "APP"].map((k) => hash(parts[k])).join(" ");
parts.STYLE_HASHES = hash(parts.STYLE);
const page = read("playground/web/index.html").replace(/\{\{([A-Z_]+)\}\}/g, (_, key) => {
  if (!(key in parts)) throw new Error(`no part ${key}`);
  return parts[key];
});
writeFileSync(out, page);
console.log(`${out}: ${page.length} bytes`);
