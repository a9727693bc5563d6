// Runs the project's TypeScript on a Node.js whose V8 lacks syntax the sources use (`await using`
// is missing from Node 22): every .ts file outside node_modules is transpiled by esbuild for that
// Node's own version as it loads, which lowers what it cannot parse and strips the types.
//
//   node --import ./scripts/older-node.ts --test test/integration/kv.test.ts
//
// Child processes inherit it through NODE_OPTIONS (scripts/test-matrix.sh sets it), so the
// examples and fixtures the tests start run the same way. Only for running the tests on older
// Node lines: the published package is compiled by tsc and needs none of this.
import { readFile } from "node:fs/promises";
import { register } from "node:module";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";

interface LoadContext {
  format?: string | null;
}
type NextLoad = (url: string, context: LoadContext) => Promise<unknown>;

export async function load(url: string, context: LoadContext, nextLoad: NextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts") || url.includes("/node_modules/")) {
    return nextLoad(url, context);
  }
  const { transform } = await import("esbuild");
  const source = await readFile(fileURLToPath(url), "utf8");
  const { code } = await transform(source, {
    loader: "ts",
    format: "esm",
    target: `node${process.versions.node}`,
    sourcefile: fileURLToPath(url),
    sourcemap: "inline",
  });
  return { format: "module", source: code, shortCircuit: true };
}

// Loaded by --import on the main thread, it registers itself; loaded again as the hooks module
// (on Node's hooks thread), it only provides `load`.
if (isMainThread) register(import.meta.url);
