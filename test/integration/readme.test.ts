import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import {
  runExample,
  SNAPSHOT_ON_DENO,
  TLS_ON_DENO,
  tsBlocks,
  unsupportedOn,
  useEtcd,
} from "../support/index.ts";

const root = resolve(import.meta.dirname, "../..");
const blocks = tsBlocks(readFileSync(join(root, "README.md"), "utf8"));
const fixture = useEtcd();
const dir = mkdtempSync(join(tmpdir(), "etcd-connect-readme-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("README has TypeScript examples", () => {
  assert.ok(blocks.length >= 2, `found ${blocks.length} ts blocks`);
});

blocks.forEach((block, index) => {
  const firstLine =
    block.source.split("\n").find((line) => line.trim() && !line.startsWith("import")) ?? "";
  const skip = block.source.includes(".snapshot(")
    ? unsupportedOn({ deno: SNAPSHOT_ON_DENO })
    : /\btls: true\b/.test(block.source)
      ? unsupportedOn({ deno: TLS_ON_DENO })
      : false;
  test(`README example ${index + 1} runs: ${firstLine.trim().slice(0, 60)}`, { skip }, async () => {
    const { code, stdout, stderr } = await runExample(block.source, {
      dir,
      name: `example-${index + 1}`,
      endpoint: fixture.endpoints[0] ?? "",
    });
    // A node:test example (run by the runtime's test runner) reports its failures on stdout.
    assert.equal(code, 0, `example ${index + 1} failed:\n${stdout.slice(-4000)}\n${stderr}`);
  });
});
