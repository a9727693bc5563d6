import { sleep } from "../connection/signals.ts";
import type { CallOptions } from "../core/call-options.ts";
import { NotLeaderError, toEtcdError } from "../core/errors.ts";
import { type Bytes, prefix as prefixRange, toBytes, toText } from "../core/keys.ts";
import type { KeyValue, ResponseHeader } from "../kv/key-value.ts";
import type { RangeResult, TxnResult } from "../kv/results.ts";
import { type Compare, compare, op, type TxnRequest } from "../kv/txn.ts";
import { sessionKey, withSlash } from "./mutex.ts";
import { deleteOwnKey, removeOwnKey } from "./own-key.ts";
import { operationSignal, retrying } from "./retry.ts";
import {
  type ConcurrencyScope,
  firstCreated,
  RECHECK_MS,
  type Waiting,
  waitDeletes,
} from "./scope.ts";
import type { SessionHandle } from "./session-handle.ts";

const OBSERVE_ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * Reads an election without taking part: who leads, and every change of leader or proclaimed
 * value. Keys as Go's `concurrency.Election`, so it observes Go campaigners (`etcdctl elect`)
 * too. `etcd.election(prefix)` gives one; `Election` (from a session) can also campaign.
 *
 * @example
 * for await (const leader of etcd.election("elect/svc").observe()) console.log(leader.text);
 */
export class ElectionObserver {
  /** The key prefix, "/" included, as stored (without any namespace prefix). */
  readonly prefix: Uint8Array;
  readonly #scope: ConcurrencyScope;

  /** @internal */
  constructor(scope: ConcurrencyScope, prefix: Bytes) {
    this.#scope = scope;
    this.prefix = withSlash(prefix);
  }

  /**
   * The current leader's key and proclaimed value, or undefined when nobody leads.
   *
   * @example
   * const leader = await election.leader();
   * console.log(leader?.text);
   */
  async leader(options: CallOptions = {}): Promise<KeyValue | undefined> {
    const result = await firstCreated(this.#scope, this.prefix, options);
    return result.kvs[0];
  }

  /**
   * The leader, then every change: a new leader, or a new value proclaimed by the current one.
   * Waits while nobody leads. Survives member failures (it reads again and resumes); ends when
   * `signal` fires (rejecting with `CanceledError`) or the loop is left.
   *
   * @example
   * for await (const leader of election.observe({ signal })) console.log(leader.keyText, leader.text);
   */
  async *observe(
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<KeyValue, void, undefined> {
    const control = operationSignal(options, [], "observe");
    const waiting: Waiting = { ...control, attemptTimeoutMs: OBSERVE_ATTEMPT_TIMEOUT_MS };
    let last: KeyValue | undefined;
    try {
      for (;;) {
        const current = await retrying(
          control.signal,
          waiting.attemptTimeoutMs,
          control.reason,
          (o) => firstCreated(this.#scope, this.prefix, o),
        );
        let leader = current.kvs[0];
        let revision = current.revision;
        if (!leader) {
          const first = await this.#firstPut(revision + 1n, waiting);
          if (!first) continue;
          leader = first;
          revision = first.modRevision;
        }
        if (!sameKv(last, leader)) {
          last = leader;
          yield leader;
        }
        for await (const change of this.#follow(leader, revision + 1n, waiting)) {
          if (!sameKv(last, change)) {
            last = change;
            yield change;
          }
        }
      }
    } finally {
      control.dispose();
    }
  }

  /** The first key put under the prefix from `fromRevision` on (undefined: look again). */
  async #firstPut(fromRevision: bigint, waiting: Waiting): Promise<KeyValue | undefined> {
    for await (const event of this.#watch(prefixRange(this.prefix), fromRevision, waiting, true)) {
      if (event === "recheck") {
        const now = await firstCreated(this.#scope, this.prefix, {
          signal: waiting.signal,
          timeoutMs: waiting.attemptTimeoutMs,
        }).catch(() => undefined);
        if (now?.kvs[0]) return undefined;
        continue;
      }
      if (event.type === "put") return event.kv;
    }
    return undefined;
  }

  /** The leader key's new values until it is deleted (or a read shows the leader changed). */
  async *#follow(leader: KeyValue, fromRevision: bigint, waiting: Waiting) {
    let last = leader;
    for await (const event of this.#watch(leader.key, fromRevision, waiting, false)) {
      if (event === "recheck") {
        const now = await firstCreated(this.#scope, this.prefix, {
          signal: waiting.signal,
          timeoutMs: waiting.attemptTimeoutMs,
        }).catch(() => undefined);
        if (now && !sameKv(now.kvs[0], last)) return;
        continue;
      }
      if (event.type === "delete") return;
      last = event.kv;
      yield event.kv;
    }
  }

  /**
   * Events of a watch, with a "recheck" every few seconds of silence so the caller can compare
   * with a read (a watch on a hung member stays silent). Ends quietly when the watch fails; the
   * caller reads again. Throws the waiting reason when its signal fires.
   */
  async *#watch(
    target: Uint8Array | ReturnType<typeof prefixRange>,
    fromRevision: bigint,
    waiting: Waiting,
    noDelete: boolean,
  ): AsyncGenerator<{ type: "put" | "delete"; kv: KeyValue } | "recheck", void, undefined> {
    const watcher = this.#scope.watchStream.watch(
      target,
      { startRevision: fromRevision, signal: waiting.signal, ...(noDelete ? { noDelete } : {}) },
      this.#scope.keyspace,
    );
    const iterator = watcher[Symbol.asyncIterator]();
    try {
      let pending = iterator.next();
      pending.catch(() => {});
      for (;;) {
        const tick = new AbortController();
        const timer = sleep(RECHECK_MS, tick.signal, waiting.signal).then(() => "recheck" as const);
        let next: Awaited<typeof pending> | "recheck";
        try {
          next = await Promise.race([pending, timer]);
        } catch {
          if (waiting.signal.aborted) throw waiting.reason();
          await sleep(100, waiting.signal);
          return;
        } finally {
          tick.abort();
        }
        if (waiting.signal.aborted) throw waiting.reason();
        if (next === "recheck") {
          yield "recheck";
          continue;
        }
        if (next.done) return;
        pending = iterator.next();
        pending.catch(() => {});
        for (const event of next.value.events) yield event;
      }
    } finally {
      void watcher.close();
    }
  }
}

