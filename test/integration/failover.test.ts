/**
 * Failover on a real 3-member cluster, case by case: calls spread round-robin; a killed member is
 * skipped and comes back after it restarts; a hung (SIGSTOPped) member costs a call its deadline
 * and later calls go elsewhere; a write that may have reached etcd is never sent again, a read
 * is; a write that provably never left (refused, or dial timed out before the server spoke
 * HTTP/2) is sent elsewhere and applied once; the signal and the deadline bound the retry loop;
 * `retry: false`; member discovery with learners left out.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { neverLeft } from "../../src/connection/retry-policy.ts";
import { EtcdSessionManager } from "../../src/connection/session.ts";
import {
  CanceledError,
  Etcd,
  type EtcdOptions,
  TimeoutError,
  UnavailableError,
} from "../../src/index.ts";
import {
  type Cluster,
  freePort,
  type Member,
  testClientOptions,
  uniquePrefix,
  unsupportedOn,
  useEtcd,
} from "../support/index.ts";

const fx = useEtcd({ size: 3 });
let cluster: Cluster;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Counts the requests each endpoint was sent, per method ("Range", "Put"...). */
function requestCounter() {
  const counts = new Map<string, number>();
  const interceptor: Interceptor = (next) => async (req) => {
    const id = `${new URL(req.url).origin} ${req.method.name}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    return next(req);
  };
  return {
    interceptor,
    count: (member: Member | string, method: string) =>
      counts.get(`${typeof member === "string" ? member : member.clientUrl} ${method}`) ?? 0,
  };
}

function client(endpoints: string[], options: Partial<EtcdOptions> = {}): Etcd {
  return new Etcd({ ...testClientOptions(), endpoints, ...options });
}

/** Brings every member back: resumed, restarted, healthy. */
async function heal(): Promise<void> {
  for (const member of cluster.members) {
    if (member.paused) member.resume();
    if (!member.running) member.start();
  }
  await cluster.waitHealthy();
}

function useCluster(): void {
  before(() => {
    if (!fx.cluster) throw new Error("failover tests need a spawned cluster");
    cluster = fx.cluster;
  });
}

describe("failover", () => {
  useCluster();
  after(heal);

  test("calls spread round-robin over the members", async () => {
    const counter = requestCounter();
    await using etcd = client(cluster.endpoints, { interceptors: [counter.interceptor] });
    const k = `${uniquePrefix("rr")}k`;
    for (let i = 0; i < 30; i++) await etcd.get(k);
    for (let i = 0; i < 9; i++) await etcd.put(k, String(i));
    for (const member of cluster.members) {
      assert.equal(counter.count(member, "Range"), 10, member.name);
      assert.equal(counter.count(member, "Put"), 3, member.name);
    }
  });

  test("a killed member is skipped, and used again once it is back", async () => {
    const counter = requestCounter();
    await using etcd = client(cluster.endpoints, { interceptors: [counter.interceptor] });
    const k = `${uniquePrefix("killed")}k`;
    await etcd.put(k, "v");
    const victim = cluster.members[1] as Member;
    await victim.kill();
    try {
      for (let i = 0; i < 30; i++) assert.equal((await etcd.get(k))?.text, "v");
      // At most the first pick reached it (and failed over); then it was set aside.
      const toVictim = counter.count(victim, "Range");
      assert.ok(toVictim <= 1, `${toVictim} reads were sent to the killed member`);
      victim.start();
      await cluster.waitHealthy();
      await waitFor("the restarted member to serve again", async () => {
        await etcd.get(k);
        return counter.count(victim, "Range") > toVictim;
      });
    } finally {
      await heal();
    }
  });

  test("a hung member costs a call at most its deadline; later calls go elsewhere", async () => {
    const counter = requestCounter();
    // Hang a follower: a hung leader also stalls the others' reads until they elect a new one,
    // which on a loaded machine can outlast the reads' deadlines below.
    const leader = await cluster.leader();
    const hung = cluster.members.find((m) => m !== leader) as Member;
    const others = cluster.members.filter((m) => m !== hung).map((m) => m.clientUrl);
    await using etcd = client([hung.clientUrl, ...others], {
      interceptors: [counter.interceptor],
    });
    const k = `${uniquePrefix("hung")}k`;
    await etcd.put(k, "v");
    // Warm every connection, so the hung member's looks established; the next pick is `hung`.
    await etcd.get(k);
    await etcd.get(k);
    hung.pause();
    try {
      const before = counter.count(hung, "Range");
      // Shorter than hang detection, which would move the read to another member.
      await assert.rejects(etcd.get(k, { timeoutMs: 300 }), TimeoutError);
      assert.equal(counter.count(hung, "Range"), before + 1);
      for (let i = 0; i < 20; i++)
        assert.equal((await etcd.get(k, { timeoutMs: 5_000 }))?.text, "v");
      assert.equal(
        counter.count(hung, "Range"),
        before + 1,
        "no later read went to the hung member",
      );
      hung.resume();
      await waitFor("the resumed member to serve again", async () => {
        await etcd.get(k);
        return counter.count(hung, "Range") > before + 1;
      });
    } finally {
      await heal();
    }
  });

  test("a write that may have reached etcd is not sent again; a read is", async () => {
    const counter = requestCounter();
    const [a, b] = cluster.members as [Member, Member];
    const k = `${uniquePrefix("maybe-sent")}k`;
    try {
      await using etcd = client([a.clientUrl, b.clientUrl], {
        interceptors: [counter.interceptor],
      });
      // Connect to both, then the next pick is a: hang it, send, and kill it mid-call.
      await etcd.get(k);
      await etcd.get(k);
      a.pause();
      const write = etcd.put(k, "once").then(
        () => undefined,
        (e: unknown) => e,
      );
      await sleep(300);
      await a.kill();
      const error = await write;
      assert.ok(error instanceof UnavailableError, `expected UnavailableError, got ${error}`);
      assert.equal(neverLeft(error), false);
      assert.equal(counter.count(b, "Put"), 0, "the write was not sent again");
      assert.equal(await etcd.get(k), undefined, "and so never applied");
    } finally {
      await heal();
    }
    try {
      await using etcd = client([a.clientUrl, b.clientUrl], {
        interceptors: [counter.interceptor],
      });
      await etcd.get(k);
      await etcd.get(k);
      const readsOnB = counter.count(b, "Range");
      a.pause();
      const read = etcd.get(k);
      await sleep(300);
      await a.kill();
      assert.equal(await read, undefined);
      assert.equal(counter.count(b, "Range"), readsOnB + 1, "the read was sent again to b");
    } finally {
      await heal();
    }
  });

  test("a write refused by a dead member is sent to the next one, once", async () => {
    const counter = requestCounter();
    const [a, b] = cluster.members as [Member, Member];
    const k = `${uniquePrefix("refused")}k`;
    await a.kill();
    try {
      await using etcd = client([a.clientUrl, b.clientUrl], {
        interceptors: [counter.interceptor],
      });
      const result = await etcd.put(k, "v");
      assert.equal(counter.count(b, "Put"), 1);
      const kv = await etcd.get(k);
      assert.equal(kv?.version, 1n);
      assert.equal(kv?.modRevision, result.revision);
    } finally {
      await heal();
    }
  });

  test("dial timeout: a hung member that never spoke HTTP/2 is given up on before sending", async () => {
    const counter = requestCounter();
    const [a, b] = cluster.members as [Member, Member];
    const k = `${uniquePrefix("dial")}k`;
    a.pause();
    try {
      {
        // Alone: the call fails at the dial timeout, provably unsent.
        await using etcd = client([a.clientUrl], { dialTimeoutMs: 300 });
        const error = await etcd.put(k, "x", { retry: false }).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(error instanceof UnavailableError, `expected UnavailableError, got ${error}`);
        assert.match(error.message, /dial timeout after 300 ms/);
        assert.equal(neverLeft(error), true);
      }
      // With a healthy member beside it, the write goes there, and only there.
      await using etcd = client([a.clientUrl, b.clientUrl], {
        dialTimeoutMs: 300,
        interceptors: [counter.interceptor],
      });
      await etcd.put(k, "v");
      assert.equal(counter.count(a, "Put"), 0);
      assert.equal(counter.count(b, "Put"), 1);
      a.resume();
      await cluster.waitHealthy();
      await sleep(200);
      const kv = await etcd.get(k);
      assert.equal(kv?.text, "v");
      assert.equal(kv?.version, 1n, "applied exactly once, also after the member woke up");
    } finally {
      await heal();
    }
  });

  test("the caller's deadline bounds the dial", async () => {
    const hung = cluster.members[2] as Member;
    hung.pause();
    try {
      await using etcd = client([hung.clientUrl], { dialTimeoutMs: 60_000 });
      // The dial got what was left of the call's 300 ms, not its own 60 s.
      const error = await etcd.get("k", { timeoutMs: 300 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const dialed = /dial timeout after (\d+) ms/.exec(String(error));
      assert.ok(dialed || /its dial timed out/.test(String(error)), String(error));
      if (dialed) assert.ok(Number(dialed[1]) <= 300, String(error));
    } finally {
      await heal();
    }
  });

  test("the caller's signal stops the retry loop", async () => {
    const nowhere = [
      `http://127.0.0.1:${await freePort()}`,
      `http://127.0.0.1:${await freePort()}`,
    ];
    await using etcd = client(nowhere);
    // Left alone, the loop gives up after its attempts with UnavailableError...
    await assert.rejects(etcd.get("k"), UnavailableError);
    // ...the signal ends it first, as the caller's cancel.
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(etcd.get("k", { signal: controller.signal }), CanceledError);
  });

  test("retry: false sends a read once", async () => {
    const counter = requestCounter();
    const [a, b] = cluster.members as [Member, Member];
    await using etcd = client([a.clientUrl, b.clientUrl], { interceptors: [counter.interceptor] });
    await etcd.get("k");
    await etcd.get("k");
    a.pause();
    try {
      const read = etcd.get("k", { retry: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await sleep(300);
      await a.kill();
      const error = await read;
      assert.ok(error instanceof UnavailableError, `expected UnavailableError, got ${error}`);
      assert.equal(counter.count(b, "Range"), 1, "only the warm-up read reached b");
    } finally {
      await heal();
    }
  });

  test("retry: false reaches lease, cluster, maintenance, auth, lock and election calls", async () => {
    const [a, b] = cluster.members as [Member, Member];
    const role = `retry-off-${process.pid}`;
    // Each call goes to a fresh client whose first pick is the dead member `a`.
    const calls: [string, string, (etcd: Etcd, retry: { retry?: false }) => Promise<unknown>][] = [
      ["lease.grant", "LeaseGrant", (etcd, o) => etcd.lease.grant(5, o)],
      ["lease.list", "LeaseLeases", (etcd, o) => etcd.lease.list(o)],
      ["cluster.memberList", "MemberList", (etcd, o) => etcd.cluster.memberList(o)],
      ["maintenance.alarmList", "Alarm", (etcd, o) => etcd.maintenance.alarmList(o)],
      ["auth.roleAdd", "RoleAdd", (etcd, o) => etcd.auth.roleAdd(role, o)],
      ["lockService.unlock", "Unlock", (etcd, o) => etcd.lockService.unlock(`${role}/none`, o)],
      ["electionService.leader", "Leader", (etcd, o) => etcd.electionService.leader(role, o)],
    ];
    await a.kill();
    try {
      for (const [name, method, call] of calls) {
        const counter = requestCounter();
        {
          await using etcd = client([a.clientUrl, b.clientUrl], {
            interceptors: [counter.interceptor],
          });
          const error = await call(etcd, { retry: false }).then(
            () => undefined,
            (e: unknown) => e,
          );
          assert.ok(
            error instanceof UnavailableError,
            `${name}: expected Unavailable, got ${error}`,
          );
          assert.equal(counter.count(b, method), 0, `${name} with retry: false was not sent on`);
        }
        await using etcd = client([a.clientUrl, b.clientUrl], {
          interceptors: [counter.interceptor],
        });
        await call(etcd, {});
        assert.equal(counter.count(b, method), 1, `${name} without it went on to b`);
      }
    } finally {
      await heal();
      await using etcd = client(cluster.endpoints);
      await etcd.auth.roleDelete(role).catch(() => {});
    }
  });

  test("member discovery: sync() and autoSyncIntervalMs find the voting members", async () => {
    const [first] = cluster.endpoints as [string];
    {
      await using etcd = client([first]);
      assert.deepEqual((await etcd.sync()).sort(), [...cluster.endpoints].sort());
      assert.deepEqual([...etcd.endpoints].sort(), [...cluster.endpoints].sort());
    }
    await using etcd = client([first], { autoSyncIntervalMs: 200 });
    await waitFor("auto-sync", () => etcd.endpoints.length === 3);
    assert.deepEqual([...etcd.endpoints].sort(), [...cluster.endpoints].sort());

    // A learner serves no client requests: discovery leaves it out.
    const spec = await cluster.reserveMember("learner");
    const added = await reconfigure(() =>
      etcd.cluster.memberAdd([spec.peerUrl], { isLearner: true }),
    );
    const initial = added.members
      .flatMap((m) => m.peerUrls.map((url) => `${m.name || spec.name}=${url}`))
      .join(",");
    const learner = cluster.startMember(spec, initial);
    try {
      await waitFor("the learner to publish its client URL", async () => {
        const { members } = await etcd.cluster.memberList();
        return members.some((m) => m.isLearner && m.clientUrls.includes(spec.clientUrl));
      });
      await sleep(600);
      assert.equal(etcd.endpoints.includes(spec.clientUrl), false);
      assert.deepEqual(await etcd.sync(), etcd.endpoints);
      assert.equal(etcd.endpoints.length, 3);
    } finally {
      await reconfigure(() => etcd.cluster.memberRemove(added.member.id));
      await cluster.dropMember(learner);
    }
  });
});

