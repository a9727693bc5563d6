/**
 * The gateway transport (etcd-connect/web's Etcd, run on Node) against real etcd: KV, txn and
 * compaction; leases kept alive and a lost lease reported; a watcher whose member is killed and
 * restarted sees every event once and in order; etcd's errors over the gateway arrive as the
 * same EtcdError classes as over gRPC; auth through the Authorization header. Watch and
 * keep-alive run in both stream modes: WebSocket and one HTTP request per watcher / renewal.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Etcd as GrpcEtcd } from "../../src/index.ts";
import {
  CompactedError,
  compare,
  createGatewayEndpointTransport,
  type EtcdError,
  type EtcdOptions,
  Etcd as GatewayEtcd,
  LeaseLostError,
  LeaseNotFoundError,
  op,
  PermissionDeniedError,
  prefix,
  WatchCompactedError,
} from "../../src/web.ts";
import { type Cluster, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd({ size: 3, spawn: true });

type Streams = "websocket" | "http";

function gateway(streams: Streams, options: Partial<EtcdOptions> = {}): GatewayEtcd {
  return new GatewayEtcd({
    endpoints: fx.endpoints,
    transport: (config) => createGatewayEndpointTransport(config, { streams }),
    ...options,
  });
}

/** Calls `fn` and returns what it threw. */
async function thrown(fn: () => Promise<unknown>, what = "the call"): Promise<EtcdError> {
  try {
    await fn();
  } catch (error) {
    return error as EtcdError;
  }
  assert.fail(`expected ${what} to fail`);
}

describe("gateway: kv", () => {
  let etcd: GatewayEtcd;
  before(() => {
    etcd = gateway("websocket");
  });
  after(() => etcd.close());

  test("put, get, range, txn, delete and compact go through the JSON gateway", async () => {
    const P = uniquePrefix("gw-kv");
    const put = await etcd.put(`${P}a`, "1");
    assert.ok(put.revision > 0n);
    const again = await etcd.put(`${P}a`, new Uint8Array([0, 255, 7]), { prevKv: true });
    assert.equal(again.prevKv?.text, "1");
    assert.deepEqual([...((await etcd.get(`${P}a`))?.value ?? [])], [0, 255, 7]);
    await etcd.put(`${P}b`, "2");
    const page = await etcd.range(prefix(P), { limit: 1 });
    assert.equal(page.count, 2n);
    assert.equal(page.more, true);
    assert.deepEqual(
      page.kvs.map((kv) => kv.keyText),
      [`${P}a`],
    );
    const txn = await etcd.txn({
      compare: [compare.value(`${P}b`, "=", "2")],
      success: [op.put(`${P}c`, "3"), op.get(`${P}a`)],
      failure: [],
    });
    assert.equal(txn.succeeded, true);
    assert.equal(txn.results.length, 2);
    const failed = await etcd.txn({
      compare: [compare.version(`${P}missing`, ">", 0)],
      success: [],
      failure: [op.get(`${P}c`)],
    });
    assert.equal(failed.succeeded, false);
    const deleted = await etcd.delete(prefix(P), { prevKv: true });
    assert.equal(deleted.deleted, 3n);
    assert.deepEqual(deleted.prevKvs.map((kv) => kv.keyText).sort(), [`${P}a`, `${P}b`, `${P}c`]);
    await etcd.compact(deleted.revision);
    const error = await thrown(() => etcd.get(`${P}a`, { revision: put.revision }));
    assert.ok(error instanceof CompactedError, String(error));
  });

  test("etcd's errors map to the same classes as over gRPC", async () => {
    await using grpc = new GrpcEtcd({ endpoints: fx.endpoints });
    const P = uniquePrefix("gw-errors");
    const first = await grpc.put(`${P}k`, "1");
    const second = await grpc.put(`${P}k`, "2");
    await grpc.compact(second.revision);
    const cases: Array<[string, (c: GatewayEtcd | GrpcEtcd) => Promise<unknown>]> = [
      ["compacted revision", (c) => c.get(`${P}k`, { revision: first.revision })],
      ["revoke of an unknown lease", (c) => c.lease.revoke(0x7e58n)],
      ["put with an unknown lease", (c) => c.put(`${P}k`, "3", { lease: 0x7e59n })],
    ];
    for (const [what, call] of cases) {
      const overGrpc = await thrown(() => call(grpc), `${what} over gRPC`);
      const overGateway = await thrown(() => call(etcd), `${what} over the gateway`);
      assert.equal(overGateway.constructor, overGrpc.constructor, what);
      assert.equal(overGateway.code, overGrpc.code, what);
      assert.equal(overGateway.rawMessage, overGrpc.rawMessage, what);
    }
    assert.ok((await thrown(() => etcd.lease.revoke(0x7e57n))) instanceof LeaseNotFoundError);
  });

  test("RPCs are reached through the routes in the protos' google.api.http options", async () => {
    const seen: string[] = [];
    await using traced = gateway("websocket", {
      interceptors: [
        (next) => async (req) => {
          seen.push(new URL(req.url).pathname);
          return next(req);
        },
      ],
    });
    const P = uniquePrefix("gw-routes");
    const lease = await traced.lease.grant(30, { keepAlive: false });
    await traced.put(`${P}k`, "v", { lease: lease.id });
    await traced.lease.timeToLive(lease.id);
    await traced.lease.revoke(lease.id);
    await traced.cluster.memberList();
    await traced.maintenance.status();
    assert.deepEqual(seen, [
      "/v3/lease/grant",
      "/v3/kv/put",
      "/v3/lease/timetolive",
      "/v3/lease/revoke",
      "/v3/cluster/member/list",
      "/v3/maintenance/status",
    ]);
  });
});

