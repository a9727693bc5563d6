import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const root = resolve(import.meta.dirname, "../..");
const cli = join(root, "src/cli");
const entries = ["src/index.ts", "src/transport.ts", "src/proto.ts"];
// `Etcd` itself, which src/index.ts exports as it is: loaded by its own path when a command
// connects, so that the bundle leaves the client out of help and argument errors (a dynamic
// import of src/index.ts would share one chunk with what the commands import from it).
const lazyClient = "src/client/etcd.ts";
// The gateway read builds `KeyValue`s, a class the entry points export only as a type.
const gatewayKeyValue = ["src/cli/gateway-range.ts", "src/kv/key-value.ts"];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith(".ts") ? [join(dir, d.name)] : [],
  );
}

test("the CLI imports the library only through its public entry points", () => {
  const offending: string[] = [];
  for (const file of files(cli)) {
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
      const target = relative(root, resolve(dirname(file), match[1] ?? ""));
      if (target.startsWith("src/cli/") || entries.includes(target)) continue;
      if (relative(root, file) === gatewayKeyValue[0] && target === gatewayKeyValue[1]) continue;
      offending.push(`${relative(root, file)} -> ${target}`);
    }
    for (const match of source.matchAll(/import\("(\.{1,2}\/[^"]+)"\)/g)) {
      const target = relative(root, resolve(dirname(file), match[1] ?? ""));
      if (target.startsWith("src/cli/") || entries.includes(target) || target === lazyClient) {
        continue;
      }
      offending.push(`${relative(root, file)} -> ${target} (dynamic)`);
    }
  }
  assert.ok(files(cli).length > 30, "found the CLI's files");
  assert.deepEqual(offending, []);
});
