import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { useEtcd } from "../support/index.ts";

const root = resolve(import.meta.dirname, "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
const fixture = useEtcd();
const dir = mkdtempSync(join(tmpdir(), "etcd-connect-readme-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("README has TypeScript examples", () => {
  assert.ok(blocks.length >= 2, `found ${blocks.length} ts blocks`);
});

blocks.forEach((block, index) => {
  const firstLine =
    block.split("\n").find((line) => line.trim() && !line.startsWith("import")) ?? "";
  test(`README example ${index + 1} runs: ${firstLine.trim().slice(0, 60)}`, async () => {
    const source = block
      .replaceAll('"etcd-connect"', JSON.stringify(join(root, "src/index.ts")))
      .replaceAll('"etcd-connect/proto"', JSON.stringify(join(root, "src/proto.ts")))
      .replaceAll('"etcd-connect/transport"', JSON.stringify(join(root, "src/transport.ts")))
      .replaceAll('"http://127.0.0.1:2379"', JSON.stringify(fixture.endpoints[0]));
    const file = join(dir, `example-${index + 1}.ts`);
    writeFileSync(file, source);
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(process.execPath, [file], { timeout: 60_000 }, (error, _stdout, stderr) => {
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr });
      });
    });
    assert.equal(code, 0, `example ${index + 1} failed:\n${stderr}`);
  });
});
