/**
 * etcd-connect/testing, used the way a user's test suite uses it: a 3-member cluster with TLS
 * and auth from `useTestCluster` (node:test's hooks), controlled member by member, with client
 * options that work as they are; and the cleanup a suite relies on when it does not stop its
 * cluster: on SIGTERM, SIGINT, an uncaught exception and process.exit, no etcd process and no
 * data directory is left behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Etcd, PermissionDeniedError, prefix, UserEmptyError } from "../../src/index.ts";
import { hasOpenssl, TestCluster, useTestCluster } from "../../src/testing.ts";
import {
  scriptArgs,
  signalChild,
  TLS_ON_DENO,
  testFileArgs,
  unsupportedOn,
} from "../support/index.ts";

const root = resolve(import.meta.dirname, "../..");

describe("a 3-member cluster with TLS and auth", {
  skip: (!hasOpenssl() && "needs openssl") || unsupportedOn({ deno: TLS_ON_DENO }),
}, () => {
  const fixture = useTestCluster(
    { before, after },
    {
      size: 3,
      tls: { generate: true, clientCertAuth: true },
      auth: {
        roles: [{ name: "app", permissions: [{ keys: prefix("app/"), type: "readwrite" }] }],
        users: [{ name: "alice", password: "alice-pw", roles: ["app"] }],
      },
    },
  );

  test("client options carry the CA, client certificate and each user's credentials", async () => {
    const { cluster } = fixture;
    assert.equal(cluster.endpoints.length, 3);
    assert.ok(cluster.endpoints.every((url) => url.startsWith("https://127.0.0.1:")));
    await using alice = new Etcd({ ...cluster.clientOptions("alice"), timeoutMs: 10_000 });
    await alice.put("app/x", "1");
    assert.equal((await alice.get("app/x"))?.text, "1");
    await assert.rejects(alice.put("other/x", "1"), PermissionDeniedError);
    await using rootClient = new Etcd({ ...cluster.clientOptions(), timeoutMs: 10_000 });
    await rootClient.put("other/x", "2");
    // Auth is on (etcd 3.4 has no AuthStatus): a client without a password is refused (etcd
    // takes the client certificate's common name as its user name, a user with no roles).
    const { username: _u, password: _p, ...anonymous } = cluster.clientOptions();
    await using nobody = new Etcd({ ...anonymous, timeoutMs: 10_000 });
    await assert.rejects(
      nobody.get("app/x"),
      (e) => e instanceof PermissionDeniedError || e instanceof UserEmptyError,
    );
    const { users } = await rootClient.auth.userList();
    assert.deepEqual([...users].sort(), ["alice", "root"]);
    assert.throws(() => cluster.clientOptions("nobody"), /no user nobody/);
  });

  test("kill the leader: another is elected and writes go on; restart it: all healthy", async () => {
    const { cluster } = fixture;
    await using etcd = new Etcd({ ...cluster.clientOptions("alice"), timeoutMs: 10_000 });
    const leader = await cluster.leader();
    assert.ok(leader, "a leader");
    const pid = leader.pid;
    await leader.kill();
    assert.equal(leader.running, false);
    assert.throws(() => process.kill(pid ?? 0, 0), { code: "ESRCH" });
    const next = await cluster.waitLeader();
    assert.notEqual(next, leader);
    assert.equal(next.running, true);
    await etcd.put("app/after-kill", "ok");
    await leader.restart();
    await cluster.waitHealthy();
    assert.equal(leader.running, true);
    assert.notEqual(leader.pid, pid);
    await using direct = new Etcd({
      ...cluster.clientOptions("alice"),
      endpoints: [leader.clientUrl],
      timeoutMs: 10_000,
    });
    assert.equal((await direct.get("app/after-kill"))?.text, "ok");
  });

  test("pause a member: it hangs with its process alive; resume: it serves again", async () => {
    const { cluster } = fixture;
    const member = cluster.members[2];
    assert.ok(member);
    member.pause();
    assert.equal(member.running, true);
    const stat = readFileSync(`/proc/${member.pid}/stat`, "utf8");
    assert.equal(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3), "T");
    member.resume();
    await cluster.waitHealthy();
    await using direct = new Etcd({
      ...cluster.clientOptions(),
      endpoints: [member.clientUrl],
      timeoutMs: 10_000,
    });
    assert.equal((await direct.get("app/x"))?.text, "1");
  });
});

test("a cluster without auth or TLS: plain http and no credentials", async () => {
  await using cluster = await TestCluster.start();
  const options = cluster.clientOptions();
  assert.deepEqual(Object.keys(options), ["endpoints"]);
  assert.throws(() => cluster.clientOptions("alice"), /without auth/);
  await using etcd = new Etcd(options);
  await etcd.put("k", "v");
  assert.equal((await etcd.get("k"))?.text, "v");
  const dir = cluster.root;
  await cluster.stop();
  assert.equal(existsSync(dir), false);
});

interface ChildEnd {
  pids: number[];
  root: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs a child (the runtime with `args`) that starts a cluster and prints its pids and directory
 * as a JSON line; sends it `signal` once that line is out.
 */
function runChild(args: string[], signal?: NodeJS.Signals): Promise<ChildEnd> {
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    // A test file reports to its own runner, not to the run around this test.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise((done, fail) => {
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      if (signal && stdout.includes("\n")) signalChild(child, signal);
    });
    child.on("error", fail);
    child.on("exit", (code, sig) => {
      // A test runner may frame the line with its own output (Deno does).
      const line = stdout.split("\n").find((l) => l.includes('"pids"')) ?? "";
      if (!line) return fail(new Error(`child printed no cluster:\n${stdout}\n${stderr}`));
      const { pids, root: dir } = JSON.parse(line.slice(line.indexOf("{"))) as {
        pids: number[];
        root: string;
      };
      done({ pids, root: dir, code, signal: sig, stderr });
    });
  });
}

/** True while `pid` exists as a process that is not a zombie awaiting its reaper. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

describe("cleanup when a suite does not stop its cluster", () => {
  for (const [how, signal] of [
    ["wait", "SIGTERM"],
    ["wait", "SIGINT"],
    ["throw", undefined],
    ["exit", undefined],
  ] as const) {
    test(`${signal ?? how}: the members are killed and the data directory removed`, async () => {
      const end = await runChild(
        scriptArgs(join(root, "test/fixtures/kit-child.ts"), how, "2"),
        signal,
      );
      if (signal) assert.equal(end.signal, signal, "the child still dies of the signal");
      else assert.notEqual(end.code, 0, end.stderr);
      assert.equal(end.pids.length, 2);
      // Killed before the child ended; on a loaded machine a killed etcd (many threads) can take
      // a moment more to be gone.
      for (let i = 0; i < 50 && end.pids.some((pid) => alive(pid)); i++) await sleep(100);
      assert.deepEqual(
        end.pids.filter((pid) => alive(pid)),
        [],
        "etcd processes left running",
      );
      assert.equal(existsSync(end.root), false, `${end.root} left behind`);
    });
  }
});

test("a test file with a skipped test: its cluster is stopped when the file ends", async () => {
  const end = await runChild(testFileArgs(join(root, "test/fixtures/kit-skipped-test.ts")));
  assert.equal(end.code, 0, end.stderr);
  assert.equal(end.pids.length, 1);
  assert.deepEqual(
    end.pids.filter((pid) => alive(pid)),
    [],
    "etcd processes left running",
  );
  assert.equal(existsSync(end.root), false, `${end.root} left behind`);
});
