import type { Transport } from "@connectrpc/connect";
import { type CacheOptions, WatchCache } from "../cache/watch-cache.ts";
import { ElectionObserver } from "../concurrency/election.ts";
import { ElectionService } from "../concurrency/election-service.ts";
import { LockService } from "../concurrency/lock-service.ts";
import { Barrier } from "../concurrency/recipes/barrier.ts";
import { PriorityQueue } from "../concurrency/recipes/priority-queue.ts";
import { Queue } from "../concurrency/recipes/queue.ts";
import type { ConcurrencyScope } from "../concurrency/scope.ts";
import { openSession, type Session, type SessionOptions } from "../concurrency/session.ts";
import {
  runStm,
  type StmOptions,
  type StmResult,
  type StmTransaction,
} from "../concurrency/stm.ts";
import { type ConfigOptions, LiveConfig } from "../config/live-config.ts";
import type { InferOutput, StandardSchema } from "../config/standard-schema.ts";
import type { CallOptions } from "../core/call-options.ts";
import type { Bytes, KeyOrRange, KeyRange } from "../core/keys.ts";
import type { Int64 } from "../core/numbers.ts";
import type { ServiceEndpoint } from "../discovery/endpoint-format.ts";
import { type RegisterOptions, Registration } from "../discovery/registration.ts";
import { type DiscoverOptions, ServiceDiscovery } from "../discovery/service-discovery.ts";
import type { KeyValue } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import type { CompactOptions, GetOptions, KV, ListOptions } from "../kv/kv.ts";
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
import type { ClientCore } from "./client-core.ts";

/**
 * Everything that works on keys, written once for the client and its namespaces: key-value
 * calls, watches, leases, sessions (mutexes, elections), STM and the lock and election services.
 * `Etcd` is the view of the whole key space; `etcd.namespace(prefix)` gives the view of a prefix.
 *
 * @example
 * async function count(view: KeyspaceView) {
 *   return (await view.range(all(), { countOnly: true })).count;
 * }
 * await count(etcd);
 * await count(etcd.namespace("app/"));
 */
export class KeyspaceView {
  /** Key-value operations (also available directly on the view). */
  readonly kv: KV;
  readonly #core: ClientCore;
  readonly #keyspace: Keyspace;
  #lease: LeaseClient | undefined;
  #lockService: LockService | undefined;
  #electionService: ElectionService | undefined;

  /** @internal */
  constructor(core: ClientCore, kv: KV, keyspace: Keyspace) {
    this.#core = core;
    this.kv = kv;
    this.#keyspace = keyspace;
  }

  /** @internal The client's shared connection state. */
  get core(): ClientCore {
    return this.#core;
  }

  /** @internal How this view maps caller keys to stored keys. */
  get keyspace(): Keyspace {
    return this.#keyspace;
  }