describe("gateway: server streams, server-side locks and elections, sessions", () => {
  test("a snapshot streams into a WritableStream, its SHA-256 checked without node:crypto", async () => {
    await using etcd = gateway("websocket");
    await etcd.put(uniquePrefix("gw-snapshot"), "x");
    const chunks: Uint8Array[] = [];
    const sink = new WritableStream<Uint8Array>({
      write(chunk) {
        chunks.push(chunk.slice());
      },
    });
    const result = await etcd.maintenance.snapshot(sink, { endpoint: fx.endpoints[0] as string });
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    assert.equal(result.bytes, bytes);
    assert.ok(bytes > 4096, `a database's worth of bytes: ${bytes}`);
    const all = new Uint8Array(bytes);
    let offset = 0;
    for (const c of chunks) {
      all.set(c, offset);
      offset += c.length;
    }
    const tail = Buffer.from(all.subarray(all.length - 32)).toString("hex");
    assert.equal(result.sha256, tail, "the checksum etcd appended");
    const { createHash } = await import("node:crypto");
    assert.equal(
      createHash("sha256")
        .update(all.subarray(0, all.length - 32))
        .digest("hex"),
      tail,
    );
  });

  test("election observe streams leaders; lock and unlock go through their routes", async () => {
    await using etcd = gateway("websocket");
    const name = uniquePrefix("gw-election");
    const lease = await etcd.lease.grant(30, { keepAlive: true });
    const stop = new AbortController();
    const observed: string[] = [];
    let sawFirst = () => {};
    const firstSeen = new Promise<void>((resolve) => {
      sawFirst = resolve;
    });
    const observing = (async () => {
      for await (const kv of etcd.electionService.observe(name, { signal: stop.signal })) {
        observed.push(kv.text);
        if (observed.length === 1) sawFirst();
        if (observed.length === 2) stop.abort();
      }
    })().catch((error) => {
      if (!stop.signal.aborted) throw error;
    });
    const leader = await etcd.electionService.campaign(name, "first", { lease: lease.id });
    // The observer's stream is a WebSocket of its own and may reach etcd after the campaign, or
    // even after a proclamation: it would then see only "second" and wait forever for a change.
    await Promise.race([firstSeen, observing]);
    await etcd.electionService.proclaim(leader, "second");
    await observing;
    assert.deepEqual(observed, ["first", "second"]);
    assert.equal((await etcd.electionService.leader(name))?.text, "second");
    await etcd.electionService.resign(leader);

    const held = await etcd.lockService.lock(uniquePrefix("gw-lock"), { lease: lease.id });
    assert.ok((await etcd.get(held.key))?.lease === lease.id, "the lock's key is on the lease");
    await etcd.lockService.unlock(held.key);
    assert.equal(await etcd.get(held.key), undefined);
    await lease.revoke();
  });

  test("a session's mutex excludes a second holder until released", async () => {
    await using etcd = gateway("websocket");
    const key = uniquePrefix("gw-mutex");
    await using a = await etcd.session({ ttl: 10 });
    await using b = await etcd.session({ ttl: 10 });
    const first = a.mutex(key);
    await first.lock();
    const second = b.mutex(key);
    let acquired = false;
    const waiting = second.lock().then(() => {
      acquired = true;
    });
    await etcd.put(`${key}-marker`, "1");
    assert.equal(acquired, false, "the second waits while the first holds it");
    await first.unlock();
    await waiting;
    assert.equal(acquired, true);
    await second.unlock();
  });
});