/**
 * A leader election with the same keys and protocol as Go's `concurrency.Election`, so
 * TypeScript and Go candidates (and `etcdctl elect`) contend in one election. Each candidate
 * writes `<prefix>/<lease id hex>` with its value; the key created first leads; the others wait
 * for the deletion of the key created just before theirs.
 *
 * @example
 * const election = session.election("elect/svc");
 * await election.campaign("host-a:8080");
 * await election.proclaim("host-a:9090");
 * await election.resign();
 */
export class Election extends ElectionObserver {
  readonly session: SessionHandle;
  #key: Uint8Array | undefined;
  #revision: bigint | undefined;
  #leading = false;
  #header: ResponseHeader | undefined;

  /** @internal */
  constructor(session: SessionHandle, prefix: Bytes) {
    super(session.scope, prefix);
    this.session = session;
  }

  /** This candidate's key (set once `campaign` ran), like Go's `Key()`. */
  get key(): Uint8Array | undefined {
    return this.#key;
  }

  /** The key as text; "" before campaigning. */
  get keyText(): string {
    return this.#key ? toText(this.#key) : "";
  }

  /** The create revision of this candidate's key, like Go's `Rev()`. */
  get revision(): bigint | undefined {
    return this.#revision;
  }

  /** True while this candidate leads and its session is alive (as far as this client knows). */
  get leading(): boolean {
    return this.#leading && !this.session.done;
  }

  /** The response header of the campaign or the last proclamation. */
  get header(): ResponseHeader | undefined {
    return this.#header;
  }

