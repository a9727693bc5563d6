import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { KV as KVService, RangeStreamResponse } from "../../gen/etcdserverpb/rpc_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import type { CallOptions } from "../core/call-options.ts";
import { InvalidArgumentError, toEtcdError } from "../core/errors.ts";
import { type KeyOrRange, KeyRange, toKeyRange } from "../core/keys.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import { type KeyValue, toKeyValue } from "./key-value.ts";
import type { Keyspace } from "./keyspace.ts";
import { rangeRequest } from "./kv-wire.ts";
import type { RangeResult } from "./results.ts";
import type { RangeOptions } from "./txn.ts";

/** Options of `list`. @example etcd.list(prefix("a/"), { pageSize: 500, limit: 2000 }) */
export interface ListOptions extends CallOptions {
  /**
   * Keys per Range request, default 1000. A streamed rest of the range comes in chunks etcd
   * sizes itself.
   */
  pageSize?: number;
  /** At most this many keys in all; 0 or unset: every key of the range. */
  limit?: Int64;
  /** Read at this revision; by default the revision of the first page, so every page agrees. */
  revision?: Int64;
  keysOnly?: boolean;
  serializable?: boolean;
  /**
   * Whether the rest of a range longer than two pages may come as one stream (etcd 3.7's
   * RangeStream) instead of page after page, on members that serve it. Default true; the keys
   * listed are the same either way. false: Range requests only.
   */
  stream?: boolean;
}

/** Where a listing gets its pages and streams from. */
export interface ListSource {
  /** One page: a Range through the facade (retries, the lean transport's decoder). */
  range(target: KeyOrRange, options: RangeOptions & CallOptions): Promise<RangeResult>;
  /** The generated client, for RangeStream. */
  readonly client: Client<typeof KVService>;
  readonly keyspace: Keyspace;
}

/** Stream failures in one listing after which it stays with Range requests. */
const MAX_STREAM_FAILURES = 3;

/** How far a listing got: what it yielded last, and how many keys. */
interface Cursor {
  last: Uint8Array | undefined;
  yielded: bigint;
}

/**
 * Every key of a range, in key order, all read at one revision: the first page is a Range
 * (it fixes the revision, unless `revision` is given, and ends short listings in one request);
 * when more than two pages are left, the rest comes as one RangeStream at that revision from a
 * member that serves it, else page after page. A member older than etcd 3.7 answers the stream
 * "unknown method": the transport remembers that for the member (until it reconnects) and the
 * listing goes on with pages, so the caller sees no error. A stream that fails (a member lost,
 * its deadline passed) is taken up after the last key it delivered with a Range, retried like
 * any Range, at the same revision, and then streamed again: no key is listed twice or skipped.
 *
 * @example
 * for await (const kv of listKeys(source, prefix("jobs/"), { pageSize: 1000 })) console.log(kv.keyText);
 */
export async function* listKeys(
  source: ListSource,
  target: KeyOrRange,
  options: ListOptions = {},
): AsyncGenerator<KeyValue, void, undefined> {
  const pageSize = options.pageSize ?? 1000;
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0) {
    throw new InvalidArgumentError(`pageSize must be a positive integer, got ${pageSize}`);
  }
  const limit = options.limit === undefined ? 0n : toInt64(options.limit, "limit");
  if (limit < 0n) throw new InvalidArgumentError(`limit must not be negative, got ${limit}`);
  const range = toKeyRange(target);
  let revision = options.revision === undefined ? 0n : toInt64(options.revision, "revision");
  const cursor: Cursor = { last: undefined, yielded: 0n };
  let streaming = options.stream !== false && !range.isSingleKey;
  let streamFailures = 0;
  for (;;) {
    const left = limit === 0n ? undefined : limit - cursor.yielded;
    if (left === 0n) return;
    const from =
      cursor.last === undefined ? range : new KeyRange(successor(cursor.last), range.rangeEnd);
    const page = await source.range(from, {
      ...readOptions(options),
      limit: left !== undefined && left < BigInt(pageSize) ? left : BigInt(pageSize),
      revision,
    });
    if (revision === 0n) revision = page.revision;
    for (const kv of page.kvs) {
      cursor.last = kv.key;
      cursor.yielded++;
      yield kv;
    }
    if (!page.more || page.kvs.length === 0 || range.isSingleKey) return;
    // count covers the whole rest of the range at this revision, not only the page.
    let rest = page.count - BigInt(page.kvs.length);
    if (limit !== 0n && limit - cursor.yielded < rest) rest = limit - cursor.yielded;
    if (!streaming || rest <= BigInt(pageSize)) continue;
    const outcome = yield* streamRest(source, range, revision, limit, cursor, options);
    if (outcome === "done") return;
    if (outcome === "unsupported" || ++streamFailures >= MAX_STREAM_FAILURES) streaming = false;
  }
}

/**
 * Streams the range after `cursor.last` at `revision`, moving the cursor with every key.
 * "done": the range is complete; "unsupported": no member serves RangeStream (or not for this
 * request); "failed": the stream broke and the caller takes up from the cursor.
 */
async function* streamRest(
  source: ListSource,
  range: KeyRange,
  revision: bigint,
  limit: bigint,
  cursor: Cursor,
  options: ListOptions,
): AsyncGenerator<KeyValue, "done" | "unsupported" | "failed", undefined> {
  const from = new KeyRange(successor(cursor.last as Uint8Array), range.rangeEnd);
  const request = rangeRequest(
    from,
    {
      ...readOptions(options),
      revision,
      ...(limit === 0n ? {} : { limit: limit - cursor.yielded }),
    },
    source.keyspace,
  );
  // Leaving a Connect stream's loop does not cancel it: this signal does, on every way out.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const call = connectOptions({ ...callOptions(options), signal });
  let iterator: AsyncIterator<RangeStreamResponse> | undefined;
  try {
    iterator = source.client.rangeStream(request, call)[Symbol.asyncIterator]();
    for (;;) {
      const step = await iterator.next();
      if (step.done) return "done";
      const kvs = step.value.rangeResponse?.kvs ?? [];
      for (const wire of kvs) {
        const kv = toKeyValue(wire, source.keyspace);
        cursor.last = kv.key;
        cursor.yielded++;
        yield kv;
      }
    }
  } catch (thrown) {
    if (options.signal?.aborted) throw toEtcdError(thrown, options);
    const error = ConnectError.from(thrown);
    if (error.code === Code.Unimplemented) return "unsupported";
    if (options.retry === false) throw toEtcdError(thrown, options);
    return "failed";
  } finally {
    stop.abort();
    iterator?.return?.()?.catch(() => {});
  }
}

function readOptions(options: ListOptions): RangeOptions & CallOptions {
  return {
    ...(options.keysOnly ? { keysOnly: true } : {}),
    ...(options.serializable ? { serializable: true } : {}),
    ...callOptions(options),
  };
}

function callOptions(options: ListOptions): CallOptions {
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
  };
}

/** The smallest key after `key`: key + "\0". */
function successor(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key, 0);
  return next;
}
