import { ElectionObserver } from "../concurrency/election.ts";
import { ElectionService } from "../concurrency/election-service.ts";
import { LockService } from "../concurrency/lock-service.ts";
import { openSession, type Session, type SessionOptions } from "../concurrency/session.ts";
import {
  runStm,
  type StmOptions,
  type StmResult,
  type StmTransaction,
} from "../concurrency/stm.ts";
import type { CallOptions } from "../core/call-options.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { type Bytes, type KeyOrRange, toBytes, toText } from "../core/keys.ts";
import type { Int64 } from "../core/numbers.ts";
import type { KeyValue } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import type { GetOptions, KV, ListOptions } from "../kv/kv.ts";
import type {
  CompactResult,
  DeleteResult,
  PutResult,
  RangeResult,
  TxnResult,
} from "../kv/results.ts";
import type { DeleteOptions, PutOptions, RangeOptions, TxnRequest } from "../kv/txn.ts";
import { LeaseClient } from "../lease/lease-client.ts";
import type { Watcher, WatchOptions } from "../watch/watcher.ts";
import type { Etcd } from "./etcd.ts";

const inspect = Symbol.for("nodejs.util.inspect.custom");

/**
 * A view of the client in which every key is under a prefix: keys are prefixed on the way in
 * and the prefix is removed on the way out, so code written against `Etcd` works unchanged on
 * its own part of the key space. Ranges stay inside the prefix: `all()` means every key of the
 * namespace, `fromKey(k)` stops at the namespace's end. Shares the client's connections; closing
 * the client ends it.
 *
 * A namespace is a convenience, not a security boundary: for that, give each application its
 * own user with permissions on its prefix only (`etcd.auth.roleGrantPermission`).
 *
 * @example
 * const app = etcd.namespace("app/");
 * await app.put("a", "1");                 // stores "app/a"
 * (await app.get("a"))?.keyText;           // "a"
 * const jobs = app.namespace("jobs/");     // keys under "app/jobs/"
 */
export class Namespace {
  /** The full prefix of this namespace's keys, as stored. */
  readonly prefix: Uint8Array;
  /** Key-value operations inside the namespace. */
  readonly kv: KV;
  /** The keyspace mapping caller keys to stored keys (for APIs built on top). */
  readonly keyspace: Keyspace;
  /** The client this namespace belongs to. */
  readonly etcd: Etcd;
  #lease: LeaseClient | undefined;
  #lockService: LockService | undefined;
  #electionService: ElectionService | undefined;

  constructor(etcd: Etcd, keyspace: Keyspace) {
    if (keyspace.isRoot) throw new InvalidArgumentError("a namespace needs a non-empty prefix");
    this.etcd = etcd;
    this.keyspace = keyspace;
    this.prefix = keyspace.prefix;
    this.kv = etcd.kv.withKeyspace(keyspace);
  }

  /**
   * Leases, as on the client (leases are not per namespace; they share the client's keep-alive
   * stream), except that `timeToLive(id, { keys: true })` lists only this namespace's keys,
   * without the prefix.
   *
   * @example
   * const lease = await ns.lease.grant(10);
   * await ns.put("presence/me", "here", { lease: lease.id });
   */
  get lease(): LeaseClient {
    this.#lease ??= new LeaseClient(this.etcd, this.keyspace);
    return this.#lease;
  }

  /**
   * A session whose mutexes and elections live in this namespace: `session.mutex("locks/job")`
   * uses the keys "<prefix>locks/job/<lease>", so only clients of the same namespace (or Go
   * programs using the full prefix) contend with it.
   *
   * @example
   * await using session = await ns.session({ ttl: 10 });
   * await session.mutex("locks/job").lock();
   */
  session(options: SessionOptions = {}): Promise<Session> {
    return openSession({ etcd: this.etcd, kv: this.kv, keyspace: this.keyspace }, options);
  }

