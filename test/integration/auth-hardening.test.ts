/**
 * A non-admin user on an auth-enabled 3-member cluster, on whichever etcd line runs the suite.
 * etcd 3.5.28 and 3.6.9 (CVE-2026-33413) made lease renewal need put permission on the lease's
 * keys and MemberList, Alarm and LeaseLeases need an authenticated user; who may call Status
 * differs by line. Each test asserts what the line under test decides: calls fail over across a
 * killed member and the member is probed back with the health service (which anyone may call),
 * a kept-alive lease outlives its TTL (the keep-alive stream carries the token), a refused
 * renewal is a typed loss of that one lease while the others live on, and `status()` answers or
 * is a typed refusal.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  Etcd,
  type EtcdOptions,
  LeaseLostError,
  PermissionDeniedError,
  prefix,
  UserEmptyError,
} from "../../src/index.ts";
import {
  type Cluster,
  etcdVersion,
  type Member,
  testClientOptions,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

const fx = useEtcd({ size: 3 });
const ROOT_PASSWORD = "root-pw-h4rd3n";
const APP_PASSWORD = "app-pw-5tXq";
const TTL_S = 2;

const [, MINOR = 0, PATCH = 0] = etcdVersion().split(".").map(Number);
/** 3.5.28+, 3.6.9+ and 3.7: the CVE-2026-33413 checks. */
const hardened = (MINOR === 5 && PATCH >= 28) || (MINOR === 6 && PATCH >= 9) || MINOR >= 7;
/** Later 3.5 releases let only the root role call Status; 3.6+ any authenticated user. */
const statusNeedsRoot = MINOR === 5 && PATCH >= 28;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Records each call's endpoint, method and outcome: "http://...:port Range ok". */
function recorder() {
  const calls: string[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    const id = `${new URL(req.url).origin} ${req.method.name}`;
    try {
      const res = await next(req);
      calls.push(`${id} ok`);
      return res;
    } catch (error) {
      calls.push(`${id} ${ConnectError.from(error).rawMessage}`);
      throw error;
    }
  };
  const count = (member: Member, method: string, outcome = "ok") =>
    calls.filter((c) => c === `${member.clientUrl} ${method} ${outcome}`).length;
  return { calls, interceptor, count };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
}

