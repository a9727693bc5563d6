/**
 * etcd-connect/testing runs etcd with node:child_process: the main entry point must not load it
 * (nor anything else that spawns processes), so applications, bundles and other runtimes that
 * import "etcd-connect" never pull it in. Follows every relative import, type imports included.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(import.meta.dirname, "../..");

function reachable(entry: string): { files: Set<string>; builtins: Set<string> } {
  const files = new Set<string>();
  const builtins = new Set<string>();
  const queue = [resolve(root, entry)];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      const spec = match[1] ?? "";
      if (spec.startsWith(".")) queue.push(resolve(dirname(file), spec));
      else if (spec.startsWith("node:")) builtins.add(spec);
    }
  }
  return { files, builtins };
}

for (const entry of ["src/index.ts", "src/transport.ts", "src/proto.ts"]) {
  test(`${entry} does not reach src/testing/ or node:child_process`, () => {
    const { files, builtins } = reachable(entry);
    const testing = [...files]
      .map((f) => relative(root, f))
      .filter((f) => f.startsWith("src/testing"));
    assert.deepEqual(testing, []);
    assert.ok(!builtins.has("node:child_process"), [...builtins].join(", "));
  });
}

test("src/testing.ts is what reaches them (the check above can see them)", () => {
  const { files, builtins } = reachable("src/testing.ts");
  assert.ok([...files].some((f) => relative(root, f) === "src/testing/cluster.ts"));
  assert.ok(builtins.has("node:child_process"));
});