  /**
   * Leases: grant, revoke, time-to-live, list, renew; kept-alive leases share one stream per
   * client. In a namespace, `timeToLive(id, { keys: true })` lists only the namespace's keys,
   * without the prefix.
   *
   * @example
   * const lease = await etcd.lease.grant(10, { keepAlive: true });
   */
  get lease(): LeaseClient {
    if (this.#keyspace.isRoot) return this.#core.lease;
    this.#lease ??= new LeaseClient(this.#core, this.#keyspace);
    return this.#lease;
  }

  /**
   * A session: a lease (default TTL 60 s) kept alive until `close()`, the identity behind
   * mutexes and elections with Go's key formats (inside a namespace, their keys are under its
   * prefix). Tells when its lease is lost.
   *
   * @example
   * await using session = await etcd.session({ ttl: 10 });
   * await session.mutex("locks/job").lock();
   */
  session(options: SessionOptions = {}): Promise<Session> {
    return openSession(this.#scope(), options);
  }

  /**
   * Runs `apply` as a software transaction (Go's STM): reads and buffered writes committed
   * atomically, run again on conflict, at the isolation level asked for (default
   * serializable snapshot).
   *
   * @example
   * await etcd.stm(async (tx) => {
   *   tx.put("b", String(Number(await tx.text("a")) + 1));
   * });
   */
  stm<T>(
    apply: (tx: StmTransaction) => T | Promise<T>,
    options: StmOptions = {},
  ): Promise<StmResult<T>> {
    return runStm(this.kv, apply, options);
  }

  /**
   * Observes an election without taking part (leader, and every change). To campaign, use
   * `session.election(prefix)`.
   *
   * @example
   * for await (const leader of etcd.election("elect/svc").observe()) console.log(leader.text);
   */
  election(prefix: Bytes): ElectionObserver {
    return new ElectionObserver(this.#scope(), prefix);
  }

  /**
   * A FIFO queue under `prefix`, with Go's `recipe.Queue` keys (`<prefix>/<unix nanos>`), so Go
   * programs enqueue and dequeue on the same one. Each item goes to one consumer.
   *
   * @example
   * await etcd.queue("jobs").enqueue("build #42");
   * const item = await etcd.queue("jobs").dequeue();
   */
  queue(prefix: Bytes): Queue {
    return new Queue(this.#scope(), prefix);
  }

  /**
   * A priority queue under `prefix`, with Go's `recipe.PriorityQueue` keys
   * (`<prefix>/<priority 5 digits>/<sequence 16 digits>`): lower numbers come out first.
   *
   * @example
   * await etcd.priorityQueue("tasks").enqueue("urgent", 0);
   */
  priorityQueue(prefix: Bytes): PriorityQueue {
    return new PriorityQueue(this.#scope(), prefix);
  }

  /**
   * A barrier on `key`, with Go's `recipe.Barrier` protocol: up while the key exists.
   *
   * @example
   * await etcd.barrier("deploy/gate").wait();
   */
  barrier(key: Bytes): Barrier {
    return new Barrier(this.#scope(), key);
  }

  /**
   * etcd's server-side lock service (v3lock), typed; lock names inside the view.
   *
   * @example
   * const { key } = await etcd.lockService.lock("jobs", { lease: session });
   */
  get lockService(): LockService {
    this.#lockService ??= new LockService(this.#transport, this.#keyspace);
    return this.#lockService;
  }

  /**
   * etcd's server-side election service (v3election), typed; election names inside the view.
   *
   * @example
   * const leader = await etcd.electionService.campaign("svc", "host-a", { lease: session });
   */
  get electionService(): ElectionService {
    this.#electionService ??= new ElectionService(this.#transport, this.#keyspace);
    return this.#electionService;
  }

  /**
   * Watches a key or range: iterate the watcher for batches (all events of one revision; break,
   * `close()`, `await using` or the signal cancel it on the server), or `watcher.events()` for
   * single events. The client's watchers share its Watch streams and resume across failures
   * with no event lost or repeated. See `Watcher` and `WatchOptions`.
   *
   * @example
   * for await (const batch of etcd.watch(prefix("cfg/"), { startRevision: rev + 1n })) {
   *   for (const event of batch.events) console.log(event.type, event.kv.keyText);
   * }
   */
  watch(target: KeyOrRange, options: WatchOptions = {}): Watcher {
    return this.#core.watchStream.watch(target, options, this.#keyspace);
  }

  /**
   * An in-memory copy of a key or range kept up to date by one watch: listed at one revision,
   * watched from the next, read from memory with the revision it reflects, relisted (and the
   * difference delivered as one change) after a compaction or a lost watch. Resolves once the
   * first listing is in and the watch is created. See `WatchCache`.
   *
   * @example
   * await using cache = await etcd.cache(prefix("cfg/"));
   * cache.get("cfg/a")?.text;
   */
  cache(target: KeyOrRange, options?: CacheOptions): Promise<WatchCache> {
    return WatchCache.open(this, target, options);
  }

  /**
   * A typed configuration that follows etcd: one key's value, or (for a range) a map of every
   * key's value, parsed as JSON (or with `parse`) and checked with a Standard Schema validator
   * (zod, valibot, arktype, or your own object). A bad value keeps the last good one in place
   * and goes to `onError`; the next good value takes over. See `LiveConfig`.
   *
   * @example
   * const Settings = z.object({ workers: z.number().int() });
   * await using settings = await etcd.config("cfg/app", Settings, { onError: console.warn });
   * settings.current?.workers;
   */
  config<S extends StandardSchema>(
    key: Bytes,
    schema: S,
    options?: ConfigOptions,
  ): Promise<LiveConfig<InferOutput<S>>>;
  config<S extends StandardSchema>(
    range: KeyRange,
    schema: S,
    options?: ConfigOptions,
  ): Promise<LiveConfig<ReadonlyMap<string, InferOutput<S>>>>;
  config<S extends StandardSchema>(
    target: KeyOrRange,
    schema: S,
    options?: ConfigOptions,
  ): Promise<LiveConfig<unknown>> {
    return LiveConfig.open(this, target, schema, options);
  }

  /**
   * Registers an instance of a service, in the format of Go's `client/v3/naming/endpoints`
   * (key `<service>/<addr>`, JSON value with Op, Addr and Metadata), on a kept-alive lease; it
   * registers again on a new lease if that lease is lost. See `Registration`.
   *
   * @example
   * await using me = await etcd.register("svc/api", { addr: "10.0.0.7:8080", metadata: { zone: "b" } });
   */
  register(
    service: string,
    endpoint: ServiceEndpoint,
    options?: RegisterOptions,
  ): Promise<Registration> {
    return Registration.open(this, service, endpoint, options);
  }

  /**
   * Follows the endpoints of a service (Go's `client/v3/naming/endpoints` format) through a
   * cache of `<service>/`. See `ServiceDiscovery`.
   *
   * @example
   * await using api = await etcd.discover("svc/api");
   * [...api.endpoints.values()].map((e) => e.addr);
   */
  discover(service: string, options?: DiscoverOptions): Promise<ServiceDiscovery> {
    return ServiceDiscovery.open(this, service, options);
  }

  /**
   * One key, or undefined.
   *
   * @example
   * const kv = await etcd.get("cfg/a");
   */
  get(key: Bytes, options?: GetOptions): Promise<KeyValue | undefined> {
    return this.kv.get(key, options);
  }

  /**
   * Keys in a range, with the revision they were read at.
   *
   * @example
   * const { kvs, more } = await etcd.range(prefix("cfg/"), { limit: 10 });
   */
  range(target: KeyOrRange, options?: RangeOptions & CallOptions): Promise<RangeResult> {
    return this.kv.range(target, options);
  }

  /**
   * Every key of a range, paged, all pages read at one revision.
   *
   * @example
   * for await (const kv of etcd.list(prefix("cfg/"), { pageSize: 500 })) console.log(kv.keyText);
   */
  list(target: KeyOrRange, options?: ListOptions): AsyncGenerator<KeyValue, void, undefined> {
    return this.kv.list(target, options);
  }

  /**
   * Writes a key.
   *
   * @example
   * const { header } = await etcd.put("cfg/a", "1");
   */
  put(key: Bytes, value: Bytes, options?: PutOptions & CallOptions): Promise<PutResult> {
    return this.kv.put(key, value, options);
  }

  /**
   * Deletes a key or a range.
   *
   * @example
   * const { deleted } = await etcd.delete(prefix("tmp/"));
   */
  delete(target: KeyOrRange, options?: DeleteOptions & CallOptions): Promise<DeleteResult> {
    return this.kv.delete(target, options);
  }

  /**
   * Runs a transaction: `success` if every compare holds, else `failure`.
   *
   * @example
   * await etcd.txn({
   *   compare: [compare.version("cfg/a", "=", 0)],
   *   success: [op.put("cfg/a", "1")],
   * });
   */
  txn(request: TxnRequest, options?: CallOptions): Promise<TxnResult> {
    return this.kv.txn(request, options);
  }

  /**
   * Compacts the history before `revision` (for the whole store: revisions are not per
   * namespace).
   *
   * @example
   * await etcd.compact(header.revision, { physical: true });
   */
  compact(revision: Int64, options?: CompactOptions): Promise<CompactResult> {
    return this.kv.compact(revision, options);
  }

  get #transport(): Transport {
    return this.#core.transport;
  }

  #scope(): ConcurrencyScope {
    const core = this.#core;
    return {
      kv: this.kv,
      keyspace: this.#keyspace,
      lease: this.lease,
      // A getter: the Watch stream is made when a waiter first watches, not with the session.
      get watchStream() {
        return core.watchStream;
      },
    };
  }
}