for (const streams of ["websocket", "http"] as const) {
  describe(`gateway: streams over ${streams}`, () => {
    test("a watcher sees puts and deletes in order, with previous values", async () => {
      await using etcd = gateway(streams);
      const P = uniquePrefix(`gw-watch-${streams}`);
      await using watcher = etcd.watch(prefix(P), { prevKv: true });
      await watcher.ready();
      await etcd.put(`${P}a`, "1");
      await etcd.put(`${P}a`, "2");
      await etcd.delete(`${P}a`);
      const seen: string[] = [];
      for await (const batch of watcher) {
        for (const e of batch.events) seen.push(`${e.type} ${e.kv.text} ${e.prevKv?.text ?? "-"}`);
        if (seen.length >= 3) break;
      }
      assert.deepEqual(seen, ["put 1 -", "put 2 1", "delete  2"]);
    });

    test("several watchers on one client each get their own keys", async () => {
      await using etcd = gateway(streams);
      const P = uniquePrefix(`gw-watchers-${streams}`);
      const watchers = [0, 1, 2].map((i) => etcd.watch(prefix(`${P}${i}/`)));
      for (const w of watchers) await w.ready();
      for (const i of [2, 0, 1]) await etcd.put(`${P}${i}/k`, String(i));
      for (const [i, w] of watchers.entries()) {
        for await (const batch of w) {
          assert.deepEqual(
            batch.events.map((e) => e.kv.keyText),
            [`${P}${i}/k`],
          );
          break;
        }
      }
    });

    test("a watch from a compacted revision ends with WatchCompactedError", async () => {
      await using etcd = gateway(streams);
      const P = uniquePrefix(`gw-watch-compacted-${streams}`);
      const first = await etcd.put(`${P}k`, "1");
      const second = await etcd.put(`${P}k`, "2");
      await etcd.compact(second.revision);
      const watcher = etcd.watch(prefix(P), { startRevision: first.revision });
      const error = await thrown(async () => {
        for await (const _ of watcher) {
          // The watch is refused before any event.
        }
      });
      assert.ok(error instanceof WatchCompactedError, String(error));
      assert.equal((error as WatchCompactedError).compactRevision, second.revision);
    });

    test("a lease is kept alive past its TTL, and revoked", async () => {
      await using etcd = gateway(streams);
      const lease = await etcd.lease.grant(2, { keepAlive: true });
      const renewed = new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (lease.state === "alive") {
            clearInterval(check);
            resolve();
          }
        }, 50);
      });
      await renewed;
      await new Promise((r) => setTimeout(r, 3_000));
      const ttl = await etcd.lease.timeToLive(lease.id);
      assert.ok(ttl.ttl > 0n, `still alive after more than its TTL (ttl ${ttl.ttl})`);
      await lease.revoke();
      assert.equal((await etcd.lease.timeToLive(lease.id)).ttl, -1n);
    });

    test("a kept-alive lease revoked elsewhere is reported lost", async () => {
      await using etcd = gateway(streams);
      await using other = new GrpcEtcd({ endpoints: fx.endpoints });
      const lease = await etcd.lease.grant(3, { keepAlive: true });
      await other.lease.revoke(lease.id);
      const error = await lease.lost;
      assert.ok(error instanceof LeaseLostError);
      assert.equal(lease.state, "lost");
    });

    test("a watcher's events across restarted members arrive each once, in order", async () => {
      const P = uniquePrefix(`gw-restart-${streams}`);
      // The watcher may use two of the three members: both are restarted in turn, so its
      // stream is cut at least once, whichever it is on.
      const log: string[] = [];
      const logger = {
        debug: (m: string) => log.push(m),
        info: (m: string) => log.push(m),
        warn: (m: string) => log.push(m),
        error: (m: string) => log.push(m),
      };
      await using watching = new GatewayEtcd({
        endpoints: fx.endpoints.slice(0, 2),
        transport: (config) => createGatewayEndpointTransport(config, { streams }),
        logger,
      });
      await using writer = new GrpcEtcd({ endpoints: fx.endpoints.slice(2) });
      await using watcher = watching.watch(prefix(P));
      await watcher.ready();
      const total = 60;
      const seen: number[] = [];
      const revisions: bigint[] = [];
      const reading = (async () => {
        for await (const batch of watcher) {
          for (const e of batch.events) {
            seen.push(Number(e.kv.text));
            revisions.push(e.kv.modRevision);
          }
          if (seen.length >= total) return;
        }
      })();
      let next = 0;
      // A put cut by a member's death (or a new election) may or may not be applied: look
      // before writing it again, so that each value is written exactly once.
      const putOnce = async (key: string, value: string) => {
        for (;;) {
          try {
            await writer.put(key, value);
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
            const found = await writer.get(key).catch(() => undefined);
            if (found?.text === value) return;
          }
        }
      };
      const write = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const value = String(next++);
          await putOnce(`${P}${value.padStart(3, "0")}`, value);
        }
      };
      await write(15);
      const cluster = fx.cluster as Cluster;
      for (const member of cluster.members.slice(0, 2)) {
        await member.kill();
        await write(10);
        member.start();
        await cluster.waitHealthy();
        await write(5);
      }
      await write(total - next);
      await reading;
      assert.deepEqual(
        seen,
        Array.from({ length: total }, (_, i) => i),
      );
      for (let i = 1; i < revisions.length; i++) {
        assert.ok((revisions[i] as bigint) > (revisions[i - 1] as bigint), "revisions ascend");
      }
      assert.ok(
        log.some((line) => /watch stream reopened/.test(line)),
        `the watch stream was cut and reopened:\n${log.join("\n")}`,
      );
      assert.ok(
        log.some((line) => /resumed at revision/.test(line)),
        "the watcher resumed",
      );
    });
  });
}