  /**
   * Puts this session forward with `value` and waits until it leads. Rejects with
   * `TimeoutError`/`CanceledError` (the candidacy is withdrawn), `SessionExpiredError` when the
   * session ends meanwhile, `NotLeaderError` when its key was deleted by someone else.
   *
   * @example
   * await election.campaign("host-a", { signal });
   */
  async campaign(value: Bytes, options: CallOptions = {}): Promise<this> {
    const bytes = toBytes(value, "value");
    const waiting = this.#waiting(options, "campaign");
    const scope = this.session.scope;
    try {
      const key = sessionKey(this.prefix, this.session.id);
      const result = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
        scope.kv.txn(
          {
            compare: [compare.createRevision(key, "=", 0)],
            success: [op.put(key, bytes, { lease: this.session.id })],
            failure: [op.get(key)],
          },
          o,
        ),
      );
      const existing = result.succeeded ? undefined : (result.results[0] as RangeResult).kvs[0];
      const revision = existing ? existing.createRevision : result.revision;
      this.#key = key;
      this.#revision = revision;
      this.#leading = false;
      this.#header = result.header;
      try {
        if (existing && !sameBytes(existing.value, bytes)) await this.#proclaim(bytes, waiting);
        await waitDeletes(scope, this.prefix, revision - 1n, waiting);
        const mine = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
          scope.kv.range(key, { ...o, keysOnly: true }),
        );
        const kv = mine.kvs[0];
        if (!kv || kv.createRevision !== revision) {
          if (this.session.done) throw this.session.endedError();
          throw new NotLeaderError(`candidate key ${this.keyText} was deleted while campaigning`);
        }
        this.#leading = true;
        return this;
      } catch (error) {
        await this.#withdraw(revision);
        throw toEtcdError(error);
      }
    } finally {
      waiting.dispose();
    }
  }

  /**
   * Announces a new value without a new election. Rejects with `NotLeaderError` when this
   * candidate's key is gone (it lost the election or never campaigned).
   *
   * @example
   * await election.proclaim("host-a:9090");
   */
  async proclaim(value: Bytes, options: CallOptions = {}): Promise<void> {
    const bytes = toBytes(value, "value");
    const waiting = this.#waiting(options, "proclaim");
    try {
      await this.#proclaim(bytes, waiting);
    } finally {
      waiting.dispose();
    }
  }

  /**
   * Gives up leadership (or candidacy): deletes this candidate's key, so the next candidate leads.
   * Does nothing when not campaigning.
   *
   * @example
   * await election.resign();
   */
  async resign(options: CallOptions = {}): Promise<void> {
    const revision = this.#revision;
    if (revision === undefined) return;
    this.#reset();
    if (this.session.done) return;
    const waiting = this.#waiting(options, "resign");
    try {
      await this.#deleteKey(revision, waiting);
    } catch (error) {
      // A session that ended takes its key along (revoked, expired, or expiring: orphaned).
      if (this.session.done) return;
      throw error;
    } finally {
      waiting.dispose();
    }
  }

  /**
   * A transaction condition that holds only while this candidate's key is the one it created.
   * Throws `NotLeaderError` when not campaigning.
   *
   * @example
   * await etcd.txn({ compare: [election.isLeader()], success: [op.put("cfg", "v")] });
   */
  isLeader(): Compare {
    if (this.#revision === undefined || this.#key === undefined) {
      throw new NotLeaderError("not campaigning in this election");
    }
    return compare.createRevision(this.#key, "=", this.#revision);
  }

  /**
   * Runs `request` only if this candidate still leads, atomically. Rejects with `NotLeaderError`
   * (nothing applied) otherwise.
   *
   * @example
   * await election.txn({ success: [op.put("cfg/owner", "host-a")] });
   */
  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    if (!this.#leading) throw new NotLeaderError("not the leader of this election");
    const result = await this.session.scope.kv.txn(
      { compare: [this.isLeader()], success: [op.txn(request)] },
      options,
    );
    if (!result.succeeded) {
      this.#reset();
      throw new NotLeaderError(`leadership ${this.keyText} was lost`);
    }
    return result.results[0] as TxnResult;
  }

  /** `await using` resigns. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.resign();
  }

  async #proclaim(value: Uint8Array, waiting: Waiting): Promise<void> {
    const key = this.#key;
    const revision = this.#revision;
    if (key === undefined || revision === undefined) {
      throw new NotLeaderError("not campaigning in this election");
    }
    const result = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
      this.session.scope.kv.txn(
        {
          compare: [compare.createRevision(key, "=", revision)],
          success: [op.put(key, value, { lease: this.session.id })],
        },
        o,
      ),
    );
    if (!result.succeeded) {
      this.#reset();
      throw new NotLeaderError(`candidate key ${toText(key)} is gone`);
    }
    this.#header = result.header;
  }

  #reset(): void {
    this.#revision = undefined;
    this.#leading = false;
  }

  async #withdraw(revision: bigint): Promise<void> {
    this.#reset();
    await removeOwnKey(this.session, this.#key as Uint8Array, revision, "resign");
  }

  #deleteKey(revision: bigint, waiting: Waiting): Promise<void> {
    return deleteOwnKey(this.session, this.#key as Uint8Array, revision, waiting);
  }

  #waiting(options: CallOptions, what: string): Waiting & { dispose(): void } {
    const { signal, reason, dispose } = operationSignal(options, [this.session.signal], what);
    return { signal, reason, dispose, attemptTimeoutMs: this.session.attemptTimeoutMs };
  }
}

function sameKv(a: KeyValue | undefined, b: KeyValue | undefined): boolean {
  if (!a || !b) return a === b;
  return a.modRevision === b.modRevision && sameBytes(a.key, b.key);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