  /**
   * A software transaction over this namespace's keys (see `Etcd.stm`).
   *
   * @example
   * await ns.stm(async (tx) => tx.put("b", String(Number(await tx.text("a")) + 1)));
   */
  stm<T>(
    apply: (tx: StmTransaction) => T | Promise<T>,
    options: StmOptions = {},
  ): Promise<StmResult<T>> {
    return runStm(this.kv, apply, options);
  }

  /**
   * Observes an election of this namespace (see `Etcd.election`).
   *
   * @example
   * for await (const leader of ns.election("elect/svc").observe()) console.log(leader.text);
   */
  election(prefix: Bytes): ElectionObserver {
    return new ElectionObserver({ etcd: this.etcd, kv: this.kv, keyspace: this.keyspace }, prefix);
  }

  /**
   * etcd's server-side lock service with lock names inside this namespace.
   *
   * @example
   * const { key } = await ns.lockService.lock("jobs", { lease: session });
   */
  get lockService(): LockService {
    this.#lockService ??= new LockService(this.etcd, this.keyspace);
    return this.#lockService;
  }

  /**
   * etcd's server-side election service with election names inside this namespace.
   *
   * @example
   * await ns.electionService.campaign("svc", "host-a", { lease: session });
   */
  get electionService(): ElectionService {
    this.#electionService ??= new ElectionService(this.etcd, this.keyspace);
    return this.#electionService;
  }

  /**
   * A namespace nested in this one: its prefix follows this one's.
   *
   * @example
   * etcd.namespace("app/").namespace("jobs/").prefix; // bytes of "app/jobs/"
   */
  namespace(prefix: Bytes): Namespace {
    const bytes = toBytes(prefix, "prefix");
    if (bytes.length === 0) throw new InvalidArgumentError("namespace prefix must not be empty");
    return new Namespace(this.etcd, this.keyspace.child(bytes.slice()));
  }

  /** One key, or undefined. @example const kv = await ns.get("a"); */
  get(key: Bytes, options?: GetOptions): Promise<KeyValue | undefined> {
    return this.kv.get(key, options);
  }

  /** Keys in a range of the namespace. @example await ns.range(all(), { countOnly: true }) */
  range(target: KeyOrRange, options?: RangeOptions & CallOptions): Promise<RangeResult> {
    return this.kv.range(target, options);
  }

  /** Every key of a range, paged, at one revision. @example for await (const kv of ns.list(all())) {} */
  list(target: KeyOrRange, options?: ListOptions): AsyncGenerator<KeyValue, void, undefined> {
    return this.kv.list(target, options);
  }

  /** Writes a key. @example await ns.put("a", "1") */
  put(key: Bytes, value: Bytes, options?: PutOptions & CallOptions): Promise<PutResult> {
    return this.kv.put(key, value, options);
  }

  /** Deletes a key or a range of the namespace. @example await ns.delete(all()) */
  delete(target: KeyOrRange, options?: DeleteOptions & CallOptions): Promise<DeleteResult> {
    return this.kv.delete(target, options);
  }

  /** A transaction whose compares and ops use the namespace's keys. @example await ns.txn({ compare: [], success: [op.put("a", "1")] }) */
  txn(request: TxnRequest, options?: CallOptions): Promise<TxnResult> {
    return this.kv.txn(request, options);
  }

  /**
   * Compacts the whole store's history (revisions are not per namespace).
   *
   * @example
   * await ns.compact(100n);
   */
  compact(revision: Int64, options?: { physical?: boolean } & CallOptions): Promise<CompactResult> {
    return this.kv.compact(revision, options);
  }

  /**
   * Watches a key or range of the namespace (keys in events come without the prefix); shares
   * the client's Watch stream. See `Etcd.watch`.
   *
   * @example
   * for await (const batch of ns.watch(all())) for (const e of batch.events) console.log(e.kv.keyText);
   */
  watch(target: KeyOrRange, options: WatchOptions = {}): Watcher {
    return this.etcd.watchStream.watch(target, options, this.keyspace);
  }

  toJSON(): { prefix: string } {
    return { prefix: toText(this.prefix) };
  }

  [inspect](): string {
    return `Namespace { prefix: ${JSON.stringify(toText(this.prefix))} }`;
  }
}
