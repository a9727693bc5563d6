/**
 * Deno as a fetch-only runtime: test/deno/web-client.ts, importing etcd-connect/web from src/,
 * runs under Deno (the `deno` npm package, a devDependency) against a real etcd with network
 * access to loopback only: put, get, range, txn, a watch with previous values, a kept-alive
 * lease and a gateway error mapped to its class.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { useEtcd } from "../support/index.ts";

const root = resolve(import.meta.dirname, "../..");
const deno = resolve(root, "node_modules/.bin/deno");
const fx = useEtcd({ spawn: true });

test("etcd-connect/web runs under Deno against etcd", {
  skip: !existsSync(deno) && "no deno in node_modules",
}, () => {
  const endpoint = fx.endpoints[0] as string;
  const run = spawnSync(
    deno,
    [
      "run",
      // The project's node_modules as installed by npm (the generated code imports
      // @bufbuild/protobuf/codegenv2, which Deno otherwise reports as "not a dependency").
      "--node-modules-dir=manual",
      `--allow-net=${new URL(endpoint).host}`,
      "--no-prompt",
      "test/deno/web-client.ts",
      endpoint,
    ],
    { cwd: root, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } },
  );
  assert.equal(run.status, 0, `deno failed:\n${run.stderr}`);
  const seen = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}");
  const P = seen.range?.[0]?.split("a=")[0];
  assert.match(seen.runtime, /^deno 2\./);
  assert.equal(seen.get, "1");
  assert.deepEqual(seen.range, [`${P}a=1`, `${P}b=2`]);
  assert.equal(seen.txn, true);
  assert.deepEqual(seen.watch, [`put ${P}a 1`, `delete ${P}b 2`]);
  assert.equal(seen.leaseAlive, true);
  assert.equal(seen.revokedTwice, "LeaseNotFoundError");
});
