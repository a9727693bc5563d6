/**
 * The web entry (`etcd-connect/web`) in a real browser: headless Chromium loads a page bundled by
 * esbuild from one local origin, and the page talks to a real etcd, started with `--cors` for
 * that origin, on another port (so every call is a cross-origin request the browser checks).
 * The page does put/get/range/txn/watch/lease; the test compares what it saw with what etcd
 * holds, read over gRPC from Node. Skipped, with the reason, when there is no Chromium.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type PageServer, startPageServer } from "../../examples/browser/page-server.ts";
import { Etcd, op } from "../../src/index.ts";
import { Cluster, uniquePrefix } from "../support/index.ts";
import { chromiumMissing, launchChromium } from "./chromium.ts";
import type { Checks, Target } from "./page/checks.ts";

const pageDir = resolve(import.meta.dirname, "page");
/** Each test reports itself skipped with this reason when there is no Chromium. */
const skip = chromiumMissing() ?? false;

describe("etcd-connect/web in Chromium, against etcd's JSON gateway across origins", () => {
  let server: PageServer;
  let cluster: Cluster;
  let browser: Browser;
  let page: Page;
  let node: Etcd;
  let endpoint: string;
  const browserLog: string[] = [];

  before(async () => {
    if (skip) return;
    server = await startPageServer({
      entry: resolve(pageDir, "checks.ts"),
      html: resolve(pageDir, "checks.html"),
    });
    cluster = await Cluster.start({ args: [`--cors=${server.origin}`] });
    endpoint = cluster.endpoints[0] ?? "";
    node = new Etcd({ endpoints: cluster.endpoints });
    browser = await launchChromium();
    page = await openChecks(browser, server, browserLog);
  });

  afterEach((t) => {
    if ((t as { passed?: boolean }).passed === false) {
      process.stderr.write(`\nbrowser console:\n${browserLog.join("\n")}\n${cluster?.logs()}\n`);
    }
  });

  after(async () => {
    await browser?.close();
    await node?.close();
    await server?.close();
    await cluster?.stop();
  });

  /** Runs one of the page's checks inside Chromium and returns what it answered. */
  /** The etcd member the page talks to; streams over WebSocket unless told otherwise. */
  const target = (streams: Target["streams"] = "websocket"): Target => ({ endpoint, streams });

  function check<K extends keyof Checks>(
    name: K,
    ...args: Parameters<Checks[K]>
  ): Promise<Awaited<ReturnType<Checks[K]>>> {
    return page.evaluate(
      ({ name, args }) => (window.checks[name] as (...a: unknown[]) => unknown)(...args),
      { name, args: args as unknown[] },
    ) as Promise<Awaited<ReturnType<Checks[K]>>>;
  }

  test("the page and etcd are different origins", { skip }, () => {
    assert.notEqual(new URL(endpoint).origin, server.origin);
  });

  test("a page from an origin etcd's --cors does not list gets a typed error, and writes nothing", {
    skip,
  }, async (t) => {
    const other = await startPageServer({
      entry: resolve(pageDir, "checks.ts"),
      html: resolve(pageDir, "checks.html"),
    });
    const log: string[] = [];
    try {
      const refusedPage = await openChecks(browser, other, log);
      const key = `${uniquePrefix("web-cors")}k`;
      const seen = await refusedPage.evaluate(
        ({ target, key }) => window.checks.tryPut(target, key),
        { target: target(), key },
      );
      assert.equal(seen.threw, true);
      assert.equal(seen.etcdError, true, `${seen.name}: ${seen.message}`);
      t.diagnostic(`the page got ${seen.name}: ${seen.message}`);
      assert.equal(await node.get(key), undefined);
      assert.ok(
        log.some((line) => /CORS|Access-Control-Allow-Origin/.test(line)),
        log.join("\n"),
      );
      await refusedPage.close();
    } finally {
      await other.close();
    }
  });

  test("put and get: what the page writes is in etcd, and it reads back what etcd has", {
    skip,
  }, async () => {
    const key = `${uniquePrefix("web-put")}k`;
    const seen = await check("putGet", target(), key);

    assert.equal(seen.afterFirst?.value, "v1");
    assert.equal(seen.afterFirst?.version, "1");
    assert.equal(seen.afterFirst?.modRevision, seen.firstRevision);
    assert.equal(seen.secondPrev?.value, "v1");
    assert.equal(seen.afterSecond?.value, "v2 ünïcode");
    assert.equal(seen.afterSecond?.version, "2");
    assert.equal(seen.afterSecond?.createRevision, seen.firstRevision);
    assert.equal(seen.missing, null);

    const stored = await node.get(key);
    assert.equal(stored?.text, "v2 ünïcode");
    assert.equal(stored?.modRevision, BigInt(seen.secondRevision));
  });

  test("range: a prefix whole, limited and counted, binary values intact", { skip }, async () => {
    const root = uniquePrefix("web-range");
    await node.put(`${root}a`, "1");
    await node.put(`${root}b`, new Uint8Array([0, 255, 128, 10]));
    const last = await node.put(`${root}c`, "ç");

    const seen = await check("range", target(), root);

    assert.deepEqual(
      seen.kvs.map((kv) => kv.key),
      [`${root}a`, `${root}b`, `${root}c`],
    );
    assert.deepEqual(seen.kvs[1]?.bytes, [0, 255, 128, 10]);
    assert.equal(seen.kvs[2]?.value, "ç");
    assert.equal(seen.count, "3");
    assert.equal(seen.revision, String(last.revision));
    assert.deepEqual(seen.limitedKeys, [`${root}a`, `${root}b`]);
    assert.equal(seen.limitedMore, true);
    assert.equal(seen.countOnly, "3");
    assert.equal(seen.countOnlyKvs, 0);
  });

  test("txn: compare-and-swap applies once, the stale retry takes the failure branch", {
    skip,
  }, async () => {
    const key = `${uniquePrefix("web-txn")}k`;
    await node.put(key, "original");

    const seen = await check("txn", target(), key);

    assert.equal(seen.freshSucceeded, true);
    assert.deepEqual(
      seen.freshRead.map((kv) => kv.value),
      ["swapped"],
    );
    assert.equal(seen.staleSucceeded, false);
    assert.deepEqual(
      seen.staleRead.map((kv) => kv.value),
      ["swapped"],
    );
    const stored = await node.get(key);
    assert.equal(stored?.text, "swapped");
    assert.equal(stored?.modRevision, BigInt(seen.freshRevision));
  });

  for (const streams of ["websocket", "http"] as const) {
    test(`watch (streams over ${streams}): changes made from Node arrive in the page once each, in order`, {
      skip,
    }, async () => {
      const root = uniquePrefix(`web-watch-${streams}`);
      const key = `${root}k`;
      const started = await check("startWatch", target(streams), root, 3);

      const first = await node.put(key, "a");
      const second = await node.put(key, "b");
      const deleted = await node.delete(key);
      const seen = await check("watchResult");

      assert.ok(BigInt(started.startRevision) <= first.revision);
      assert.deepEqual(seen.events, [
        { type: "put", key, value: "a", modRevision: String(first.revision), prevValue: undefined },
        { type: "put", key, value: "b", modRevision: String(second.revision), prevValue: "a" },
        { type: "delete", key, value: "", modRevision: String(deleted.revision), prevValue: "b" },
      ]);
      assert.equal(seen.closed, true);
    });

    test(`lease (keep-alive over ${streams}): kept alive from the page past its TTL, reported lost when revoked`, {
      skip,
    }, async () => {
      const key = `${uniquePrefix(`web-lease-${streams}`)}k`;
      const ttl = 2;
      const granted = await check("grantLease", target(streams), key, ttl);
      const id = BigInt(granted.id);
      assert.equal(granted.state, "alive");

      const seenByPage = await check("leaseTimeToLive", target(streams), granted.id);
      assert.deepEqual(seenByPage.keys, [key]);
      assert.equal(seenByPage.grantedTtl, String(ttl));

      // Unrenewed, the lease and its key would be gone after `ttl` seconds.
      await new Promise((r) => setTimeout(r, (ttl * 2 + 1) * 1000));
      const stored = await node.get(key);
      assert.equal(stored?.text, "held");
      assert.equal(stored?.lease, id);
      assert.ok((await node.lease.timeToLive(id)).ttl > 0n);

      await node.lease.revoke(id);
      const lost = await check("leaseLost", granted.id);
      assert.match(lost, /^LeaseLostError: /);
      assert.equal(await node.get(key), undefined);
    });
  }

  test("an error etcd answers maps to the same class as over gRPC", { skip }, async () => {
    const key = `${uniquePrefix("web-error")}k`;
    const seen = await check("refused", target(), key);
    const overGrpc = await node.txn({ success: [op.put(key, "a"), op.put(key, "b")] }).then(
      () => undefined,
      (error: Error & { code: unknown }) => error,
    );
    assert.equal(seen.threw, true);
    assert.equal(seen.name, "DuplicateKeyError");
    assert.equal(seen.name, overGrpc?.name);
    assert.equal(seen.code, overGrpc?.code);
  });
});

async function openChecks(browser: Browser, server: PageServer, log: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on("console", (message) => log.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => log.push(`page error: ${error.message}`));
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready === "true");
  return page;
}
