/**
 * Leases against real etcd: grant, revoke, time-to-live with keys, list, keepAliveOnce; keys
 * attached to a lease vanish when it ends and stay while it is kept alive; a kept-alive lease
 * that ends elsewhere, or whose only endpoint hangs or dies, is reported lost; a thousand leases
 * are kept alive through exactly one LeaseKeepAlive stream.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import {
  ClientClosedError,
  Etcd,
  InvalidArgumentError,
  LeaseLostError,
  LeaseNotFoundError,
} from "../../src/index.ts";
import {
  Cluster,
  etcdctl,
  fetchText,
  testClientOptions,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

/**
 * How much later than the TTL a cut-off client may report its lease lost. The client's deadline
 * is the send time of the last successful renewal plus the TTL, so the loss is due no later than
 * TTL after the cut; the margin covers timer and scheduling delay on a loaded machine.
 */
const LOST_MARGIN_MS = 2_000;

const fx = useEtcd();
let etcd: Etcd;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// Root-level before hooks run concurrently with useEtcd's: the client is made inside a describe.
describe("leases", () => {
  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
  });
  after(async () => {
    await etcd.close();
  });

  describe("lease calls", () => {
    test("grant, timeToLive with keys, list, revoke", async () => {
      const p = uniquePrefix("lease");
      const lease = await etcd.lease.grant(30);
      assert.equal(typeof lease.id, "bigint");
      assert.ok(lease.id > 0n);
      assert.equal(lease.grantedTtl, 30n);
      assert.equal(lease.state, "granted");
      assert.equal(lease.hex, lease.id.toString(16));

      await etcd.put(`${p}a`, "1", { lease: lease.id });
      await etcd.put(`${p}b`, "2", { lease: lease.id });
      assert.equal((await etcd.get(`${p}a`))?.lease, lease.id);

      const ttl = await etcd.lease.timeToLive(lease.id, { keys: true });
      assert.equal(ttl.id, lease.id);
      assert.equal(ttl.grantedTtl, 30n);
      assert.ok(ttl.ttl > 0n && ttl.ttl <= 30n, `ttl ${ttl.ttl}`);
      assert.deepEqual(ttl.keys.map((k) => Buffer.from(k).toString()).sort(), [`${p}a`, `${p}b`]);
      assert.deepEqual((await lease.timeToLive()).keys, [], "keys only when asked");

      assert.ok((await etcd.lease.list()).leases.includes(lease.id));

      // etcdctl (Go's client) sees the same lease and its keys.
      // (etcdctl prints IDs zero-padded to 16 digits; the lock/election keys use plain %x.)
      const shown = await etcdctl(fx.endpoints, ["lease", "timetolive", lease.hex, "--keys"]);
      assert.match(
        shown.stdout.toString(),
        new RegExp(`lease ${lease.hex.padStart(16, "0")} granted with TTL\\(30s\\)`),
      );

      await lease.revoke();
      assert.equal(lease.state, "revoked");
      assert.equal(await etcd.get(`${p}a`), undefined, "revoking deletes the lease's keys");
      assert.equal(await etcd.get(`${p}b`), undefined);
      assert.equal((await etcd.lease.timeToLive(lease.id)).ttl, -1n);
      assert.ok(!(await etcd.lease.list()).leases.includes(lease.id));

      await lease.revoke(); // a handle's revoke is idempotent
      await assert.rejects(etcd.lease.revoke(lease.id), LeaseNotFoundError);
    });

    test("grant with a chosen id; bad input is refused before sending", async () => {
      const wanted = BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000));
      const lease = await etcd.lease.grant(10, { id: wanted });
      assert.equal(lease.id, wanted);
      await assert.rejects(etcd.lease.grant(10, { id: wanted }), /lease already exists/);
      await lease.revoke();
      await assert.rejects(etcd.lease.grant(0), InvalidArgumentError);
      await assert.rejects(etcd.lease.grant(1.5), InvalidArgumentError);
      await assert.rejects(etcd.lease.revoke(-1), InvalidArgumentError);
    });

    test("keepAliveOnce renews; a missing lease gives LeaseNotFoundError", async () => {
      const lease = await etcd.lease.grant(20);
      await sleep(1100);
      const before = await lease.timeToLive();
      assert.ok(before.ttl < 20n, `ttl ${before.ttl} should have dropped`);
      const renewal = await lease.keepAliveOnce();
      assert.equal(renewal.id, lease.id);
      assert.equal(renewal.ttl, 20n);
      assert.ok((await lease.timeToLive()).ttl > before.ttl);
      await lease.revoke();
      await assert.rejects(etcd.lease.keepAliveOnce(lease.id), LeaseNotFoundError);
      await assert.rejects(etcd.lease.keepAlive(lease.id), LeaseNotFoundError);
    });

    test("await using revokes the lease and its keys", async () => {
      const p = uniquePrefix("dispose");
      let id: bigint;
      {
        await using lease = await etcd.lease.grant(60, { keepAlive: true });
        id = lease.id;
        await etcd.put(`${p}k`, "v", { lease: lease.id });
      }
      assert.equal((await etcd.lease.timeToLive(id)).ttl, -1n);
      assert.equal(await etcd.get(`${p}k`), undefined);
    });
  });

  describe("lease lifetime", () => {
    test("keys vanish when a lease that is not kept alive expires", async () => {
      const p = uniquePrefix("expire");
      const lease = await etcd.lease.grant(2);
      await etcd.put(`${p}k`, "v", { lease: lease.id });
      await waitFor("the key to expire", async () => (await etcd.get(`${p}k`)) === undefined);
      assert.equal((await etcd.lease.timeToLive(lease.id)).ttl, -1n);
    });

    test("a kept-alive lease outlives its TTL; released, it expires", async () => {
      const p = uniquePrefix("alive");
      const lease = (await etcd.lease.grant(2)).keepAlive();
      assert.equal(lease.state, "alive");
      await etcd.put(`${p}k`, "v", { lease: lease.id });
      await sleep(5_000);
      assert.equal((await etcd.get(`${p}k`))?.text, "v", "kept alive past 2.5 TTLs");
      assert.ok((await lease.timeToLive()).ttl > 0n);
      assert.ok(lease.deadline > Date.now(), "the local deadline moves with renewals");
      lease.release();
      assert.equal(lease.state, "released");
      assert.ok(lease.signal.aborted);
      await waitFor(
        "the released lease to expire",
        async () => (await etcd.get(`${p}k`)) === undefined,
      );
    });

    test("a lease revoked elsewhere is reported lost: promise, signal and callback", async () => {
      const lease = await etcd.lease.grant(6, { keepAlive: true });
      const heard: LeaseLostError[] = [];
      lease.onLost((e) => heard.push(e));
      await etcdctl(fx.endpoints, ["lease", "revoke", lease.hex]);
      const error = await lease.lost;
      assert.ok(error instanceof LeaseLostError, String(error));
      assert.match(error.message, /expired or was revoked/);
      assert.equal(lease.state, "lost");
      assert.equal(lease.signal.reason, error);
      assert.deepEqual(heard, [error]);
      assert.throws(() => lease.keepAlive(), LeaseLostError);
      const late: LeaseLostError[] = [];
      lease.onLost((e) => late.push(e));
      await sleep(0);
      assert.deepEqual(late, [error], "a listener added after the loss hears of it too");
    });

    test("closing the client aborts kept-alive leases' signals", async () => {
      const client = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
      const lease = await client.lease.grant(30, { keepAlive: true });
      await client.close();
      assert.equal(lease.state, "closed");
      assert.ok(lease.signal.reason instanceof ClientClosedError);
      // A lease the client granted and kept alive is revoked as it closes.
      assert.equal((await etcd.lease.timeToLive(lease.id)).ttl, -1n);
    });
  });
});

