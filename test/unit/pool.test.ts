/**
 * The endpoint pool without a network: round-robin over healthy endpoints, failing ones set aside
 * and probed back, member discovery's add/remove.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Transport } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import type { EndpointConfig, EndpointTransport } from "../../src/connection/endpoint.ts";
import { EndpointPool, type PooledEndpoint } from "../../src/connection/pool.ts";

const config: Omit<EndpointConfig, "url"> = {
  tls: undefined,
  interceptors: [],
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
  maxReceiveBytes: 1 << 20,
  maxSendBytes: 1 << 20,
};

const closed: string[] = [];
function fakeEndpoint(c: EndpointConfig): EndpointTransport {
  return {
    url: c.url,
    transport: {} as Transport,
    session: {} as Http2SessionManager,
    close: () => closed.push(c.url),
  };
}

const urls = ["http://a:1", "http://b:1", "http://c:1"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function picks(pool: EndpointPool, n: number, exclude?: ReadonlySet<PooledEndpoint>): string[] {
  return Array.from({ length: n }, () => pool.pick(exclude).url);
}

describe("EndpointPool", () => {
  test("round-robin over every endpoint while all are healthy", () => {
    const pool = new EndpointPool(urls, config, fakeEndpoint);
    assert.deepEqual(picks(pool, 6), [...urls, ...urls]);
    pool.close();
  });

  test("a failed endpoint is set aside, probed with backoff, and back after a probe succeeds", async () => {
    const pool = new EndpointPool(urls, config, fakeEndpoint);
    const b = pool.endpoints[1] as PooledEndpoint;
    let answer = false;
    const probed: number[] = [];
    pool.probe = async (endpoint) => {
      assert.equal(endpoint, b);
      probed.push(Date.now());
      return answer;
    };
    pool.markFailed(b);
    assert.equal(b.healthy, false);
    assert.deepEqual(new Set(picks(pool, 6)), new Set(["http://a:1", "http://c:1"]));
    // More failures while aside do not stack up.
    pool.markFailed(b);
    assert.equal(b.failures, 1);
    while (probed.length < 2) await sleep(20);
    assert.equal(b.healthy, false, "still aside after a failed probe");
    assert.ok(b.failures >= 2, "and its backoff grew");
    answer = true;
    while (!b.healthy) await sleep(20);
    assert.ok(picks(pool, 3).includes("http://b:1"));
    pool.close();
  });

  test("a success on a set-aside endpoint brings it back at once", () => {
    const pool = new EndpointPool(urls, config, fakeEndpoint);
    pool.probe = () => new Promise(() => {});
    const a = pool.endpoints[0] as PooledEndpoint;
    pool.markFailed(a);
    pool.markHealthy(a);
    assert.equal(a.healthy, true);
    assert.equal(a.timer, undefined, "its probe is cancelled");
    pool.close();
  });

  test("with every endpoint aside, the one due first is still tried", () => {
    const pool = new EndpointPool(urls, config, fakeEndpoint);
    pool.probe = () => new Promise(() => {});
    for (const e of pool.endpoints) pool.markFailed(e);
    const [a, b, c] = pool.endpoints as [PooledEndpoint, PooledEndpoint, PooledEndpoint];
    a.retryAt = 30;
    b.retryAt = 10;
    c.retryAt = 20;
    assert.equal(pool.pick().url, "http://b:1");
    assert.equal(pool.pick(new Set([b])).url, "http://c:1");
    pool.close();
  });

  test("pick skips the endpoints a call has tried while others remain", () => {
    const pool = new EndpointPool(urls, config, fakeEndpoint);
    const [a, b] = pool.endpoints as [PooledEndpoint, PooledEndpoint];
    assert.deepEqual(picks(pool, 3, new Set([a, b])), ["http://c:1", "http://c:1", "http://c:1"]);
    pool.close();
  });

  test("setUrls adds and removes; removed connections close after a grace period", () => {
    closed.length = 0;
    const pool = new EndpointPool(urls, config, fakeEndpoint);
    pool.setUrls(["http://b:1", "http://d:1"]);
    assert.deepEqual(pool.urls, ["http://b:1", "http://d:1"]);
    assert.deepEqual(closed, [], "calls still running on a and c may finish");
    pool.setUrls([]);
    assert.deepEqual(
      pool.urls,
      ["http://b:1", "http://d:1"],
      "an empty member list changes nothing",
    );
    pool.close();
    assert.deepEqual(
      closed.sort(),
      urls.concat("http://d:1").sort(),
      "close ends every connection",
    );
  });
});
