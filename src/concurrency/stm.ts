import type { CallOptions } from "../core/call-options.ts";
import {
  CompactedError,
  InvalidArgumentError,
  StmConflictError,
  toEtcdError,
} from "../core/errors.ts";
import { type Bytes, toBytes, toText } from "../core/keys.ts";
import { latin1 } from "../core/latin1.ts";
import { leaseId } from "../core/numbers.ts";
import type { KeyValue, ResponseHeader } from "../kv/key-value.ts";
import type { KV } from "../kv/kv.ts";
import type { RangeResult } from "../kv/results.ts";
import {
  type Compare,
  compare,
  type Op,
  op,
  type PutOptions,
  type RangeOptions,
} from "../kv/txn.ts";
import { operationSignal } from "./retry.ts";

/**
 * How concurrent STM transactions may interfere, as in Go's `concurrency.Isolation`:
 * - `serializable-snapshot` (default): every read at the revision of the first read; the commit
 *   fails if any key read or written changed since. Serializable, with write conflicts caught.
 * - `serializable`: reads at the revision of the first read; the commit fails if a key read
 *   changed since.
 * - `repeatable-read`: each key is read once (from the nearest member); the commit fails if a key
 *   read changed since.
 * - `read-committed`: reads from any committed revision; the commit never fails. No protection
 *   against lost updates.
 *
 * @example
 * const isolation: Isolation = "repeatable-read";
 * await etcd.stm(fn, { isolation });
 */
export type Isolation =
  | "serializable-snapshot"
  | "serializable"
  | "repeatable-read"
  | "read-committed";

/**
 * Options of `etcd.stm()`.
 *
 * @example
 * await etcd.stm(transfer, { isolation: "serializable", prefetch: ["acct/a", "acct/b"] });
 */
export interface StmOptions extends CallOptions {
  /** Default "serializable-snapshot" (Go's default). */
  isolation?: Isolation;
  /** Keys to read in one request before the function runs (saves a round trip per key). */
  prefetch?: Bytes[];
  /** Give up with `StmConflictError` after this many conflicting attempts. Default: no limit. */
  maxAttempts?: number;
}

/**
 * What the function given to `etcd.stm()` reads and writes through. Reads see this attempt's own
 * writes. Writes are buffered and committed in one transaction at the end.
 *
 * @example
 * await etcd.stm(async (tx) => {
 *   const n = Number((await tx.text("counter")) ?? "0");
 *   tx.put("counter", String(n + 1));
 * });
 */
export interface StmTransaction {
  /** The value of a key, or undefined when it does not exist. */
  get(key: Bytes): Promise<Uint8Array | undefined>;
  /** The value as UTF-8 text, or undefined. */
  text(key: Bytes): Promise<string | undefined>;
  /** The value parsed as JSON, or undefined. */
  json<T = unknown>(key: Bytes): Promise<T | undefined>;
  /** The key's mod revision as read (0n when it does not exist), ignoring this attempt's writes. */
  modRevision(key: Bytes): Promise<bigint>;
  /** Reads several keys in one request. */
  prefetch(keys: Bytes[]): Promise<void>;
  /** Writes a key at commit. */
  put(key: Bytes, value: Bytes, options?: Pick<PutOptions, "lease">): void;
  /** Deletes a key at commit. */
  delete(key: Bytes): void;
  /** Which attempt this is, from 1. */
  readonly attempt: number;
}

/**
 * What `etcd.stm()` resolves with.
 *
 * @example
 * const { value, revision, attempts } = await etcd.stm(fn);
 */
export interface StmResult<T> {
  /** What the function returned on the attempt that committed. */
  value: T;
  /** The revision of the commit. */
  revision: bigint;
  header: ResponseHeader;
  /** How many times the function ran. */
  attempts: number;
}

interface Read {
  readonly key: Uint8Array;
  readonly kv: KeyValue | undefined;
  /** The store revision the read was served at. */
  readonly revision: bigint;
}

interface Write {
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
  readonly lease: bigint | undefined;
}

const isolations = new Set<Isolation>([
  "serializable-snapshot",
  "serializable",
  "repeatable-read",
  "read-committed",
]);

/** Thrown inside an attempt whose snapshot revision was compacted: the attempt starts over. */
const restart = Symbol("stm restart");