/** Counts LeaseKeepAlive streams the client opens (each stream passes the interceptor once). */
function countKeepAliveStreams(): { interceptor: Interceptor; count: () => number } {
  let opened = 0;
  return {
    interceptor: (next) => (request) => {
      if (request.stream && request.method.name === "LeaseKeepAlive") opened++;
      return next(request);
    },
    count: () => opened,
  };
}

/** A grpc_server_* counter for LeaseKeepAlive from the member's /metrics. */
async function keepAliveMetric(url: string, name: string): Promise<number> {
  const text = await fetchText(`${url}/metrics`);
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) && line.includes('grpc_method="LeaseKeepAlive"')) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

describe("one keep-alive stream", () => {
  test("1,000 leases are kept alive through exactly one LeaseKeepAlive stream", async (t) => {
    const counter = countKeepAliveStreams();
    const client = new Etcd({
      ...testClientOptions(),
      endpoints: fx.endpoints,
      interceptors: [counter.interceptor],
    });
    const member = fx.endpoints[0] as string;
    const startedBefore = fx.cluster
      ? await keepAliveMetric(member, "grpc_server_started_total")
      : 0;
    const receivedBefore = fx.cluster
      ? await keepAliveMetric(member, "grpc_server_msg_received_total")
      : 0;
    try {
      const ttl = 6;
      const leases = [];
      for (let i = 0; i < 1000; i += 100) {
        const batch = await Promise.all(
          Array.from({ length: 100 }, () => client.lease.grant(ttl, { keepAlive: true })),
        );
        leases.push(...batch);
      }
      assert.equal(new Set(leases.map((l) => l.id)).size, 1000);

      // Two TTLs: every lease must be renewed several times (at TTL/3) or it would expire.
      // (Measured after the first renewals, so the CPU figure is the steady state.)
      await sleep((ttl * 1000) / 3);
      const cpuBefore = process.cpuUsage();
      const wallBefore = performance.now();
      const renewalsBefore = client.lease.keepAliveStats().renewals;
      await sleep(2 * ttl * 1000);
      const cpu = process.cpuUsage(cpuBefore);
      const wall = performance.now() - wallBefore;
      const stats = client.lease.keepAliveStats();
      const renewals = stats.renewals - renewalsBefore;
      t.diagnostic(
        `1000 leases, ttl ${ttl}s: ${renewals} renewals in ${Math.round(wall)} ms, client CPU ` +
          `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(1)}% of a core)`,
      );

      assert.equal(stats.leases, 1000);
      assert.equal(stats.lost, 0, "no lease lost");
      assert.ok(renewals >= 4 * 1000, `each lease renewed at least 4 times in 2 TTLs: ${renewals}`);
      assert.equal(counter.count(), 1, "the client opened exactly one LeaseKeepAlive stream");
      assert.equal(stats.streamsOpened, 1);
      assert.ok(leases.every((l) => l.state === "alive"));
      const sample = await Promise.all(leases.slice(0, 20).map((l) => l.timeToLive()));
      assert.ok(sample.every((s) => s.ttl > 0n));

      if (fx.cluster) {
        const started =
          (await keepAliveMetric(member, "grpc_server_started_total")) - startedBefore;
        const received =
          (await keepAliveMetric(member, "grpc_server_msg_received_total")) - receivedBefore;
        assert.equal(started, 1, "etcd saw one LeaseKeepAlive stream started");
        assert.ok(received >= 5000, `etcd received the renewals on it: ${received}`);
      }

      for (let i = 0; i < leases.length; i += 100) {
        await Promise.all(leases.slice(i, i + 100).map((l) => l.revoke()));
      }
      assert.equal(client.lease.keepAliveStats().leases, 0);
      assert.equal(client.lease.keepAliveStats().streamOpen, false, "the idle stream is closed");
    } finally {
      await client.close();
    }
  });
});

