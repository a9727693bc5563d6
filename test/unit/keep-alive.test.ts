/**
 * Lease keep-alive scheduling on a fake transport layer whose LeaseKeepAlive streams the test
 * answers, with node:test's mock timers for the clock: renewal at a third of the TTL, a reply
 * with TTL <= 0 meaning the lease is gone, and a lease that no renewal reached before its
 * deadline lost and its owner told, exactly at the deadline.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { EndpointPool } from "../../src/connection/pool.ts";
import { PoolTransport } from "../../src/connection/pool-transport.ts";
import { LeaseLostError } from "../../src/core/errors.ts";
import { type KeepAliveOwner, LeaseKeepAlive } from "../../src/lease/keep-alive.ts";
import { FakeTransports, fakeConfig, ResponseChannel, settle } from "../support/fake-transport.ts";

interface Renewal {
  url: string;
  id: bigint;
  at: number;
}

/** Two endpoints whose keep-alive streams answer each request through `answer`. */
function setup() {
  const fakes = new FakeTransports();
  const pool = new EndpointPool(["http://m0:2379", "http://m1:2379"], fakeConfig, fakes.factory);
  const transport = new PoolTransport(pool, { dialTimeoutMs: 1000 });
  const renewals: Renewal[] = [];
  const ctx = {
    fakes,
    pool,
    renewals,
    /** TTL in seconds to answer with, or undefined to stay silent. */
    answer: (_r: Renewal): bigint | undefined => 9n,
    /** An error to end a new stream with at once (a member without a leader), or undefined. */
    refuse: (_url: string): Error | undefined => undefined,
    /** The response side of every stream opened, oldest first. */
    streams: [] as ResponseChannel<unknown>[],
  };
  fakes.stream = (call, requests) => {
    const responses = new ResponseChannel<unknown>();
    ctx.streams.push(responses);
    call.signal?.addEventListener("abort", () => responses.fail(new Error("aborted")));
    const refusal = ctx.refuse(call.url);
    if (refusal) {
      responses.fail(refusal);
      return responses;
    }
    void (async () => {
      try {
        for await (const request of requests as AsyncIterable<{ ID: bigint }>) {
          const renewal = { url: call.url, id: request.ID, at: Date.now() };
          renewals.push(renewal);
          const ttl = ctx.answer(renewal);
          if (ttl !== undefined) responses.push({ ID: request.ID, TTL: ttl });
        }
      } catch {
        // The stream was aborted.
      }
    })();
    return responses;
  };
  const keepAlive = new LeaseKeepAlive({ transport, closed: false, track: () => () => {} });
  return Object.assign(ctx, { keepAlive });
}

function owner(id: bigint) {
  const events: { renewed: [bigint, number][]; lost: LeaseLostError[]; closed: number } = {
    renewed: [],
    lost: [],
    closed: 0,
  };
  const o: KeepAliveOwner = {
    id,
    renewed: (ttl, deadline) => events.renewed.push([ttl, deadline]),
    lost: (error) => events.lost.push(error),
    closed: () => {
      events.closed++;
    },
    revokeOnClose: () => false,
  };
  return { owner: o, events };
}

/** Moves the mocked clock in steps, letting the promise chains between timers run. */
async function advance(ms: number, step = 50): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    mock.timers.tick(Math.min(step, left));
    await settle(3);
  }
}

const T0 = 1_000_000;

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: T0 });
  // The keep-alive machine uses the monotonic clock; let it follow the mocked one.
  mock.method(performance, "now", () => Date.now());
});
afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

