import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { scriptArgs, testFileArgs } from "./runtime.ts";

const root = resolve(import.meta.dirname, "../..");

/** A fenced ```ts block of a Markdown file. */
export interface MarkdownBlock {
  /** The code between the fences. */
  source: string;
  /** The block's first line, trimmed (a marker comment such as `// etcd-connect`, if any). */
  firstLine: string;
  /** 1-based line of the opening fence in the Markdown file. */
  line: number;
}

/** Every fenced ```ts block of `markdown`, in order. */
export function tsBlocks(markdown: string): MarkdownBlock[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => {
    const source = match[1] ?? "";
    return {
      source,
      firstLine: (source.split("\n")[0] ?? "").trim(),
      line: markdown.slice(0, match.index).split("\n").length,
    };
  });
}

/** How an example ended. */
export interface ExampleRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The example was still running at `timeoutMs` and was killed. */
  timedOut: boolean;
}

/**
 * Runs a documentation example as its own process of the runtime running the tests: `"etcd-connect"` imports resolve to this
 * checkout's src/index.ts, `"etcd3"` to the installed etcd3 package, and the endpoint the docs
 * show (`"http://127.0.0.1:2379"`, or etcd3's `"127.0.0.1:2379"`) becomes `endpoint`.
 *
 * @example
 * const run = await runExample(block.source, { dir, name: "example-1", endpoint: fx.endpoints[0] });
 * assert.equal(run.code, 0, run.stderr);
 */
export function runExample(
  source: string,
  options: { dir: string; name: string; endpoint: string; timeoutMs?: number },
): Promise<ExampleRun> {
  const hostPort = options.endpoint.replace(/^https?:\/\//, "");
  const code = source
    .replaceAll('"etcd-connect"', JSON.stringify(join(root, "src/index.ts")))
    .replaceAll('"etcd-connect/proto"', JSON.stringify(join(root, "src/proto.ts")))
    .replaceAll('"etcd-connect/transport"', JSON.stringify(join(root, "src/transport.ts")))
    .replaceAll('"etcd-connect/web"', JSON.stringify(join(root, "src/web.ts")))
    .replaceAll('"etcd-connect/testing"', JSON.stringify(join(root, "src/testing.ts")))
    .replaceAll('"etcd-connect/otel"', JSON.stringify(join(root, "src/otel.ts")))
    .replaceAll('"etcd3"', JSON.stringify(join(root, "node_modules/etcd3/lib/index.js")))
    // Other packages (OpenTelemetry's SDK, zod) resolve from this checkout's node_modules.
    .replace(
      /from "(@opentelemetry\/[^"]+|zod)"/g,
      (_, name: string) => `from "${import.meta.resolve(name)}"`,
    )
    .replaceAll('"http://127.0.0.1:2379"', JSON.stringify(options.endpoint))
    .replaceAll('"127.0.0.1:2379"', JSON.stringify(hostPort))
    .replaceAll('"vitest"', JSON.stringify(join(root, "node_modules/vitest/dist/index.js")));
  // A vitest example is a vitest test file: vitest runs it (and fails when it fails).
  const vitest = code !== source && source.includes('from "vitest"');
  const file = join(options.dir, `${options.name}${vitest ? ".test" : ""}.ts`);
  writeFileSync(file, code);
  const args = vitest
    ? [
        join(root, "node_modules/vitest/vitest.mjs"),
        "run",
        "--root",
        options.dir,
        "--hookTimeout",
        "60000",
        `${options.name}.test.ts`,
      ]
    : source.includes('from "node:test"')
      ? testFileArgs(file)
      : scriptArgs(file);
  return new Promise((done) => {
    execFile(
      process.execPath,
      args,
      // An example that is a node:test file reports on its own, not to the test run around it.
      {
        timeout: options.timeoutMs ?? 60_000,
        env: { ...process.env, NODE_TEST_CONTEXT: undefined },
      },
      (error, stdout, stderr) => {
        const timedOut = error?.killed === true;
        const exit = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code: exit, stdout, stderr, timedOut });
      },
    );
  });
}
