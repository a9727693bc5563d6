/**
 * The pool transport's failover decisions, on a fake transport layer whose endpoints answer
 * with scripted errors: which endpoint comes next after Unavailable, which endpoints are set
 * aside and probed back, which writes are sent again (only those that provably never left),
 * the 25 ms pause after each sweep over a quorum, and the caller's signal and deadline ending
 * the loop. Timers and the clock are node:test's mock timers: no real waiting.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { Code, ConnectError, createClient, createContextValues } from "@connectrpc/connect";
import { KV } from "../../gen/etcdserverpb/rpc_pb.ts";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.ts";
import { resetError } from "../../src/connection/grpc-status.ts";
import { EndpointPool, type PooledEndpoint } from "../../src/connection/pool.ts";
import { endpointKey, noRetryKey, PoolTransport } from "../../src/connection/pool-transport.ts";
import { type FakeCall, FakeTransports, fakeConfig, settle } from "../support/fake-transport.ts";

const unavailable = () => new ConnectError("etcdserver: no leader", Code.Unavailable);

function setup(n: number) {
  const fakes = new FakeTransports();
  const urls = Array.from({ length: n }, (_, i) => `http://m${i}:2379`);
  const pool = new EndpointPool(urls, fakeConfig, fakes.factory);
  const transport = new PoolTransport(pool, { dialTimeoutMs: 1000 });
  const kv = createClient(KV, transport);
  const at = (i: number) => pool.endpoints[i] as PooledEndpoint;
  return { fakes, pool, transport, kv, urls, at };
}

const urlsOf = (calls: FakeCall[]) => calls.map((c) => c.url);

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
});
afterEach(() => {
  mock.timers.reset();
});

describe("pool failover", () => {
  test("after Unavailable a read goes to the next endpoint; the failed one is set aside", async () => {
    const { fakes, kv, urls, at, pool } = setup(3);
    fakes.unary = (call) => {
      if (call.url === urls[0]) throw unavailable();
      return { header: { revision: 5n }, count: 1n };
    };
    const first = await kv.range({ key: new Uint8Array([1]) });
    assert.equal(first.count, 1n);
    assert.deepEqual(urlsOf(fakes.of("Range")), [urls[0], urls[1]]);
    assert.equal(at(0).healthy, false, "m0 set aside");
    // Round-robin goes on over the healthy ones only.
    await kv.range({ key: new Uint8Array([1]) });
    await kv.range({ key: new Uint8Array([1]) });
    assert.deepEqual(urlsOf(fakes.of("Range")).slice(2), [urls[2], urls[1]]);
    pool.close();
  });

  test("an error etcd sent (not Unavailable) is neither retried nor held against the endpoint", async () => {
    const { fakes, kv, at, pool } = setup(3);
    fakes.unary = () => {
      throw new ConnectError("etcdserver: key is not provided", Code.InvalidArgument);
    };
    await assert.rejects(kv.range({ key: new Uint8Array() }), { code: Code.InvalidArgument });
    assert.equal(fakes.of("Range").length, 1);
    assert.equal(at(0).healthy, true);
    pool.close();
  });

  test("25 ms pause after each sweep over a quorum of endpoints, not before", async () => {
    const { fakes, kv, pool } = setup(5);
    fakes.unary = (call) => {
      if (call.method.endsWith("/Range")) throw unavailable();
      return new Promise(() => {}); // probes never answer
    };
    const controller = new AbortController();
    const result = kv.range({ key: new Uint8Array([1]) }, { signal: controller.signal });
    result.catch(() => {});
    await settle();
    assert.equal(fakes.of("Range").length, 3, "quorum of 5 is 3: three attempts at once");
    assert.equal(new Set(urlsOf(fakes.of("Range"))).size, 3, "each on another endpoint");
    mock.timers.tick(24);
    await settle();
    assert.equal(fakes.of("Range").length, 3, "still pausing at 24 ms");
    mock.timers.tick(4); // 25 ms plus at most 10% jitter
    await settle();
    assert.equal(fakes.of("Range").length, 6, "the next sweep of three");
    // The caller's signal ends the loop during the pause.
    controller.abort();
    await assert.rejects(result, { code: Code.Canceled });
    mock.timers.tick(1000);
    await settle();
    assert.equal(fakes.of("Range").length, 6, "no attempt after the signal fired");
    pool.close();
  });

  test("the caller's deadline ends the retry loop with the last error", async () => {
    const { fakes, kv, pool } = setup(3);
    fakes.unary = (call) => {
      if (call.method.endsWith("/Range")) throw unavailable();
      return new Promise(() => {});
    };
    const result = kv.range({ key: new Uint8Array([1]) }, { timeoutMs: 60 });
    let outcome: unknown;
    result.then(
      () => {
        outcome = "resolved";
      },
      (e: unknown) => {
        outcome = e;
      },
    );
    for (let t = 0; t < 100 && outcome === undefined; t += 5) {
      mock.timers.tick(5);
      await settle(2);
    }
    assert.ok(outcome instanceof ConnectError, String(outcome));
    assert.equal(outcome.code, Code.Unavailable);
    const attempts = fakes.of("Range").length;
    assert.ok(attempts >= 2 && attempts <= 8, `bounded by the deadline: ${attempts} attempts`);
    for (const call of fakes.of("Range")) {
      assert.ok((call.timeoutMs ?? 0) > 0 && (call.timeoutMs ?? 0) <= 60, "remaining budget");
    }
    mock.timers.tick(1000);
    await settle();
    assert.equal(fakes.of("Range").length, attempts, "nothing after the deadline");
    pool.close();
  });

  test("a signal that fires during an attempt ends the call and does not set the endpoint aside", async () => {
    const { fakes, kv, at, pool } = setup(3);
    const controller = new AbortController();
    fakes.unary = () => {
      controller.abort();
      throw new ConnectError("aborted", Code.Canceled);
    };
    await assert.rejects(kv.range({ key: new Uint8Array([1]) }, { signal: controller.signal }), {
      code: Code.Canceled,
    });
    assert.equal(fakes.of("Range").length, 1);
    assert.equal(at(0).healthy, true, "a cancel says nothing about the endpoint");
    pool.close();
  });

  test("writes are not sent again after Unavailable or a reset: they may have been applied", async () => {
    const { fakes, kv, pool } = setup(3);
    const reset = new ConnectError("read ECONNRESET", Code.Aborted, undefined, undefined, {
      code: "ECONNRESET",
      syscall: "read",
    });
    for (const error of [unavailable(), reset, resetError(2)]) {
      fakes.calls.length = 0;
      fakes.unary = (call) => {
        if (call.method.endsWith("/Put")) throw error;
        return new Promise(() => {});
      };
      const put = kv.put({ key: new Uint8Array([1]) });
      put.catch(() => {});
      await settle();
      assert.equal(fakes.of("Put").length, 1, `${error.message}: sent once`);
      await assert.rejects(put, { code: Code.Unavailable });
    }
    pool.close();
  });

  test("a write that provably never left is sent to the next endpoint", async () => {
    const proofs = [
      new ConnectError("dial timeout", Code.Unavailable, undefined, undefined, {
        notSent: true,
      }),
      new ConnectError("connect ECONNREFUSED", Code.Unavailable, undefined, undefined, {
        code: "ECONNREFUSED",
        syscall: "connect",
      }),
      resetError(7), // REFUSED_STREAM
    ];
    for (const proof of proofs) {
      const { fakes, kv, urls, at, pool } = setup(3);
      fakes.unary = (call) => {
        if (call.url === urls[0]) throw proof;
        return { header: { revision: 9n } };
      };
      const response = await kv.put({ key: new Uint8Array([1]) });
      assert.equal(response.header?.revision, 9n, proof.message);
      assert.deepEqual(urlsOf(fakes.of("Put")), [urls[0], urls[1]], proof.message);
      assert.equal(at(0).healthy, false);
      pool.close();
    }
  });

  test("a set-aside endpoint is probed with the health check (hasleader) and comes back only once it has a leader", async () => {
    const { fakes, kv, urls, at, pool } = setup(3);
    let leader = 0n;
    let failRange = true;
    fakes.unary = (call) => {
      if (call.method.endsWith("/Check")) {
        // etcd's unary interceptor refuses a call carrying hasleader while the member has none.
        if (call.header.get("hasleader") === "true" && leader === 0n) throw unavailable();
        return { status: HealthCheckResponse_ServingStatus.SERVING };
      }
      if (call.url === urls[0] && failRange) throw unavailable();
      return {};
    };
    await kv.range({ key: new Uint8Array([1]) });
    failRange = false;
    assert.equal(at(0).healthy, false);
    assert.equal(fakes.of("Check").length, 0, "no probe before the backoff");
    mock.timers.tick(120); // first backoff: 100 ms +-20%
    await settle();
    assert.deepEqual(urlsOf(fakes.of("Check")), [urls[0]]);
    assert.equal(at(0).healthy, false, "no leader: still aside");
    assert.equal(at(0).failures, 2, "and its backoff doubled");
    leader = 7n;
    mock.timers.tick(159);
    await settle();
    assert.equal(fakes.of("Check").length, 1, "second backoff is at least 160 ms");
    mock.timers.tick(81);
    await settle();
    assert.equal(fakes.of("Check").length, 2);
    assert.equal(at(0).healthy, true, "back in rotation");
    fakes.calls.length = 0;
    for (let i = 0; i < 3; i++) await kv.range({ key: new Uint8Array([1]) });
    assert.ok(urlsOf(fakes.of("Range")).includes(urls[0] as string));
    pool.close();
  });

  test("a call pinned to an endpoint, or with retries off, tries no other", async () => {
    const { fakes, kv, urls, pool } = setup(3);
    fakes.unary = (call) => {
      if (call.method.endsWith("/Range")) throw unavailable();
      return new Promise(() => {});
    };
    await assert.rejects(
      kv.range(
        { key: new Uint8Array([1]) },
        { contextValues: createContextValues().set(endpointKey, urls[2]) },
      ),
      { code: Code.Unavailable },
    );
    assert.deepEqual(urlsOf(fakes.of("Range")), [urls[2]]);
    fakes.calls.length = 0;
    await assert.rejects(
      kv.range(
        { key: new Uint8Array([1]) },
        { contextValues: createContextValues().set(noRetryKey, true) },
      ),
      { code: Code.Unavailable },
    );
    assert.equal(fakes.of("Range").length, 1);
    pool.close();
  });

  test("a token a lagging member refuses is renewed and the call repeated, with pauses, at most three times", async () => {
    const { fakes, kv, pool, transport } = setup(3);
    let issued = 0;
    transport.auth = {
      token: () => `t${issued}`,
      refresh: async () => {
        issued++;
        return true;
      },
    };
    const staleToken = () =>
      new ConnectError("etcdserver: invalid auth token", Code.Unauthenticated);
    let refusals = 2;
    fakes.unary = () => {
      if (refusals-- > 0) throw staleToken();
      return { header: { revision: 5n }, count: 1n };
    };
    const answered = kv.range({ key: new Uint8Array([1]) });
    await settle(4);
    assert.equal(fakes.of("Range").length, 2, "the first refusal is repeated at once");
    mock.timers.tick(199);
    await settle(4);
    assert.equal(fakes.of("Range").length, 2, "the second one after a pause");
    mock.timers.tick(1);
    assert.equal((await answered).count, 1n);
    assert.equal(fakes.of("Range").length, 3);
    assert.equal(issued, 2, "a new token before each repetition");

    fakes.calls.length = 0;
    fakes.unary = () => {
      throw staleToken();
    };
    const refused = kv.range({ key: new Uint8Array([1]) });
    refused.catch(() => {});
    for (let i = 0; i < 20; i++) {
      mock.timers.tick(100);
      await settle(4);
    }
    await assert.rejects(refused, {
      code: Code.Unauthenticated,
      rawMessage: "etcdserver: invalid auth token",
    });
    assert.equal(fakes.of("Range").length, 4, "one call and three repetitions, then the error");
    pool.close();
  });
});
