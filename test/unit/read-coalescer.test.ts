/**
 * The read coalescer on a fake KV client (an in-memory key map answering Range and Txn the way
 * etcd shapes them): gets of one event-loop turn become one Txn of at most 128 ranges, each
 * caller gets what its own Range would have returned, a failed batch is retried as single
 * calls, `coalesce: false` opts out, and each caller's signal and timeout end only its read.
 */
import assert from "node:assert/strict";
import { afterEach, describe, mock, test } from "node:test";
import { create, equals, type MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError } from "@connectrpc/connect";
import {
  type KV as KVService,
  type RangeRequestSchema,
  type RangeResponse,
  RangeResponseSchema,
  type TxnRequestSchema,
  TxnResponseSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { Keyspace } from "../../src/kv/keyspace.ts";
import { KV } from "../../src/kv/kv.ts";
import { MAX_COALESCED, ReadCoalescer } from "../../src/kv/read-coalescer.ts";
import { settle } from "../support/fake-transport.ts";

type RangeInit = MessageInitShape<typeof RangeRequestSchema>;
type TxnInit = MessageInitShape<typeof TxnRequestSchema>;

const enc = new TextEncoder();
const dec = new TextDecoder();
const HEADER = { clusterId: 11n, memberId: 22n, revision: 42n, raftTerm: 3n };

/** What a KV client was asked, and a switch to make calls fail. */
class FakeKV {
  readonly store = new Map<string, string>([
    ["a", "1"],
    ["b", "2"],
    ["c", "3"],
  ]);
  readonly txns: { request: TxnInit; options: CallOptions | undefined }[] = [];
  readonly ranges: { request: RangeInit; options: CallOptions | undefined }[] = [];
  failTxn: (() => Error) | undefined;
  failRange: ((key: string) => Error | undefined) | undefined;
  /** Answers stay pending until released (to fire signals and timers meanwhile). */
  hold = false;
  readonly #held: (() => void)[] = [];

  release(): void {
    for (const go of this.#held.splice(0)) go();
  }

  answer(request: RangeInit, header: typeof HEADER | { revision: bigint }): RangeResponse {
    const key = dec.decode(request.key ?? new Uint8Array());
    const value = this.store.get(key);
    const kvs =
      value === undefined
        ? []
        : [{ key: enc.encode(key), value: enc.encode(value), modRevision: 40n, version: 1n }];
    return create(RangeResponseSchema, { header, kvs, count: BigInt(kvs.length) });
  }

  #later<T>(produce: () => T): Promise<T> {
    if (!this.hold) return Promise.resolve().then(produce);
    return new Promise<T>((resolve, reject) => {
      this.#held.push(() => {
        try {
          resolve(produce());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  readonly client = {
    range: (request: RangeInit, options?: CallOptions) => {
      this.ranges.push({ request, options });
      return this.#later(() => {
        const error = this.failRange?.(dec.decode(request.key ?? new Uint8Array()));
        if (error) throw error;
        return this.answer(request, HEADER);
      });
    },
    txn: (request: TxnInit, options?: CallOptions) => {
      this.txns.push({ request, options });
      return this.#later(() => {
        if (this.failTxn) throw this.failTxn();
        // Inside a txn etcd fills only the revision of each range's header.
        const responses = (request.success ?? []).map((op) => ({
          response: {
            case: "responseRange" as const,
            value: this.answer(op.request?.value as RangeInit, { revision: HEADER.revision }),
          },
        }));
        return create(TxnResponseSchema, { header: HEADER, succeeded: true, responses });
      });
    },
  };

  get asClient(): Client<typeof KVService> {
    return this.client as unknown as Client<typeof KVService>;
  }
}

const get = (key: string): RangeInit => ({ key: enc.encode(key) });

afterEach(() => mock.timers.reset());

describe("ReadCoalescer", () => {
  test("gets of one turn go as one Txn; each result is what its own Range returns", async () => {
    const fake = new FakeKV();
    const coalescer = new ReadCoalescer(fake.asClient);
    const keys = ["a", "b", "missing", "c", "a"];
    const results = await Promise.all(keys.map((k) => coalescer.range(get(k), {})));
    assert.equal(fake.txns.length, 1);
    assert.equal(fake.ranges.length, 0);
    const ops = fake.txns[0]?.request.success ?? [];
    assert.deepEqual(
      ops.map((op) => dec.decode((op.request?.value as RangeInit | undefined)?.key)),
      keys,
      "one range op per get, in call order",
    );
    for (const [i, key] of keys.entries()) {
      const alone = fake.answer(get(key), HEADER);
      assert.ok(equals(RangeResponseSchema, results[i] as RangeResponse, alone), key);
    }
    assert.equal(results[2]?.kvs.length, 0);
    assert.equal(results[0]?.header?.memberId, 22n, "the txn's full header, not the bare one");
  });

  test("a lone get is a plain Range, and gets of different turns do not batch", async () => {
    const fake = new FakeKV();
    const coalescer = new ReadCoalescer(fake.asClient);
    assert.equal(dec.decode((await coalescer.range(get("a"), {})).kvs[0]?.value), "1");
    await coalescer.range(get("b"), {});
    assert.equal(fake.txns.length, 0);
    assert.equal(fake.ranges.length, 2);
  });

  test("more than 128 gets in one turn split into Txns of at most 128", async () => {
    const fake = new FakeKV();
    const coalescer = new ReadCoalescer(fake.asClient);
    const n = 2 * MAX_COALESCED + 44;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => coalescer.range(get(i % 2 ? "a" : "b"), {})),
    );
    assert.equal(MAX_COALESCED, 128, "etcd's default --max-txn-ops");
    assert.deepEqual(
      fake.txns.map((t) => t.request.success?.length),
      [128, 128, 44],
    );
    assert.ok(results.every((r, i) => dec.decode(r.kvs[0]?.value) === (i % 2 ? "1" : "2")));
  });

  test("a failed batch is retried as single calls, each with its own outcome", async () => {
    const fake = new FakeKV();
    fake.failTxn = () => new ConnectError("etcdserver: too many operations in txn request");
    fake.failRange = (key) =>
      key === "b" ? new ConnectError("etcdserver: request timed out", Code.Unavailable) : undefined;
    const coalescer = new ReadCoalescer(fake.asClient);
    const [a, b, c] = await Promise.allSettled(
      ["a", "b", "c"].map((k) => coalescer.range(get(k), {})),
    );
    assert.equal(fake.txns.length, 1);
    assert.deepEqual(
      fake.ranges.map((r) => dec.decode(r.request.key)),
      ["a", "b", "c"],
    );
    assert.equal(a?.status === "fulfilled" && dec.decode(a.value.kvs[0]?.value), "1");
    assert.equal(c?.status === "fulfilled" && dec.decode(c.value.kvs[0]?.value), "3");
    assert.equal(b?.status, "rejected");
    assert.equal(b?.status === "rejected" && (b.reason as ConnectError).code, Code.Unavailable);
  });

  test("a signal that fires while queued or in flight ends only that read", async () => {
    const fake = new FakeKV();
    fake.hold = true;
    const coalescer = new ReadCoalescer(fake.asClient);
    const early = new AbortController();
    const late = new AbortController();
    const reads = [
      coalescer.range(get("a"), { signal: early.signal }),
      coalescer.range(get("b"), { signal: late.signal }),
      coalescer.range(get("c"), {}),
      coalescer.range(get("a"), {}),
    ];
    for (const r of reads) r.catch(() => {});
    early.abort(); // before the turn ends: not sent at all
    await settle();
    assert.equal(fake.txns[0]?.request.success?.length, 3, "the cancelled read left the batch");
    late.abort(); // while the txn is in flight
    await assert.rejects(reads[1] as Promise<RangeResponse>, { code: Code.Canceled });
    await assert.rejects(reads[0] as Promise<RangeResponse>, { code: Code.Canceled });
    fake.release();
    assert.equal(dec.decode((await reads[2])?.kvs[0]?.value), "3");
    assert.equal(dec.decode((await reads[3])?.kvs[0]?.value), "1");
    await assert.rejects(coalescer.range(get("a"), { signal: AbortSignal.abort() }), {
      code: Code.Canceled,
    });
    assert.equal(fake.txns.length + fake.ranges.length, 1, "an aborted signal sends nothing");
  });

  test("each read's timeout ends only that read; the batch carries the longest", async () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: 5_000 });
    const fake = new FakeKV();
    fake.hold = true;
    const coalescer = new ReadCoalescer(fake.asClient);
    const short = coalescer.range(get("a"), { timeoutMs: 50 });
    const long = coalescer.range(get("b"), { timeoutMs: 500 });
    short.catch(() => {});
    await settle();
    assert.equal(fake.txns[0]?.options?.timeoutMs, 500);
    mock.timers.tick(49);
    await settle();
    let shortDone = false;
    short.then(
      () => {},
      () => {
        shortDone = true;
      },
    );
    await settle();
    assert.equal(shortDone, false, "not before its 50 ms");
    mock.timers.tick(1);
    await assert.rejects(short, { code: Code.DeadlineExceeded });
    fake.release();
    assert.equal(dec.decode((await long).kvs[0]?.value), "2", "the other read is unaffected");
  });

  test("the batch has no deadline when one read has none, and the default when one relies on it", async () => {
    const fake = new FakeKV();
    const coalescer = new ReadCoalescer(fake.asClient);
    await Promise.all([
      coalescer.range(get("a"), { timeoutMs: 100 }),
      coalescer.range(get("b"), { timeoutMs: 0 }),
    ]);
    await Promise.all([
      coalescer.range(get("a"), { timeoutMs: 100 }),
      coalescer.range(get("b"), {}),
    ]);
    assert.equal(fake.txns[0]?.options?.timeoutMs, 0, "timeoutMs 0: none");
    assert.equal(fake.txns[1]?.options?.timeoutMs, undefined, "unset: the client's default");
  });

  test("retried singles get what is left of their caller's deadline", async () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: 5_000 });
    const fake = new FakeKV();
    fake.hold = true;
    fake.failTxn = () => new ConnectError("boom", Code.Unavailable);
    const coalescer = new ReadCoalescer(fake.asClient);
    const reads = [
      coalescer.range(get("a"), { timeoutMs: 300 }),
      coalescer.range(get("b"), { timeoutMs: 300 }),
    ];
    await settle();
    mock.timers.tick(100);
    fake.release();
    await settle();
    assert.deepEqual(
      fake.ranges.map((r) => r.options?.timeoutMs),
      [200, 200],
    );
    fake.release();
    await Promise.all(reads);
  });
});

