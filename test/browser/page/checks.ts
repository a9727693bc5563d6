/**
 * The page the browser test loads: the web entry, bundled by esbuild, and a set of checks the test
 * calls one by one (`window.checks.name(...)`). Each runs against etcd's JSON gateway from inside
 * Chromium, on another origin than the page's, and answers what it saw as plain JSON (bigints as
 * decimal strings) for the test to compare with what etcd holds.
 */
import {
  compare,
  createGatewayEndpointTransport,
  Etcd,
  EtcdError,
  type KeyValue,
  op,
  prefix,
  type Watcher,
} from "../../../src/web.ts";

interface SeenKeyValue {
  key: string;
  value: string;
  bytes: number[];
  version: string;
  createRevision: string;
  modRevision: string;
  lease: string;
}

interface SeenEvent {
  type: "put" | "delete";
  key: string;
  value: string;
  modRevision: string;
  prevValue: string | undefined;
}

/**
 * Which etcd member a check talks to, and how the gateway carries streams (watch, keep-alive):
 * "websocket" (the default where the runtime has WebSocket) or "http" (one HTTP stream per
 * watcher, each keep-alive its own request).
 */
export interface Target {
  endpoint: string;
  streams: "websocket" | "http";
}

const clients = new Map<string, Etcd>();
let watching: { watcher: Watcher; events: Promise<SeenEvent[]> } | undefined;
const lostLeases = new Map<string, Promise<string>>();

function client({ endpoint, streams }: Target): Etcd {
  const id = `${streams} ${endpoint}`;
  let etcd = clients.get(id);
  if (!etcd) {
    etcd =
      streams === "websocket"
        ? new Etcd({ endpoints: [endpoint] })
        : new Etcd({
            endpoints: [endpoint],
            transport: (config) => createGatewayEndpointTransport(config, { streams }),
          });
    clients.set(id, etcd);
  }
  return etcd;
}

/** A check waits this long for what must come, then fails saying what it waited for. */
const WAIT_MS = 30_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function seen(kv: KeyValue): SeenKeyValue {
  return {
    key: kv.keyText,
    value: kv.text,
    bytes: [...kv.value],
    version: String(kv.version),
    createRevision: String(kv.createRevision),
    modRevision: String(kv.modRevision),
    lease: String(kv.lease),
  };
}

