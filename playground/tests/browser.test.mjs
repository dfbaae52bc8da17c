// The playground page in a real browser: Debian's Chromium, driven by playwright-core, opens the
// assembled page from disk (file://), picks an event, edits the mapping and sees a claim appear,
// sees a problem marked at its line, edits a lookup's items, restores a shared link, and refuses
// any connection.
//
// Run from the repository's root with node --test, after scripts/build-playground:
//   PLAYGROUND_PAGE (default target/playground/index.html); CHROMIUM (default /usr/bin/chromium).
// It prints the page's load time and the engine's time per edit (docs/performance.md) and saves
// a screenshot as target/playground/screenshot.png.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const page_file = resolve(process.env.PLAYGROUND_PAGE ?? "target/playground/index.html");
const url = pathToFileURL(page_file).href;
let browser;
let requests = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // Root in a container has no user namespace for Chromium's sandbox.
    args: ["--no-sandbox"],
  });
});
after(async () => browser?.close());

const open = async (address) => {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(address);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  return { page, errors };
};

const MAPPING = `version: 1
claims:
  - { claim: playground_probe, from: custom:tenant_id, tokens: [id, access] }
`;
const EVENT = "examples/events/v2-authentication-custom-attrs-groups.json";
const ITEMS = "tenant:\n  - { key: { pk: \"TENANT#acme\" }, missing: true }\n";

test("picking an event and editing the mapping shows the claim in the tokens", async () => {
  const { page, errors } = await open(url);
  await page.selectOption("#event-example", EVENT);
  await page.fill("#mapping", MAPPING);
  const tokens = await page.textContent("#result");
  assert.match(tokens, /\+ playground_probe: "/);
  assert.match(await page.textContent("#mapping-status"), /valid \(1 rule/);
  assert.equal(await page.inputValue("#trigger"), "TokenGeneration_Authentication");
  // One choice to another trigger source: the event and the result follow.
  await page.selectOption("#trigger", "TokenGeneration_RefreshTokens");
  assert.match(await page.inputValue("#event"), /"triggerSource": "TokenGeneration_RefreshTokens"/);
  assert.match(await page.textContent("#result"), /trigger TokenGeneration_RefreshTokens {2}version 2/);
  // One click to version 1: the access token cannot be customised, and the page says so.
  await page.click(".version[data-version='1']");
  await page.click("[role=tab][data-view=changes]");
  assert.match(await page.textContent("#result"), /access token: not customisable with a version 1 trigger/);
  // An event the Lambda cannot read: its reply tab says what the Lambda would return instead.
  await page.fill("#event", "{");
  await page.click("[role=tab][data-view=reply]");
  assert.match(await page.textContent("#result"), /^The Lambda would return an error: the event is not JSON/);
  assert.deepEqual(errors, []);
});

test("a mapping error is marked at its line, with the validator's message", async () => {
  const { page } = await open(url);
  await page.fill("#mapping", MAPPING + "  - { claim: other, form: email }\n");
  const problems = await page.$$eval("#problems li", (items) => items.map((i) => i.textContent));
  assert.ok(problems.length >= 1);
  for (const problem of problems) assert.match(problem, /^error at line 4, column \d+ /);
  assert.match(problems[0], /unknown field `form`.*did you mean `from`/);
  const marked = await page.$$eval("#mapping-gutter .error", (lines) => lines.map((l) => l.textContent));
  assert.deepEqual(marked, ["4"]);
  assert.match(await page.textContent("#mapping-status"), /^refused: \d+ problems?, as the Lambda/);
  await page.click("[role=tab][data-view=validate]");
  assert.match(await page.textContent("#result"), /mappings\/default\.yaml:4:\d+: /);
});

test("an example mapping with lookups comes with its items, and edited items change the claims", async () => {
  const { page, errors } = await open(url);
  await page.selectOption("#mapping-example", "examples/lookups/mapping.yaml");
  await page.selectOption("#event-example", "examples/lookups/events/v2-acme.json");
  assert.equal(await page.getAttribute("#items-pane", "open"), "");
  assert.match(await page.inputValue("#items"), /TENANT#acme/);
  assert.match(await page.textContent("#result"), /\+ plan: "enterprise"/);
  await page.fill("#items", (await page.inputValue("#items")).replace("plan: enterprise", "plan: pro"));
  assert.match(await page.textContent("#result"), /\+ plan: "pro"/);
  // Items dry-run would refuse: refused with its message, and nothing is shown as if applied.
  await page.fill("#items", "tenant:\n  - { key: { pk: a }, missing: true, fails: error }\n");
  assert.match(await page.textContent("#items-status"),
    /examples\/lookups\/items\.yaml: tenant\[0\]: give exactly one of `item`, `missing: true` and `fails`/);
  assert.equal(await page.textContent("#result"), "The lookup items are refused: see under the event.\n");
  // No items: the lookup is not fetched, and the claims reading it are left out, saying why.
  await page.fill("#items", "");
  assert.doesNotMatch(await page.textContent("#result"), /plan:/);
  assert.match(await page.textContent("#result"), /lookup `tenant`: no item was given/);
  assert.equal(await page.textContent("#items-status"), "none given");
  assert.deepEqual(errors, []);
});

test("a shared link restores the same mapping, event and view", async () => {
  const { page } = await open(url);
  await page.selectOption("#event-example", EVENT);
  await page.fill("#mapping", MAPPING);
  await page.click("#items-pane summary");
  await page.fill("#items", ITEMS);
  await page.click("[role=tab][data-view=explain]");
  await page.click("#share");
  await page.waitForFunction(() => location.hash.startsWith("#s="));
  const link = page.url();
  const before = await page.textContent("#result");
  const { page: again } = await open(link);
  assert.equal(await again.inputValue("#mapping"), MAPPING);
  assert.equal(await again.inputValue("#items"), ITEMS);
  assert.equal(await again.textContent("#result"), before);
  assert.match(before, /playground_probe/);
});

test("the page works from disk, connects nowhere, and runs the engine on every edit", async () => {
  const { page, errors } = await open(url);
  await page.selectOption("#event-example", EVENT);
  await page.screenshot({ path: resolve(page_file, "../screenshot.png") });
  await page.focus("#mapping");
  await page.keyboard.press("Control+End");
  for (let i = 0; i < 50; i++) await page.keyboard.type(i % 2 ? "\n" : "#");
  const { compiled, load, evaluate } = await page.evaluate(() => window.playground.timings);
  const sorted = evaluate.slice(1).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`playground: engine compiled ${compiled.toFixed(0)} ms and page ready ${load.toFixed(0)} ms after navigation start; engine per edit: median ${median.toFixed(2)} ms, max ${sorted.at(-1).toFixed(2)} ms over ${sorted.length} edits`);
  // A fetch from the page is refused by its Content-Security-Policy.
  const fetched = await page.evaluate(() =>
    fetch("https://example.com/").then(() => "sent", (e) => `refused: ${e.message}`));
  assert.match(fetched, /^refused/);
  assert.deepEqual(requests, []);
  assert.deepEqual(errors.filter((e) => !/Content Security Policy|Failed to fetch/.test(e)), []);
});