describe("lease keep-alive", () => {
  test("renews at a third of the TTL etcd granted", async () => {
    const ctx = setup();
    const { owner: o, events } = owner(0x10n);
    ctx.keepAlive.add(o, 9000, T0 + 9000);
    await settle();
    assert.deepEqual(
      ctx.renewals.map((r) => [r.id, r.at]),
      [[0x10n, T0]],
      "renewed at once on opening",
    );
    assert.deepEqual(events.renewed, [[9n, T0 + 9000]], "deadline counted from when it was sent");
    await advance(2999, 1000);
    assert.equal(ctx.renewals.length, 1, "not before TTL/3");
    await advance(1);
    assert.equal(ctx.renewals.length, 2);
    assert.equal(ctx.renewals[1]?.at, T0 + 3000);
    ctx.answer = () => 30n; // etcd may grant another TTL: the next renewal follows it
    await advance(3000, 1000);
    assert.equal(ctx.renewals.length, 3);
    await advance(9999, 1000);
    assert.equal(ctx.renewals.length, 3, "TTL 30 s: the next one at 10 s");
    await advance(1);
    assert.equal(ctx.renewals.length, 4);
    assert.equal(events.lost.length, 0);
    assert.equal(ctx.keepAlive.stats().streamsOpened, 1, "one stream throughout");
    await ctx.keepAlive.close();
    assert.equal(events.closed, 1);
    ctx.pool.close();
  });

  test("a reply with TTL <= 0 means the lease is gone: its owner hears at once", async () => {
    const ctx = setup();
    ctx.answer = (r) => (r.id === 2n ? 0n : 9n);
    const kept = owner(1n);
    const gone = owner(2n);
    ctx.keepAlive.add(kept.owner, 9000, T0 + 9000);
    ctx.keepAlive.add(gone.owner, 9000, T0 + 9000);
    await settle();
    assert.equal(gone.events.lost.length, 1);
    assert.ok(gone.events.lost[0] instanceof LeaseLostError);
    assert.match(gone.events.lost[0]?.message ?? "", /expired or was revoked/);
    assert.equal(kept.events.lost.length, 0, "the other lease is unaffected");
    assert.equal(ctx.keepAlive.stats().leases, 1);
    await advance(3000, 1000);
    assert.deepEqual(
      ctx.renewals.slice(2).map((r) => r.id),
      [1n],
      "the lost lease is not renewed again",
    );
    await ctx.keepAlive.close();
    ctx.pool.close();
  });

  test("no renewal before the deadline: lost exactly then, owner told, stream moved meanwhile", async () => {
    const ctx = setup();
    ctx.answer = () => undefined; // members accept the stream but never answer (hung)
    const { owner: o, events } = owner(3n);
    ctx.keepAlive.add(o, 9000, T0 + 9000);
    await advance(8999, 100);
    assert.equal(events.lost.length, 0, "not before the deadline");
    const urls = new Set(ctx.renewals.map((r) => r.url));
    assert.equal(urls.size, 2, "an unanswered stream is given up and reopened elsewhere");
    await advance(1);
    assert.equal(events.lost.length, 1, "lost at the deadline");
    assert.ok(events.lost[0] instanceof LeaseLostError);
    assert.match(events.lost[0]?.message ?? "", /not renewed before its deadline/);
    assert.equal(ctx.keepAlive.stats().leases, 0);
    assert.equal(ctx.keepAlive.stats().streamOpen, false, "no lease left: stream closed");
    await advance(5000, 1000);
    assert.equal(events.lost.length, 1, "told once");
    ctx.pool.close();
  });

  test("a hung member: a 2 s lease is renewed on another member 800 ms before its deadline", async () => {
    const ctx = setup();
    let hung = false;
    ctx.answer = (r) => (hung && r.url === "http://m0:2379" ? undefined : 2n);
    const { owner: o, events } = owner(4n);
    ctx.keepAlive.add(o, 2000, T0 + 2000);
    await settle();
    assert.equal(ctx.renewals[0]?.url, "http://m0:2379");
    hung = true; // right after the renewal etcd confirmed: the next one (at TTL/3) stalls
    await advance(2000, 10);
    const moved = ctx.renewals.find((r) => r.url === "http://m1:2379");
    assert.ok(moved, "renewed on the other member");
    // Under the mocked clock: the renewal sent at 667 ms went unanswered for a sixth of the TTL
    // (to 1167 ms), then the stream moved at once. (A third of the TTL and a backoff of 100 ms
    // made it 1767 ms: 233 ms before etcd would expire the lease.)
    assert.ok(
      moved.at - T0 < 1200,
      `moved at ${moved.at - T0} ms, 800 ms or more before the deadline`,
    );
    assert.equal(events.lost.length, 0);
    await ctx.keepAlive.close();
    ctx.pool.close();
  });

  test("an election: every member ends the stream for 1.6 s, a 2 s lease still renewed in time", async () => {
    const ctx = setup();
    let electing = false;
    ctx.refuse = () =>
      electing ? new ConnectError("etcdserver: no leader", Code.Unavailable) : undefined;
    const { owner: o, events } = owner(5n);
    ctx.keepAlive.add(o, 2000, T0 + 2000);
    await settle();
    assert.equal(events.renewed.length, 1);
    // (With a backoff doubling to 800 ms, the stream opened at 100, 300, 700 and 1500 ms, then
    // waited 1.6 s: lost at 2 s.)
    // The leader dies right after that renewal: the stream breaks, and until a new leader is
    // elected every member refuses the stream at once.
    electing = true;
    const first = ctx.streams.length;
    ctx.streams.at(-1)?.fail(new ConnectError("connection reset", Code.Unavailable));
    await advance(1600, 10);
    electing = false;
    await advance(1400, 10);
    assert.ok(ctx.streams.length - first > 4, "tried again and again during the election");
    assert.equal(events.lost.length, 0, "renewed before the deadline at 2 s");
    assert.ok(events.renewed.length >= 2);
    await ctx.keepAlive.close();
    ctx.pool.close();
  });
});