describe("KV.get and the coalescer", () => {
  function kv(byDefault: boolean) {
    const fake = new FakeKV();
    const coalescer = new ReadCoalescer(fake.asClient);
    return { fake, kv: new KV(fake.asClient, new Keyspace(), { coalescer, byDefault }) };
  }

  test("with coalescing on by default, coalesce: false and serializable reads opt out", async () => {
    const { fake, kv: client } = kv(true);
    const values = await Promise.all([
      client.get("a"),
      client.get("b"),
      client.get("c", { coalesce: false }),
      client.get("a", { serializable: true }),
      client.get("b", { revision: 40n }),
    ]);
    assert.deepEqual(
      values.map((v) => v?.text),
      ["1", "2", "3", "1", "2"],
    );
    assert.equal(fake.txns.length, 1);
    assert.equal(fake.txns[0]?.request.success?.length, 2);
    assert.equal(fake.ranges.length, 3);
  });

  test("with coalescing off by default, coalesce: true opts in", async () => {
    const { fake, kv: client } = kv(false);
    await Promise.all([
      client.get("a", { coalesce: true }),
      client.get("b", { coalesce: true }),
      client.get("c"),
    ]);
    assert.equal(fake.txns[0]?.request.success?.length, 2);
    assert.equal(fake.ranges.length, 1);
  });
});
