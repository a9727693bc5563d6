/**
 * A lease of 2 s (etcd's shortest with default election settings) kept alive on a 3-member
 * cluster with auth on (a non-admin user, simple tokens) survives the member its keep-alive
 * stream is on being killed or hung right after a renewal: the stream moves to another member
 * in time, etcd keeps the lease and its key. (A hung member used to cost the lease all but
 * some 200 ms of its TTL; `bench/keepalive-gap.ts` measures the gap.) The member is a follower:
 * when the leader dies, an election can by itself take longer than 2 s, and then no client can
 * renew in time.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Etcd, type Lease, prefix } from "../../src/index.ts";
import { Cluster, type Member, testClientOptions } from "../support/index.ts";

const TTL = 2;
let cluster: Cluster;

before(async () => {
  cluster = await Cluster.start({
    size: 3,
    auth: {
      roles: [{ name: "app", permissions: [{ keys: prefix("short/"), type: "readwrite" }] }],
      users: [{ name: "app", password: "app-pw", roles: ["app"] }],
    },
  });
});
after(() => cluster?.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client whose keep-alive stream is on a follower, with a kept-alive lease and its key. */
async function leaseOnFollower(): Promise<{ etcd: Etcd; lease: Lease; member: Member }> {
  const leader = await cluster.waitLeader();
  const urls = cluster.members.map((m) => m.clientUrl);
  for (let rotation = 0; rotation < 6; rotation++) {
    const etcd = new Etcd({
      ...cluster.clientOptions("app"),
      ...testClientOptions(),
      endpoints: [...urls.slice(rotation % 3), ...urls.slice(0, rotation % 3)],
    });
    const lease = await etcd.lease.grant(TTL, { keepAlive: true });
    const member = cluster.members.find(
      (m) => m.clientUrl === etcd.lease.keepAliveStats().endpoint,
    );
    if (member && member !== leader) {
      await etcd.put(`short/${lease.hex}`, "here", { lease: lease.id });
      return { etcd, lease, member };
    }
    await lease.revoke();
    await etcd.close();
  }
  throw new Error("the keep-alive stream never went to a follower");
}

for (const fault of ["kill", "pause"] as const) {
  test(`a ${TTL} s lease outlives a ${fault === "kill" ? "killed" : "hung"} keep-alive member`, async () => {
    const { etcd, lease, member } = await leaseOnFollower();
    try {
      const renewed = etcd.lease.keepAliveStats().renewals;
      while (etcd.lease.keepAliveStats().renewals === renewed) await sleep(1);
      // Right after a renewal etcd confirmed.
      if (fault === "kill") await member.kill();
      else member.pause();
      while (etcd.lease.keepAliveStats().endpoint === member.clientUrl) await sleep(10);
      // Two TTLs later: had the renewals stopped long enough, etcd would have expired it.
      await sleep(2 * TTL * 1000);
      assert.equal(lease.state, "alive", "the client kept the lease");
      const key = await etcd.get(`short/${lease.hex}`);
      assert.equal(key?.text, "here", "etcd kept the lease's key");
      const ttl = await etcd.lease.timeToLive(lease.id);
      assert.ok(ttl.ttl > 0n, `etcd still has the lease (TTL ${ttl.ttl})`);
    } finally {
      if (fault === "kill") member.start();
      else member.resume();
      await cluster.waitHealthy(60_000);
      await lease.revoke().catch(() => {});
      await etcd.close();
    }
  });
}
