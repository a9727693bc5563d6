/**
 * Every script in examples/ runs against a real etcd and prints what it should: the config agent
 * follows changes and lists again after its resume point was compacted; service instances see
 * each other and re-register after losing their lease; candidates take over leadership (also as
 * etcdctl sees it); lock workers count without a lost update under increasing fencing tokens; the
 * paged listing covers every key in pages; the KV tour completes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { Etcd, op, prefix } from "../../src/index.ts";
import { ScriptProcess } from "../support/cli.ts";
import {
  scriptArgs,
  spawnEtcdctl,
  testClientOptions,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

const examples = resolve(import.meta.dirname, "../../examples");
const fx = useEtcd();
const dir = mkdtempSync(join(tmpdir(), "etcd-connect-examples-"));
let client: Etcd | undefined;
const etcd = (): Etcd => {
  client ??= new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
  return client;
};
const running: ScriptProcess[] = [];

after(async () => {
  await Promise.all(running.map((p) => p.stop("SIGKILL")));
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(example: string, args: string[]): ScriptProcess {
  const process = new ScriptProcess(join(examples, example), args, {
    ETCD_ENDPOINTS: fx.endpoints.join(","),
  });
  running.push(process);
  return process;
}

function runToEnd(example: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      scriptArgs(join(examples, example), ...args),
      { env: { ...process.env, ETCD_ENDPOINTS: fx.endpoints.join(",") }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        if (code !== 0) process.stderr.write(stderr);
        done({ code, stdout });
      },
    );
  });
}

test("config-watch: follows changes, checkpoints, and lists again when its revision was compacted", async () => {
  const root = uniquePrefix("ex-config");
  const state = join(dir, "config.state");
  await etcd().put(`${root}a`, "1");
  const agent = start("config-watch.ts", [root, state]);
  const listed = await agent.waitFor(/^listed 1 keys at revision \d+: a=1$/);
  await etcd().put(`${root}b`, "2");
  await agent.waitFor(/^revision \d+: a=1 b=2$/, listed.index + 1);
  const { revision } = await etcd().delete(`${root}a`);
  await agent.waitFor(new RegExp(`^revision ${revision}: b=2$`));
  assert.equal(await agent.stop(), 0, agent.stderr);
  assert.equal(agent.lines.at(-1), "stopped");
  assert.equal(JSON.parse(readFileSync(state, "utf8")).revision, String(revision));

  // While the agent is down: more changes, then the history it would resume from is compacted.
  await etcd().put(`${root}c`, "3");
  const last = await etcd().put(`${root}c`, "4");
  await etcd().compact(last.revision);
  const again = start("config-watch.ts", [root, state]);
  await again.waitFor(new RegExp(`^resuming from revision ${revision}: b=2$`));
  await again.waitFor(
    new RegExp(`^revision ${revision + 1n} was compacted \\(compaction at \\d+\\): listing again$`),
  );
  await again.waitFor(/^listed 2 keys at revision \d+: b=2 c=4$/);
  await etcd().put(`${root}d`, "5");
  await again.waitFor(/^revision \d+: b=2 c=4 d=5$/);
  assert.equal(await again.stop(), 0, again.stderr);
});

test("service-registration: instances see each other, re-register after a lost lease, deregister on exit", async () => {
  const service = uniquePrefix("ex-svc").replaceAll("/", "-").slice(0, -1);
  const root = `services/${service}/`;
  const a = start("service-registration.ts", [service, "host-a:1", "5"]);
  const registered = await a.waitFor(
    /^registered services\/.+\/host-a_1 on lease ([0-9a-f]+) \(ttl 5s\)$/,
  );
  await a.waitFor(/^instances: host-a_1$/);
  const b = start("service-registration.ts", [service, "host-b:2", "5"]);
  await b.waitFor(/^instances: host-a_1, host-b_2$/);
  const both = await a.waitFor(/^instances: host-a_1, host-b_2$/);

  // The lease is revoked behind A's back: A notices, registers on a new lease, B sees it return.
  const leaseHex = /on lease ([0-9a-f]+)/.exec(registered.line)?.[1] ?? "";
  await etcd().lease.revoke(BigInt(`0x${leaseHex}`));
  await a.waitFor(new RegExp(`^lease ${leaseHex} lost \\(.*\\): registering again$`));
  const renewed = await a.waitFor(
    /^registered .+ on lease ([0-9a-f]+) \(ttl 5s\)$/,
    both.index + 1,
  );
  assert.doesNotMatch(renewed.line, new RegExp(leaseHex));
  const gone = await b.waitFor(/^instances: host-b_2$/);
  await b.waitFor(/^instances: host-a_1, host-b_2$/, gone.index + 1);

  assert.equal(await b.stop(), 0, b.stderr);
  assert.equal(b.lines.at(-1), `deregistered ${root}host-b_2`);
  await a.waitFor(/^instances: host-a_1$/, renewed.index + 1);
  assert.equal(await a.stop(), 0, a.stderr);
  assert.equal((await etcd().range(prefix(root))).kvs.length, 0);
});

test("leader-election: one leader, the next takes over on resign; etcdctl observes the same", async () => {
  const name = uniquePrefix("ex-elect").slice(0, -1);
  const observer = spawnEtcdctl(fx.endpoints, ["elect", "-l", name]);
  try {
    const a = start("leader-election.ts", [name, "node-a", "10"]);
    await a.waitFor(/^node-a: elected \(key .+, revision \d+\)$/);
    assert.equal((await observer.waitLines(2))[1], "node-a");
    const b = start("leader-election.ts", [name, "node-b", "10"]);
    await b.waitFor(/^node-b: following node-a$/);
    assert.ok(!b.lines.some((l) => l.includes("elected")), "two leaders");
    assert.equal(await a.stop(), 0, a.stderr);
    assert.equal(a.lines.at(-1), "node-a: resigned");
    await b.waitFor(/^node-b: elected/);
    assert.equal((await observer.waitLines(4))[3], "node-b");
    assert.equal(await b.stop(), 0, b.stderr);
  } finally {
    await observer.stop();
  }
});

test("lock-fencing: concurrent workers lose no update, under strictly increasing fencing tokens", async () => {
  const lock = uniquePrefix("ex-lock").slice(0, -1);
  const rounds = 4;
  const workers = await Promise.all(
    ["w1", "w2", "w3"].map((w) => runToEnd("lock-fencing.ts", [lock, w, String(rounds)])),
  );
  const rows: Array<{ token: bigint; counter: number }> = [];
  for (const { code, stdout } of workers) {
    assert.equal(code, 0);
    for (const match of stdout.matchAll(/^\w+: round \d+ token (\d+) counter (\d+)$/gm)) {
      rows.push({ token: BigInt(match[1] ?? "0"), counter: Number(match[2]) });
    }
    assert.match(stdout, /: done\n$/);
  }
  rows.sort((x, y) => x.counter - y.counter);
  assert.deepEqual(
    rows.map((r) => r.counter),
    Array.from({ length: 3 * rounds }, (_, i) => i + 1),
  );
  for (let i = 1; i < rows.length; i++) {
    assert.ok(
      (rows[i]?.token ?? 0n) > (rows[i - 1]?.token ?? 0n),
      "tokens increase with the counter",
    );
  }
  assert.equal((await etcd().get(`${lock}.counter`))?.text, String(3 * rounds));
});

test("paged-list: counts, then lists every key of a large prefix in pages at one revision", async () => {
  const root = uniquePrefix("ex-pages");
  const total = 2500;
  for (let i = 0; i < total; i += 100) {
    const puts = Array.from({ length: 100 }, (_, j) =>
      op.put(`${root}${String(i + j).padStart(5, "0")}`, "x".repeat(10)),
    );
    await etcd().txn({ success: puts });
  }
  const { code, stdout } = await runToEnd("paged-list.ts", [root, "1000"]);
  assert.equal(code, 0);
  const lines = stdout.trimEnd().split("\n");
  const rev = /^.+ holds 2500 keys at revision (\d+)$/.exec(lines[0] ?? "")?.[1];
  assert.ok(rev, lines[0]);
  assert.deepEqual(lines.slice(1), [
    `page 1: ${root}00000 .. ${root}00999`,
    `page 2: ${root}01000 .. ${root}01999`,
    `page 3: ${root}02000 .. ${root}02499`,
    `listed ${total} keys (${total * 10} value bytes) at revision ${rev}`,
  ]);
});

test("demo: the KV tour runs to the end", async () => {
  const { code, stdout } = await runToEnd("demo.ts", []);
  assert.equal(code, 0);
  assert.match(stdout, /^using etcd at /);
  assert.match(stdout, /txn CAS blue -> green: applied/);
  assert.match(stdout, /txn CAS blue -> red \(stale\): refused/);
  assert.match(stdout, /list prefix .+ -> 25 keys in pages of 10/);
});
