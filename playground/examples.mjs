// The example mappings and events the playground offers and its parity test runs: this
// repository's, read from its root. A mapping with an `items.yaml` beside it (its lookups'
// items, as `dry-run --lookup-items` reads them) comes with that file.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

const listed = (dir, ext) =>
  readdirSync(dir).filter((f) => f.endsWith(ext)).sort().map((f) => join(dir, f));

/** The example mappings' paths. */
export const mappings = [
  ...listed("mappings", ".yaml"),
  "examples/features/mapping.yaml",
  "examples/lookups/mapping.yaml",
];

/** The example events' paths. */
export const events = [
  ...listed("examples/events", ".json"),
  ...listed("examples/features/events", ".json"),
  ...listed("examples/lookups/events", ".json"),
];

/** The items file beside `mapping`, or null. */
export const itemsOf = (mapping) => {
  const items = join(dirname(mapping), "items.yaml");
  return existsSync(items) ? items : null;
};