/**
 * Software transactional memory over etcd, the algorithm family of Go's `concurrency.NewSTM`:
 * run `apply` against a read set and a write set, commit the writes in one transaction guarded
 * by compares on what was read (per the isolation level), and run `apply` again on conflict.
 * `apply` may run several times: keep its side effects inside `tx`. An error thrown by `apply`,
 * or by a request, ends the STM without committing; a failed commit request is not repeated
 * (it may have applied).
 *
 * @example
 * await runStm(etcd.kv, async (tx) => {
 *   const a = Number(await tx.text("acct/a"));
 *   const b = Number(await tx.text("acct/b"));
 *   tx.put("acct/a", String(a - 10));
 *   tx.put("acct/b", String(b + 10));
 * });
 */
export async function runStm<T>(
  kv: KV,
  apply: (tx: StmTransaction) => T | Promise<T>,
  options: StmOptions = {},
): Promise<StmResult<T>> {
  const isolation = options.isolation ?? "serializable-snapshot";
  if (!isolations.has(isolation)) {
    throw new InvalidArgumentError(`unknown isolation "${String(isolation)}"`);
  }
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  if (!(maxAttempts >= 1)) throw new InvalidArgumentError("maxAttempts must be at least 1");
  const prefetchKeys = (options.prefetch ?? []).map((k) => toBytes(k, "key"));
  const control = operationSignal(options, [], "stm");
  const call: CallOptions = { signal: control.signal };
  let carried = new Map<string, Read>();
  try {
    for (let attempt = 1; ; attempt++) {
      if (control.signal.aborted) throw control.reason();
      const tx = new Attempt(kv, isolation, attempt, carried, call);
      let value: T;
      try {
        if (prefetchKeys.length > 0) await tx.prefetch(prefetchKeys);
        value = await apply(tx);
      } catch (error) {
        tx.end();
        if (error === restart) {
          carried = new Map();
          continue;
        }
        if (control.signal.aborted) throw control.reason();
        throw error;
      }
      tx.end();
      const result = await kv.txn(tx.commitRequest(), call).catch((error: unknown) => {
        throw control.signal.aborted ? control.reason() : toEtcdError(error);
      });
      if (result.succeeded) {
        return { value, revision: result.revision, header: result.header, attempts: attempt };
      }
      if (attempt >= maxAttempts) {
        throw new StmConflictError(`stm: ${attempt} attempts conflicted with other writers`);
      }
      carried = tx.rereads(result.results as RangeResult[], result.revision);
    }
  } finally {
    control.dispose();
  }
}

class Attempt implements StmTransaction {
  readonly attempt: number;
  readonly #kv: KV;
  readonly #isolation: Isolation;
  readonly #call: CallOptions;
  readonly #reads = new Map<string, Read>();
  readonly #writes = new Map<string, Write>();
  /** Reads carried over from the failed commit (serializable levels). */
  readonly #carried: Map<string, Read>;
  /** Serializable levels: the revision every read after the first is served at. */
  #pinned: bigint | undefined;
  #ended = false;

  constructor(
    kv: KV,
    isolation: Isolation,
    attempt: number,
    carried: Map<string, Read>,
    call: CallOptions,
  ) {
    this.#kv = kv;
    this.#isolation = isolation;
    this.attempt = attempt;
    this.#carried = carried;
    this.#call = call;
  }