describe("HTTP/2 keep-alive pings (connect-es #1795)", () => {
  useCluster();
  test("a ping on a destroyed session reports an error instead of throwing", {
    skip: unsupportedOn({
      deno: "asserts that Node's own ping() throws on a destroyed session; Deno's does not throw (the guard reports the same error on both)",
    }),
  }, async (t) => {
    const session = new EtcdSessionManager(cluster.endpoints[0] as string, {
      pingIntervalMs: 10_000,
    });
    // A bare session's handshake holds no timer (the pool's dial deadline does that for clients),
    // and on Node 22 its connecting socket does not hold the event loop either: hold it here.
    const hold = setInterval(() => {}, 1000);
    t.after(() => clearInterval(hold));
    assert.equal(await session.handshake(), true);
    const stream = await session.request("POST", "/etcdserverpb.Maintenance/Status", {}, {});
    stream.on("error", () => {});
    const conn = stream.session;
    assert.ok(conn);
    conn.destroy();
    // Node itself throws here; connect-node's ping timer would crash the process.
    const Original = Object.getPrototypeOf(conn) as { ping: (cb: () => void) => void };
    assert.throws(() => Original.ping.call(conn, () => {}), { code: "ERR_HTTP2_INVALID_SESSION" });
    const error = await new Promise<Error | null>((resolve) => conn.ping((err) => resolve(err)));
    assert.equal((error as { code?: string } | null)?.code, "ERR_HTTP2_INVALID_SESSION");
    session.abort();
  });
});

/** Runs a membership change, waiting out etcd's refusal during its first seconds of health. */
async function reconfigure<T>(change: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await change();
    } catch (error) {
      if (Date.now() > deadline || !/unhealthy|not enough started/i.test(String(error)))
        throw error;
      await sleep(300);
    }
  }
}
