/**
 * Read coalescing against real etcd: concurrent linearizable gets go out as Txns of at most 128
 * range operations and return exactly what separate gets return (present and missing keys,
 * keysOnly, namespaces); a failed batch falls back to single calls; one caller's abort ends only
 * its own read; serializable reads and reads at a revision are never batched.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { CanceledError, Etcd, type EtcdOptions, type KeyValue } from "../../src/index.ts";
import { testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();
const P = uniquePrefix("coalesce");

/** Method names and txn sizes a client sent, seen by an interceptor. */
function recorder() {
  const calls: string[] = [];
  const txnSizes: number[] = [];
  let failTxn = false;
  const interceptor: Interceptor = (next) => async (req) => {
    calls.push(req.method.name);
    if (!req.stream && req.method.name === "Txn") {
      txnSizes.push((req.message as unknown as { success: unknown[] }).success.length);
      if (failTxn) throw new ConnectError("batch refused for the test", Code.Unavailable);
    }
    return next(req);
  };
  return {
    calls,
    txnSizes,
    interceptor,
    failTxns() {
      failTxn = true;
    },
    reset() {
      calls.length = 0;
      txnSizes.length = 0;
    },
  };
}

function client(options: Partial<EtcdOptions> = {}): Etcd {
  return new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, ...options });
}

function plain(kv: KeyValue | undefined) {
  return kv && { ...kv.toJSON(), keyBytes: [...kv.key], valueBytes: [...kv.value] };
}

describe("read coalescing", () => {
  let reference: Etcd;
  const keys: string[] = [];

  before(async () => {
    reference = client();
    for (let i = 0; i < 40; i++) {
      const key = `${P}k${i}`;
      keys.push(key);
      if (i % 5 !== 4) await reference.put(key, i % 3 === 0 ? "" : `value ${i}`);
      if (i % 7 === 0) await reference.put(key, `again ${i}`);
    }
  });

  after(async () => {
    await reference?.close();
  });

  test("concurrent gets go out as one txn and equal separate gets", async () => {
    const rec = recorder();
    const batched = client({ coalesceReads: true, interceptors: [rec.interceptor] });
    try {
      for (const keysOnly of [false, true]) {
        rec.reset();
        const got = await Promise.all(keys.map((k) => batched.get(k, { keysOnly })));
        assert.deepEqual(rec.calls, ["Txn"], `one txn (keysOnly ${keysOnly})`);
        assert.deepEqual(rec.txnSizes, [keys.length]);
        const expected = [];
        for (const k of keys) expected.push(await reference.get(k, { keysOnly }));
        assert.deepEqual(got.map(plain), expected.map(plain));
      }
      assert.ok((await batched.get(keys[0] as string)) !== undefined);
    } finally {
      await batched.close();
    }
  });

  test("more than 128 gets split into txns of at most 128", async () => {
    const rec = recorder();
    const batched = client({ coalesceReads: true, interceptors: [rec.interceptor] });
    try {
      const many = Array.from({ length: 300 }, (_, i) => keys[i % keys.length] as string);
      const got = await Promise.all(many.map((k) => batched.get(k)));
      assert.ok(
        rec.txnSizes.every((n) => n <= 128),
        String(rec.txnSizes),
      );
      assert.equal(
        rec.txnSizes.reduce((a, b) => a + b, 0) + rec.calls.filter((c) => c === "Range").length,
        300,
      );
      assert.ok(rec.txnSizes.length >= 3);
      for (let i = 0; i < many.length; i++) {
        assert.deepEqual(plain(got[i]), plain(await reference.get(many[i] as string)));
      }
    } finally {
      await batched.close();
    }
  });

  test("a failed batch is sent again as single gets with the same results", async () => {
    const rec = recorder();
    rec.failTxns();
    const batched = client({ coalesceReads: true, interceptors: [rec.interceptor] });
    try {
      const got = await Promise.all(keys.map((k) => batched.get(k)));
      assert.equal(rec.calls.filter((c) => c === "Txn").length, 1);
      assert.equal(rec.calls.filter((c) => c === "Range").length, keys.length);
      for (let i = 0; i < keys.length; i++) {
        assert.deepEqual(plain(got[i]), plain(await reference.get(keys[i] as string)));
      }
    } finally {
      await batched.close();
    }
  });

  test("one caller's abort ends only its own read", async () => {
    const batched = client({ coalesceReads: true });
    try {
      const controller = new AbortController();
      const reads = keys.map((k, i) =>
        batched.get(k, i === 3 ? { signal: controller.signal } : {}).then(
          (kv) => ({ ok: true as const, kv }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
      );
      controller.abort();
      const outcomes = await Promise.all(reads);
      const aborted = outcomes[3];
      assert.ok(aborted && !aborted.ok && aborted.error instanceof CanceledError);
      for (let i = 0; i < keys.length; i++) {
        if (i === 3) continue;
        const outcome = outcomes[i];
        assert.ok(outcome?.ok);
        assert.deepEqual(plain(outcome.kv), plain(await reference.get(keys[i] as string)));
      }
    } finally {
      await batched.close();
    }
  });

  test("per call: coalesce on or off; serializable and revision reads are never batched", async () => {
    const rec = recorder();
    const perCall = client({ interceptors: [rec.interceptor] });
    try {
      await Promise.all(keys.slice(0, 10).map((k) => perCall.get(k, { coalesce: true })));
      assert.deepEqual(rec.calls, ["Txn"]);
      rec.reset();
      await Promise.all(keys.slice(0, 10).map((k) => perCall.get(k)));
      assert.deepEqual(rec.calls, Array(10).fill("Range"));
      rec.reset();
      const revision = (await perCall.range(keys[0] as string)).revision;
      rec.reset();
      await Promise.all([
        ...keys.slice(0, 5).map((k) => perCall.get(k, { coalesce: true, serializable: true })),
        ...keys.slice(0, 5).map((k) => perCall.get(k, { coalesce: true, revision })),
      ]);
      assert.deepEqual(rec.calls, Array(10).fill("Range"));
    } finally {
      await perCall.close();
    }
  });

  test("gets of a namespace batch with the client's own and stay inside it", async () => {
    const rec = recorder();
    const batched = client({ coalesceReads: true, interceptors: [rec.interceptor] });
    try {
      const ns = batched.namespace(P);
      const [inside, outside] = await Promise.all([ns.get("k1"), batched.get(`${P}k1`)]);
      assert.deepEqual(rec.calls, ["Txn"]);
      assert.equal(inside?.keyText, "k1");
      assert.equal(outside?.keyText, `${P}k1`);
      assert.equal(inside?.text, outside?.text);
    } finally {
      await batched.close();
    }
  });
});