  async get(key: Bytes): Promise<Uint8Array | undefined> {
    const bytes = toBytes(key, "key");
    const written = this.#writes.get(mapKey(bytes));
    if (written) return written.value;
    return (await this.#read([bytes]))[0]?.kv?.value;
  }

  async text(key: Bytes): Promise<string | undefined> {
    const value = await this.get(key);
    return value === undefined ? undefined : toText(value);
  }

  async json<T = unknown>(key: Bytes): Promise<T | undefined> {
    const text = await this.text(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async modRevision(key: Bytes): Promise<bigint> {
    const read = (await this.#read([toBytes(key, "key")]))[0];
    return read?.kv?.modRevision ?? 0n;
  }

  async prefetch(keys: Bytes[]): Promise<void> {
    await this.#read(keys.map((k) => toBytes(k, "key")));
  }

  put(key: Bytes, value: Bytes, options: Pick<PutOptions, "lease"> = {}): void {
    this.#check();
    const bytes = toBytes(key, "key");
    if (bytes.length === 0) throw new InvalidArgumentError("key must not be empty");
    const lease = options.lease === undefined ? undefined : leaseId(options.lease);
    this.#writes.set(mapKey(bytes), { key: bytes, value: toBytes(value, "value"), lease });
  }

  delete(key: Bytes): void {
    this.#check();
    const bytes = toBytes(key, "key");
    this.#writes.set(mapKey(bytes), { key: bytes, value: undefined, lease: undefined });
  }

  end(): void {
    this.#ended = true;
  }

  /** The commit: the writes, guarded by the isolation level's compares. */
  commitRequest(): { compare: Compare[]; success: Op[]; failure: Op[] } {
    const compares: Compare[] = [];
    if (this.#isolation !== "read-committed") {
      for (const read of this.#reads.values()) {
        compares.push(compare.modRevision(read.key, "=", read.kv?.modRevision ?? 0n));
      }
    }
    if (this.#isolation === "serializable-snapshot" && this.#reads.size > 0) {
      let first = -1n;
      for (const read of this.#reads.values()) {
        if (first < 0n || read.revision < first) first = read.revision;
      }
      for (const write of this.#writes.values()) {
        compares.push(compare.modRevision(write.key, "<", first + 1n));
      }
    }
    const success = [...this.#writes.values()].map((w) =>
      w.value === undefined
        ? op.delete(w.key)
        : op.put(w.key, w.value, w.lease === undefined ? {} : { lease: w.lease }),
    );
    // Serializable levels read every key again on failure: the next attempt starts from there.
    const failure = this.#serializable ? [...this.#reads.values()].map((r) => op.get(r.key)) : [];
    return { compare: compares, success, failure };
  }

  /** The failed commit's reads, for the next attempt. */
  rereads(results: RangeResult[], revision: bigint): Map<string, Read> {
    const carried = new Map<string, Read>();
    if (!this.#serializable) return carried;
    const keys = [...this.#reads.values()];
    results.forEach((result, i) => {
      const read = keys[i];
      if (read) carried.set(mapKey(read.key), { key: read.key, kv: result.kvs[0], revision });
    });
    return carried;
  }

  get #serializable(): boolean {
    return this.#isolation === "serializable" || this.#isolation === "serializable-snapshot";
  }

  #check(): void {
    if (this.#ended) throw new InvalidArgumentError("this STM attempt is over");
  }

  async #read(keys: Uint8Array[]): Promise<Array<Read | undefined>> {
    this.#check();
    const missing: Uint8Array[] = [];
    for (const key of keys) {
      const id = mapKey(key);
      if (this.#reads.has(id)) continue;
      const carried = this.#carried.get(id);
      if (carried) {
        this.#carried.delete(id);
        this.#reads.set(id, carried);
        this.#pinned ??= carried.revision;
        continue;
      }
      if (!missing.some((m) => mapKey(m) === id)) missing.push(key);
    }
    if (missing.length > 0) await this.#fetch(missing);
    return keys.map((key) => this.#reads.get(mapKey(key)));
  }

  async #fetch(keys: Uint8Array[]): Promise<void> {
    const options: RangeOptions = {};
    if (!this.#serializable) options.serializable = true;
    else if (this.#pinned !== undefined) {
      options.revision = this.#pinned;
      options.serializable = true;
    }
    let revision: bigint;
    let results: RangeResult[];
    try {
      if (keys.length === 1) {
        const result = await this.#kv.range(keys[0] as Uint8Array, { ...options, ...this.#call });
        revision = result.revision;
        results = [result];
      } else {
        const result = await this.#kv.txn(
          { success: keys.map((k) => op.get(k, options)) },
          this.#call,
        );
        revision = result.revision;
        results = result.results as RangeResult[];
      }
    } catch (error) {
      if (this.#pinned !== undefined && toEtcdError(error) instanceof CompactedError) throw restart;
      throw error;
    }
    if (this.#ended) return;
    keys.forEach((key, i) => {
      this.#reads.set(mapKey(key), { key, kv: results[i]?.kvs[0], revision });
    });
    if (this.#serializable) this.#pinned ??= revision;
  }
}

function mapKey(key: Uint8Array): string {
  return latin1(key);
}
