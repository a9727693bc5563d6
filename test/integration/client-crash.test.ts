/**
 * A client process killed with SIGKILL, with no chance to clean up: in the middle of multi-key
 * txns, nothing is half-applied (every group of keys one txn wrote has one value and one
 * revision); holding a lock or queued for one, its key goes with its session's lease, and
 * another client acquires the lock afterwards. The child is test/fixtures/crash-child.ts.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { Etcd, prefix } from "../../src/index.ts";
import { scriptArgs, testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const root = resolve(import.meta.dirname, "../..");
const fx = useEtcd();
const TTL = 2;

/** Starts the child and resolves with it once it printed a line starting with `word`. */
async function child(args: string[], word: string): Promise<{ proc: ChildProcess; line: string }> {
  const proc = spawn(
    process.execPath,
    scriptArgs(join(root, "test/fixtures/crash-child.ts"), ...args),
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  proc.stderr?.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  const line = await new Promise<string>((done, fail) => {
    proc.stdout?.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      const found = stdout.split("\n").find((l) => l.startsWith(word));
      if (found !== undefined) done(found);
    });
    proc.on("exit", (code) => fail(new Error(`child exited with ${code} first:\n${stderr}`)));
  });
  return { proc, line };
}

async function kill(proc: ChildProcess): Promise<void> {
  const exited = once(proc, "exit");
  proc.kill("SIGKILL");
  const [, signal] = await exited;
  assert.equal(signal, "SIGKILL");
}

function client(): Etcd {
  return new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
}

test("killed mid-txn: every multi-key txn is applied whole or not at all", async () => {
  await using etcd = client();
  for (let round = 0; round < 3; round++) {
    const base = uniquePrefix(`crash-txn-${round}`);
    const { proc } = await child(["txn", fx.endpoints.join(","), base], "ready");
    // Let more txns go out, some of them partly written to the socket when the kill lands.
    await new Promise((r) => setTimeout(r, 20 + 40 * round));
    await kill(proc);
    const { kvs } = await etcd.range(prefix(base));
    const groups = new Map<string, typeof kvs>();
    for (const kv of kvs) {
      const group = kv.keyText.slice(base.length).split("/")[0] as string;
      groups.set(group, [...(groups.get(group) ?? []), kv]);
    }
    assert.ok(groups.size >= 1, "at least the first txn was applied");
    for (const [group, members] of groups) {
      assert.equal(members.length, 64, `group ${group}: every key of the txn`);
      assert.equal(new Set(members.map((kv) => kv.text)).size, 1, `group ${group}: one value`);
      assert.equal(new Set(members.map((kv) => kv.modRevision)).size, 1, `group ${group}: one txn`);
    }
  }
});

test("killed holding a lock: the lock frees with the session's lease, another client takes it", async () => {
  await using etcd = client();
  const name = uniquePrefix("crash-lock");
  const { proc, line } = await child(["lock", fx.endpoints.join(","), name, String(TTL)], "locked");
  const ownerKey = line.slice("locked ".length);
  const owner = await etcd.get(ownerKey);
  assert.ok(owner !== undefined, "the child holds the lock");
  await kill(proc);
  await using session = await etcd.session({ ttl: TTL });
  const start = performance.now();
  // Generous bound, ten times the TTL: only so that a broken lock fails instead of hanging.
  const mutex = await session.mutex(name).lock({ timeoutMs: 10 * TTL * 1000 });
  process.stderr.write(
    `client-crash: lock taken ${Math.round(performance.now() - start)} ms after the holder was killed (session TTL ${TTL} s)\n`,
  );
  assert.ok(mutex.held);
  assert.equal(await etcd.get(ownerKey), undefined, "the dead holder's key is gone");
  assert.ok(mutex.fencingToken > owner.createRevision);
  await mutex.unlock();
});

test("killed while queued for a lock: the queue moves on once its lease expires", async () => {
  await using etcd = client();
  const name = uniquePrefix("crash-queue");
  await using holder = await etcd.session({ ttl: TTL });
  const held = await holder.mutex(name).lock();
  const { proc } = await child(["wait", fx.endpoints.join(","), name, String(TTL)], "waiting");
  assert.equal((await etcd.range(prefix(`${name}/`))).count, 2n, "holder and the queued child");
  await kill(proc);
  await using next = await etcd.session({ ttl: TTL });
  const pending = next.mutex(name).lock({ timeoutMs: 10 * TTL * 1000 });
  await held.unlock();
  const start = performance.now();
  const mutex = await pending;
  process.stderr.write(
    `client-crash: queued lock taken ${Math.round(performance.now() - start)} ms after the unlock (session TTL ${TTL} s)\n`,
  );
  assert.ok(mutex.held);
  const left = await etcd.range(prefix(`${name}/`));
  assert.deepEqual(
    left.kvs.map((kv) => kv.keyText),
    [mutex.keyText],
    "only the new owner's key is left",
  );
  await mutex.unlock();
});