const checks = {
  /** Puts a key twice and reads it after each put. */
  async putGet(target: Target, key: string) {
    const etcd = client(target);
    const first = await etcd.put(key, "v1");
    const afterFirst = await etcd.get(key);
    const second = await etcd.put(key, "v2 ünïcode", { prevKv: true });
    const afterSecond = await etcd.get(key);
    return {
      firstRevision: String(first.revision),
      afterFirst: afterFirst && seen(afterFirst),
      secondRevision: String(second.revision),
      secondPrev: second.prevKv && seen(second.prevKv),
      afterSecond: afterSecond && seen(afterSecond),
      missing: (await etcd.get(`${key}/missing`)) ?? null,
    };
  },

  /** Reads a prefix whole, then with a limit, then only counts it. */
  async range(target: Target, keyPrefix: string) {
    const etcd = client(target);
    const all = await etcd.range(prefix(keyPrefix));
    const limited = await etcd.range(prefix(keyPrefix), { limit: 2 });
    const counted = await etcd.range(prefix(keyPrefix), { countOnly: true });
    return {
      kvs: all.kvs.map(seen),
      count: String(all.count),
      revision: String(all.revision),
      limitedKeys: limited.kvs.map((kv) => kv.keyText),
      limitedMore: limited.more,
      countOnly: String(counted.count),
      countOnlyKvs: counted.kvs.length,
    };
  },

  /** Compare-and-swap: once with the current mod revision (applies), once with a stale one. */
  async txn(target: Target, key: string) {
    const etcd = client(target);
    const current = await etcd.get(key);
    const revision = current?.modRevision ?? 0n;
    const fresh = await etcd.txn({
      compare: [compare.modRevision(key, "=", revision)],
      success: [op.put(key, "swapped"), op.get(key)],
      failure: [op.get(key)],
    });
    const stale = await etcd.txn({
      compare: [compare.modRevision(key, "=", revision)],
      success: [op.put(key, "must not apply")],
      failure: [op.get(key)],
    });
    const read = (result: (typeof stale.results)[number] | undefined) =>
      result?.kind === "range" ? result.kvs.map(seen) : [];
    return {
      freshSucceeded: fresh.succeeded,
      freshRevision: String(fresh.revision),
      freshRead: read(fresh.results[1]),
      staleSucceeded: stale.succeeded,
      staleRead: read(stale.results[0]),
    };
  },

  /** Opens a watcher on a prefix and collects `count` events; answers once etcd confirmed it. */
  async startWatch(target: Target, keyPrefix: string, count: number) {
    const watcher = client(target).watch(prefix(keyPrefix), { prevKv: true });
    const events = (async () => {
      const collected: SeenEvent[] = [];
      for await (const event of watcher.events()) {
        collected.push({
          type: event.type,
          key: event.kv.keyText,
          value: event.kv.text,
          modRevision: String(event.kv.modRevision),
          prevValue: event.prevKv?.text,
        });
        if (collected.length >= count) break;
      }
      return collected;
    })();
    watching = { watcher, events };
    return { startRevision: String(await watcher.ready()) };
  },

  /** The events the watcher from `startWatch` collected, and whether it closed afterwards. */
  async watchResult() {
    if (!watching) throw new Error("startWatch was not called");
    const events = await within(watching.events, "watch events");
    return { events, closed: watching.watcher.closed };
  },

  /** Grants a kept-alive lease with a short TTL and attaches a key to it. */
  async grantLease(target: Target, key: string, ttl: number) {
    const etcd = client(target);
    const lease = (await etcd.lease.grant(ttl)).keepAlive();
    await etcd.put(key, "held", { lease: lease.id });
    const id = String(lease.id);
    lostLeases.set(
      id,
      new Promise((resolve) => lease.onLost((error) => resolve(`${error.name}: ${error.message}`))),
    );
    return { id, ttl: String(lease.ttl), state: lease.state };
  },

  /** A lease's remaining TTL and keys, as the page's client sees them. */
  async leaseTimeToLive(target: Target, id: string) {
    const answer = await client(target).lease.timeToLive(BigInt(id), { keys: true });
    return {
      ttl: String(answer.ttl),
      grantedTtl: String(answer.grantedTtl),
      keys: answer.keys.map((key) => new TextDecoder().decode(key)),
    };
  },

  /** Resolves when the page's keep-alive reports the lease lost, with the error it reported. */
  leaseLost(id: string): Promise<string> {
    const lost = lostLeases.get(id);
    if (!lost) throw new Error(`no lease ${id} granted by this page`);
    return within(lost, `loss report for lease ${id}`);
  },

  /** A request etcd refuses (the same key twice in one txn): the error class the page got. */
  async refused(target: Target, key: string) {
    try {
      await client(target).txn({ success: [op.put(key, "a"), op.put(key, "b")] });
      return { threw: false };
    } catch (error) {
      const e = error as { name?: string; code?: unknown; message?: string };
      return { threw: true, name: e.name, code: e.code, message: e.message };
    }
  },

  /** A put with a bounded wait, for a page whose origin etcd may refuse: what came of it. */
  async tryPut(target: Target, key: string) {
    try {
      await client(target).put(key, "x", { timeoutMs: 5000 });
      return { threw: false };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      return {
        threw: true,
        etcdError: error instanceof EtcdError,
        name: e.name,
        message: e.message,
      };
    }
  },
};

export type Checks = typeof checks;

declare global {
  interface Window {
    checks: Checks;
  }
}

window.checks = checks;
document.body.dataset.ready = "true";
