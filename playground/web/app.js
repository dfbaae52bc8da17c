// The playground page: three panes over the engine compiled to WebAssembly (`wasm_bindgen`, from
// the embedded bytes). Every edit runs the engine again; all text from the engine or the user is
// set with textContent, never parsed as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const fixtures = PLAYGROUND_FIXTURES;
  const bytes = Uint8Array.from(atob(PLAYGROUND_WASM), (c) => c.charCodeAt(0));
  wasm_bindgen.initSync({ module: bytes });
  const engine = wasm_bindgen;

  const mapping = $("mapping");
  const event = $("event");
  const items = $("items");
  const today = $("today");
  const result = $("result");
  let view = "tokens";
  const first = {
    mapping: fixtures.mappings.find((m) => m.name === fixtures.start.mapping),
    event: fixtures.events.find((e) => e.name === fixtures.start.event),
  };
  let names = { mapping: first.mapping.name, event: first.event.name, items: "items.yaml" };
  let last = null;
  // Since navigation start: the engine compiled; the page ready. Per edit: the engine's time.
  const timings = { compiled: performance.now(), load: 0, evaluate: [] };
  // For the browser test and the curious: load time and the engine's time per edit, in ms.
  window.playground = { timings };

  // Example pickers.
  const fill = (select, items) => {
    for (const item of items) {
      const option = document.createElement("option");
      option.value = item.name;
      option.textContent = item.name;
      select.append(option);
    }
  };
  fill($("mapping-example"), fixtures.mappings);
  fill($("event-example"), fixtures.events);
  fill($("trigger"), JSON.parse(engine.trigger_sources()).map((name) => ({ name })));

  // An example mapping comes with its lookups' items, if it has some.
  const setItems = (chosen) => {
    names.items = chosen.items?.name ?? "items.yaml";
    items.value = chosen.items?.text ?? "";
    if (chosen.items) $("items-pane").open = true;
  };
  $("mapping-example").addEventListener("change", (e) => {
    const chosen = fixtures.mappings.find((m) => m.name === e.target.value);
    names.mapping = chosen.name;
    mapping.value = chosen.text;
    setItems(chosen);
    run();
  });
  $("event-example").addEventListener("change", (e) => {
    const chosen = fixtures.events.find((m) => m.name === e.target.value);
    names.event = chosen.name;
    event.value = chosen.text;
    run();
  });

  // One click to another version or trigger source: the field changes, and the response takes
  // the shape Cognito sends for that version (details null until the trigger writes them).
  const editEvent = (change) => {
    let parsed;
    try {
      parsed = JSON.parse(event.value);
    } catch {
      setStatus($("event-status"), "error", "the event is not JSON: fix it before switching");
      return;
    }
    change(parsed);
    event.value = JSON.stringify(parsed, null, 2) + "\n";
    run();
  };
  for (const button of document.querySelectorAll(".version")) {
    button.addEventListener("click", () =>
      editEvent((e) => {
        e.version = button.dataset.version;
        e.response = e.version === "1"
          ? { claimsOverrideDetails: null }
          : { claimsAndScopeOverrideDetails: null };
      }));
  }
  $("trigger").addEventListener("change", (e) =>
    editEvent((parsed) => { parsed.triggerSource = e.target.value; }));

  // Own events: a file chosen or dropped.
  const openFile = (file) => {
    if (!file) return;
    file.text().then((text) => {
      names.event = file.name;
      event.value = text;
      run();
    });
  };
  $("event-file").addEventListener("change", (e) => openFile(e.target.files[0]));
  event.addEventListener("dragover", (e) => e.preventDefault());
  event.addEventListener("drop", (e) => {
    e.preventDefault();
    openFile(e.dataTransfer.files[0]);
  });

  // Editors: line numbers that follow the text, marked where a problem or warning is.
  const gutter = (textarea, pre, marks) => {
    const lines = textarea.value.split("\n").length;
    pre.replaceChildren(...Array.from({ length: lines }, (_, i) => {
      const line = document.createElement("span");
      line.textContent = String(i + 1);
      const mark = marks.get(i + 1);
      if (mark) line.className = mark;
      return line;
    }));
    pre.scrollTop = textarea.scrollTop;
  };
  const editors = [[mapping, $("mapping-gutter")], [event, $("event-gutter")], [items, $("items-gutter")]];
  for (const [textarea, pre] of editors) {
    textarea.addEventListener("scroll", () => { pre.scrollTop = textarea.scrollTop; });
    textarea.addEventListener("input", () => run());
  }
  today.addEventListener("change", () => run());

  const setStatus = (element, kind, text) => {
    element.className = "status " + kind;
    element.textContent = text;
  };

  // Moves the caret to a line and column of the mapping.
  const select = (line, column) => {
    const lines = mapping.value.split("\n");
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, (column || 1) - 1);
    mapping.focus();
    mapping.setSelectionRange(offset, offset);
  };

  const problemItem = (kind, p) => {
    const item = document.createElement("li");
    item.className = kind;
    const where = p.line ? `line ${p.line}, column ${p.column}` : "the mapping";
    const about = [p.rule && `rule ${p.rule}`, p.field && `field ${p.field}`].filter(Boolean).join(", ");
    item.textContent = `${kind} at ${where}${about ? ` (${about})` : ""}: ${p.message}`;
    item.dataset.line = p.line ?? "";
    if (p.line) item.addEventListener("click", () => select(p.line, p.column));
    return item;
  };

  const run = () => {
    const t0 = performance.now();
    const out = JSON.parse(engine.evaluate(
      names.mapping, mapping.value, names.event, event.value, names.items, items.value, today.value));
    timings.evaluate.push(performance.now() - t0);
    last = out;
    const marks = new Map();
    for (const w of out.warnings) if (w.line) marks.set(w.line, "warning");
    for (const p of out.problems) if (p.line) marks.set(p.line, "error");
    gutter(mapping, $("mapping-gutter"), marks);
    gutter(event, $("event-gutter"), new Map());
    gutter(items, $("items-gutter"), new Map());
    $("problems").replaceChildren(
      ...out.problems.map((p) => problemItem("error", p)),
      ...out.warnings.map((w) => problemItem("warning", w)));
    if (!out.valid) {
      // A refusal that is not a list of problems (too large) says so in the validate text.
      const count = out.problems.length;
      setStatus($("mapping-status"), "error", count
        ? `refused: ${count} problem${count === 1 ? "" : "s"}, as the Lambda would refuse it at load`
        : out.validate);
    } else if (out.date) {
      setStatus($("mapping-status"), "error", out.date);
    } else {
      const count = out.warnings.length;
      setStatus($("mapping-status"), count ? "warning" : "ok", out.validate.split("\n")[0]);
    }
    setStatus($("event-status"), out.error ? "error" : "ok",
      out.error ? `the Lambda would return an error: ${out.error}` : `${names.event}`);
    if (out.items.length) {
      setStatus($("items-status"), "error", `refused, as dry-run --lookup-items would refuse them:\n${out.items.join("\n")}`);
      $("items-pane").open = true;
    } else {
      setStatus($("items-status"), "ok", items.value.trim() ? names.items : "none given");
    }
    // The version buttons and trigger list show the event's own.
    let fields = {};
    try { fields = JSON.parse(event.value) ?? {}; } catch { /* not JSON: the status says so */ }
    for (const button of document.querySelectorAll(".version")) {
      button.setAttribute("aria-pressed", String(String(fields.version) === button.dataset.version));
    }
    $("trigger").value = fields.triggerSource ?? "";
    show();
    $("timing").textContent = `engine ${timings.evaluate.at(-1).toFixed(2)} ms`;
  };

  // Why the chosen view has nothing to show.
  const why = () => {
    if (!last.valid) return "The mapping is refused: see its problems, or the validate tab.";
    if (last.date) return last.date;
    if (last.items.length) return "The lookup items are refused: see under the event.";
    return `The Lambda would return an error: ${last.error}`;
  };

  // The chosen view, lines marked as the CLI marks them.
  const show = () => {
    if (!last) return;
    const text = {
      tokens: last.tokens,
      changes: last.changes,
      explain: last.explain,
      reply: last.reply && JSON.stringify(JSON.parse(last.reply), null, 2),
      validate: last.validate,
    }[view] ?? why();
    result.replaceChildren(...text.split("\n").map((line) => {
      const span = document.createElement("span");
      const mark = /^\s+(\+|~|-) /.exec(line)?.[1];
      span.className = { "+": "added", "~": "changed", "-": "removed" }[mark] ??
        (/^\s*ERROR /.test(line) ? "error" : "");
      span.textContent = line + "\n";
      return span;
    }));
  };
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => {
      view = tab.dataset.view;
      for (const t of document.querySelectorAll("[role=tab]")) {
        t.setAttribute("aria-selected", String(t === tab));
      }
      show();
    });
  }

  // Sharing: the state, deflated, in the URL's fragment, which browsers never send to a server.
  const b64url = {
    encode: (data) => {
      let binary = "";
      for (const byte of data) binary += String.fromCharCode(byte);
      return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
    decode: (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
  };
  const through = async (data, stream) =>
    new Uint8Array(await new Response(new Blob([data]).stream().pipeThrough(stream)).arrayBuffer());
  const share = async () => {
    const state = JSON.stringify({
      m: mapping.value, mn: names.mapping, e: event.value, en: names.event,
      i: items.value, in: names.items, v: view, t: today.value,
    });
    const packed = await through(new TextEncoder().encode(state), new CompressionStream("deflate-raw"));
    return "#s=" + b64url.encode(packed);
  };
  const restore = async (fragment) => {
    const packed = /^#s=([A-Za-z0-9_-]+)$/.exec(fragment)?.[1];
    if (!packed) return false;
    const text = new TextDecoder().decode(
      await through(b64url.decode(packed), new DecompressionStream("deflate-raw")));
    const state = JSON.parse(text);
    mapping.value = state.m;
    event.value = state.e;
    items.value = state.i ?? "";
    names = { mapping: state.mn, event: state.en, items: state.in ?? "items.yaml" };
    if (items.value) $("items-pane").open = true;
    if (state.t) today.value = state.t;
    if (state.v) document.querySelector(`[role=tab][data-view="${state.v}"]`)?.click();
    return true;
  };
  $("share").addEventListener("click", async () => {
    const fragment = await share();
    history.replaceState(null, "", fragment);
    const link = location.href;
    try {
      await navigator.clipboard.writeText(link);
      $("shared").textContent = "link copied (and in the address bar)";
    } catch {
      $("shared").textContent = "link in the address bar";
    }
  });

  // Start: a shared state, else the first example of each.
  today.value = new Date().toISOString().slice(0, 10);
  const start = async () => {
    let restored = false;
    try {
      restored = await restore(location.hash);
    } catch {
      $("shared").textContent = "the link's state could not be read: starting from the examples";
    }
    if (!restored) {
      mapping.value = first.mapping.text;
      event.value = first.event.text;
    }
    $("mapping-example").value = names.mapping;
    $("event-example").value = names.event;
    run();
    timings.load = performance.now();
    document.body.dataset.ready = "true";
  };
  start();
})();