describe("lease lost when cut off", { concurrency: false }, () => {
  for (const fault of ["paused", "killed"] as const) {
    test(`its only endpoint ${fault}: reported lost within TTL + ${LOST_MARGIN_MS} ms`, async (t) => {
      const cluster = await Cluster.start();
      const client = new Etcd({ ...testClientOptions(), endpoints: cluster.endpoints });
      const member = cluster.members[0];
      assert.ok(member);
      try {
        const ttl = 3;
        const lease = await client.lease.grant(ttl, { keepAlive: true });
        await waitFor("a first renewal", async () => client.lease.keepAliveStats().renewals > 0);
        await sleep(500);
        const cutAt = Date.now();
        if (fault === "paused") member.pause();
        else await member.kill();
        const error = await lease.lost;
        const latency = Date.now() - cutAt;
        t.diagnostic(`lease lost ${latency} ms after its endpoint was ${fault} (ttl ${ttl}s)`);
        assert.ok(error instanceof LeaseLostError);
        assert.match(error.message, /not renewed before its deadline/);
        assert.ok(
          latency <= ttl * 1000 + LOST_MARGIN_MS,
          `lost after ${latency} ms, more than TTL + ${LOST_MARGIN_MS} ms`,
        );
        assert.ok(
          lease.deadline <= cutAt + ttl * 1000,
          "deadline counted from a renewal before the cut",
        );
      } finally {
        await client.close();
        await cluster.stop();
      }
    });
  }
});