describe(`a non-admin user on auth-enabled etcd ${etcdVersion()} (3 members)`, () => {
  let cluster: Cluster;
  let root: Etcd;
  const client = (options: Partial<EtcdOptions> = {}) =>
    new Etcd({
      ...testClientOptions(),
      endpoints: cluster.endpoints,
      timeoutMs: 10_000,
      ...options,
    });
  const app = (options: Partial<EtcdOptions> = {}) =>
    client({ username: "app", password: APP_PASSWORD, ...options });

  before(async () => {
    if (!fx.cluster) throw new Error("these tests need a spawned cluster");
    cluster = fx.cluster;
    const admin = client();
    try {
      await admin.auth.userAdd("root", ROOT_PASSWORD);
      await admin.auth.userGrantRole("root", "root");
      await admin.auth.roleAdd("app");
      await admin.auth.roleGrantPermission("app", prefix("app/"), "readwrite");
      await admin.auth.userAdd("app", APP_PASSWORD);
      await admin.auth.userGrantRole("app", "app");
      await admin.auth.enable();
    } finally {
      await admin.close();
    }
    root = client({ username: "root", password: ROOT_PASSWORD });
  });

  after(async () => {
    for (const member of cluster.members) if (!member.running) member.start();
    await cluster.waitHealthy();
    await root?.auth.disable().catch(() => {});
    await root?.close();
  });

  test("calls fail over across a killed member, which the health check brings back", async () => {
    const rec = recorder();
    await using etcd = app({ interceptors: [rec.interceptor] });
    const k = `app/${uniquePrefix("failover")}k`;
    await etcd.put(k, "v");
    const victim = cluster.members[1] as Member;
    await victim.kill();
    try {
      for (let i = 0; i < 20; i++) assert.equal((await etcd.get(k))?.text, "v");
      await etcd.put(k, "w");
    } finally {
      victim.start();
    }
    await cluster.waitHealthy();
    const before = rec.count(victim, "Range");
    await waitFor("the restarted member to serve reads again", async () => {
      await etcd.get(k);
      return rec.count(victim, "Range") > before;
    });
    assert.ok(rec.count(victim, "Check") >= 1, `a health check brought it back: ${rec.calls}`);
    assert.equal(
      rec.calls.filter((c) => c.includes(" Status ")).length,
      0,
      "probing never depends on who may call Status",
    );
  });

  test("a kept-alive lease outlives its TTL (the keep-alive stream carries the token)", async () => {
    await using etcd = app();
    const k = `app/${uniquePrefix("lease")}k`;
    const lease = await etcd.lease.grant(TTL_S);
    lease.keepAlive();
    await etcd.put(k, "v", { lease });
    await sleep(TTL_S * 2_500);
    assert.equal(lease.state, "alive");
    assert.equal((await etcd.get(k))?.text, "v", "the key outlived the lease's TTL");
    assert.ok(etcd.lease.keepAliveStats().renewals >= 2);
    await lease.revoke();
  });

  test("a renewal the user may not make is a typed loss of that lease; the others live on", async () => {
    await using etcd = app();
    const mine = await etcd.lease.grant(TTL_S);
    const shared = await etcd.lease.grant(TTL_S);
    mine.keepAlive();
    shared.keepAlive();
    const base = `app/${uniquePrefix("refused")}`;
    await etcd.put(`${base}mine`, "v", { lease: mine });
    await etcd.put(`${base}shared`, "v", { lease: shared });
    // root attaches a key outside app/ to the lease: renewing it now needs put permission there.
    const foreign = `outside/${uniquePrefix("refused")}k`;
    await root.put(foreign, "v", { lease: shared });
    if (hardened) {
      const lost = await Promise.race([
        shared.lost,
        sleep(TTL_S * 3_000).then(() => assert.fail("the refused lease was not reported lost")),
      ]);
      assert.ok(lost instanceof LeaseLostError, String(lost));
      assert.ok(lost.cause instanceof PermissionDeniedError, `cause: ${String(lost.cause)}`);
      assert.equal(lost.cause.rawMessage, "etcdserver: permission denied");
      assert.match(lost.message, /put permission/);
    }
    await sleep(TTL_S * 2_500);
    assert.equal(mine.state, "alive", "the other lease is still renewed");
    assert.equal((await etcd.get(`${base}mine`))?.text, "v");
    if (!hardened) {
      assert.equal(shared.state, "alive", `etcd ${etcdVersion()} renews it`);
      assert.equal((await root.get(foreign))?.text, "v");
    }
    await mine.revoke();
    await root.lease.revoke(shared.id).catch(() => {});
  });

  test("status(): answered, or a typed refusal naming the admin role, as the line decides", async () => {
    await using etcd = app();
    const endpoint = cluster.endpoints[0] as string;
    if (statusNeedsRoot) {
      const error = await rejection(etcd.maintenance.status({ endpoint }));
      assert.ok(error instanceof PermissionDeniedError, String(error));
      assert.equal(error.rawMessage, "etcdserver: permission denied");
      assert.match(error.message, /root \(admin\) role/);
    } else {
      const status = await etcd.maintenance.status({ endpoint });
      assert.equal(status.version, etcdVersion());
    }
    assert.equal((await root.maintenance.status({ endpoint })).version, etcdVersion());
  });

  test("member list, alarms and lease list: any authenticated user; no token only before 3.5.28", async () => {
    await using etcd = app();
    assert.equal((await etcd.cluster.memberList()).members.length, 3);
    assert.deepEqual((await etcd.maintenance.alarmList()).alarms, []);
    await etcd.lease.list();
    await using anonymous = client();
    const calls = [
      () => anonymous.cluster.memberList(),
      () => anonymous.maintenance.alarmList(),
      () => anonymous.lease.list(),
    ];
    for (const call of calls) {
      if (hardened) {
        const error = await rejection(call());
        assert.ok(error instanceof UserEmptyError, String(error));
      } else {
        await call();
      }
    }
  });
});
