/**
 * docs/migrating-from-etcd3.md: every ```ts block runs against a real etcd and checks its own
 * claims with node:assert. Blocks marked `// etcd-connect` are this client, `// etcd3` the etcd3
 * package (a devDependency), so the differences the guide describes are tested on both sides;
 * `// etcd3 (keeps running)` shows a process that does not exit, and must still be running after
 * five seconds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { runExample, tsBlocks, useEtcd } from "../support/index.ts";

const guide = resolve(import.meta.dirname, "../../docs/migrating-from-etcd3.md");
const blocks = tsBlocks(readFileSync(guide, "utf8"));
const markers = ["// etcd-connect", "// etcd3", "// etcd3 (keeps running)"];
const fixture = useEtcd();
const dir = mkdtempSync(join(tmpdir(), "etcd-connect-migration-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("every ts block of the guide is marked as ours or etcd3's", () => {
  const unmarked = blocks.filter((block) => !markers.includes(block.firstLine));
  assert.deepEqual(
    unmarked.map((block) => `line ${block.line}: ${block.firstLine}`),
    [],
  );
  const ours = blocks.filter((block) => block.firstLine === "// etcd-connect");
  assert.ok(ours.length >= 12, `found ${ours.length} etcd-connect blocks`);
  assert.ok(blocks.length - ours.length >= 12, "the etcd3 side runs too");
});

for (const [index, block] of blocks.entries()) {
  const name = `${block.firstLine.slice(3)} example at line ${block.line}`;
  if (block.firstLine === "// etcd3 (keeps running)") {
    test(`${name} is still running after 5 s`, async () => {
      const run = await runExample(block.source, {
        dir,
        name: `block-${index + 1}`,
        endpoint: fixture.endpoints[0] ?? "",
        timeoutMs: 5_000,
      });
      assert.equal(run.timedOut, true, `exited with ${run.code}:\n${run.stderr}`);
      assert.equal(run.stdout.trim(), "closed", run.stderr);
    });
    continue;
  }
  test(`${name} runs and its assertions hold`, async () => {
    const run = await runExample(block.source, {
      dir,
      name: `block-${index + 1}`,
      endpoint: fixture.endpoints[0] ?? "",
    });
    assert.equal(run.code, 0, `block at line ${block.line} failed:\n${run.stderr}`);
  });
}