describe("gateway: auth", () => {
  const authFx = useEtcd({
    spawn: true,
    auth: {
      roles: [{ name: "reader", permissions: [{ keys: prefix("cfg/"), type: "read" }] }],
      users: [{ name: "viewer", password: "viewer-pw", roles: ["reader"] }],
    },
  });

  test("a password login's token goes in the Authorization header; refusals map as over gRPC", async () => {
    const root = (authFx.cluster as Cluster).clientOptions();
    await using admin = new GatewayEtcd({ ...root, transport: "gateway" });
    await admin.put("cfg/a", "1");
    const viewerOptions = {
      endpoints: authFx.endpoints,
      username: "viewer",
      password: "viewer-pw",
    };
    // The default: with a token, Watch and LeaseKeepAlive take HTTP streams (every etcd line).
    await using viewer = new GatewayEtcd({ ...viewerOptions, transport: "gateway" });
    await using grpcViewer = new GrpcEtcd(viewerOptions);
    assert.equal((await viewer.get("cfg/a"))?.text, "1");
    const overGateway = await thrown(() => viewer.put("cfg/a", "2"));
    const overGrpc = await thrown(() => grpcViewer.put("cfg/a", "2"));
    assert.ok(overGateway instanceof PermissionDeniedError, String(overGateway));
    assert.equal(overGateway.rawMessage, overGrpc.rawMessage);
    await using watcher = viewer.watch(prefix("cfg/"));
    await watcher.ready();
    await admin.put("cfg/b", "2");
    for await (const batch of watcher) {
      assert.deepEqual(
        batch.events.map((e) => e.kv.keyText),
        ["cfg/b"],
      );
      break;
    }
  });

  test("over WebSocket the token travels as the Bearer subprotocol (etcd 3.6.13+, 3.7.0+)", async (t) => {
    const root = (authFx.cluster as Cluster).clientOptions();
    await using admin = new GatewayEtcd({ ...root, transport: "gateway" });
    const version = (await admin.maintenance.status()).version;
    const [major, minor, patch] = version.split(".").map(Number) as [number, number, number];
    if (major === 3 && (minor < 6 || (minor === 6 && patch < 13))) {
      t.skip(`etcd ${version} reads no token from a WebSocket: use streams "http" there`);
      return;
    }
    await using viewer = new GatewayEtcd({
      endpoints: authFx.endpoints,
      username: "viewer",
      password: "viewer-pw",
      transport: (config) => createGatewayEndpointTransport(config, { streams: "websocket" }),
    });
    await using watcher = viewer.watch(prefix("cfg/"));
    await watcher.ready();
    await admin.put("cfg/ws", "1");
    for await (const batch of watcher) {
      assert.deepEqual(
        batch.events.map((e) => e.kv.keyText),
        ["cfg/ws"],
      );
      break;
    }
    const lease = await admin.lease.grant(2, { keepAlive: true });
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(lease.state, "alive", "renewed over an authenticated WebSocket");
    await lease.revoke();
  });
});
