import type { DescService } from "@bufbuild/protobuf";
import {
  type Client,
  createClient,
  createContextValues,
  type Transport,
} from "@connectrpc/connect";
import {
  Auth,
  Cluster,
  KV as KVService,
  Lease,
  Maintenance,
  Watch,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { Election } from "../../gen/v3electionpb/v3election_pb.ts";
import { Lock } from "../../gen/v3lockpb/v3lock_pb.ts";
import { AuthClient } from "../auth/auth.ts";
import { ClusterClient } from "../cluster/cluster.ts";
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
import { PasswordAuth, StaticToken } from "../connection/auth-token.ts";
import {
  createConnectEndpointTransport,
  createLeanEndpointTransport,
  type TransportFactory,
} from "../connection/endpoint.ts";
import { normalizeEndpoints } from "../connection/endpoints.ts";
import { MemberSync } from "../connection/member-sync.ts";
import { EndpointPool } from "../connection/pool.ts";
import { noAuthKey, PoolTransport } from "../connection/pool-transport.ts";
import type { CallOptions } from "../core/call-options.ts";
import { ClientClosedError, InvalidArgumentError } from "../core/errors.ts";
import { type Bytes, type KeyOrRange, toBytes } from "../core/keys.ts";
import type { Int64 } from "../core/numbers.ts";
import type { KeyValue } from "../kv/key-value.ts";
import { Keyspace } from "../kv/keyspace.ts";
import { type GetOptions, KV, type ListOptions } from "../kv/kv.ts";
import { ReadCoalescer } from "../kv/read-coalescer.ts";
import type {
  CompactResult,
  DeleteResult,
  PutResult,
  RangeResult,
  TxnResult,
} from "../kv/results.ts";
import type { DeleteOptions, PutOptions, RangeOptions, TxnRequest } from "../kv/txn.ts";
import { LeaseClient } from "../lease/lease-client.ts";
import { MaintenanceClient } from "../maintenance/maintenance.ts";
import { WatchStream } from "../watch/watch-stream.ts";
import type { Watcher, WatchOptions } from "../watch/watcher.ts";
import { Namespace } from "./namespace.ts";
import type { EtcdOptions } from "./options.ts";

const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
const DEFAULT_KEEPALIVE_INTERVAL_MS = 30_000;
const MIN_KEEPALIVE_INTERVAL_MS = 10_000;
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_SEND_BYTES = 2 * 1024 * 1024;
const DEFAULT_AUTHENTICATE_TIMEOUT_MS = 30_000;
/** How long `close()` lets tracked closables make their last calls (revoking leases). */
const CLOSE_DEADLINE_MS = 2_000;
const inspect = Symbol.for("nodejs.util.inspect.custom");

/**
 * The generated Connect clients for every etcd service, over the client's endpoints (with its
 * failover, retries, deadlines and auth). For the wire surface the facade does not cover.
 *
 * @example
 * const res = await etcd.raw.maintenance.status({});
 */
export interface RawClients {
  kv: Client<typeof KVService>;
  watch: Client<typeof Watch>;
  lease: Client<typeof Lease>;
  cluster: Client<typeof Cluster>;
  maintenance: Client<typeof Maintenance>;
  auth: Client<typeof Auth>;
  lock: Client<typeof Lock>;
  election: Client<typeof Election>;
}

/**
 * Something the client closes when it closes (watch and keep-alive streams, sessions).
 *
 * @example
 * const untrack = etcd.track({ close: () => controller.abort() });
 */
export interface Closable {
  /** Called once by `etcd.close()`, with what is still usable for last calls. */
  close(closing?: CloseContext): void | Promise<void>;
}

/**
 * What `etcd.close()` hands each tracked `Closable`: the client already refuses its users' calls,
 * but `transport` still carries the closable's last calls (revoking leases, say) until `signal`
 * fires, a short deadline after `close()` began, or every closable is done. Then the connections
 * close.
 *
 * @example
 * etcd.track({
 *   close: (closing) =>
 *     closing && createClient(Lease, closing.transport).leaseRevoke({ ID: id }, { signal: closing.signal }),
 * });
 */
export interface CloseContext {
  readonly transport: Transport;
  readonly signal: AbortSignal;
}

/**
 * An etcd v3 client. Create one per application and share it; `close()` (or `await using`)
 * ends every stream and connection.
 *
 * @example
 * await using etcd = new Etcd({ endpoints: ["http://127.0.0.1:2379"] });
 * await etcd.put("greeting", "hello");
 * console.log((await etcd.get("greeting"))?.text);
 */
export class Etcd {
  /** Key-value operations (also available directly on the client). */
  readonly kv: KV;
  /** The transport every call goes through (pool of endpoints with retries). */
  readonly transport: PoolTransport;
  /** Carries the closables' last calls while `close()` runs, after `transport` refuses calls. */
  readonly #lastCalls: PoolTransport;
  readonly #pool: EndpointPool;
  readonly #members: MemberSync;
  readonly #closables = new Set<Closable>();
  #raw: RawClients | undefined;
  #watchStream: WatchStream | undefined;
  #cluster: ClusterClient | undefined;
  #maintenance: MaintenanceClient | undefined;
  #auth: AuthClient | undefined;
  readonly #username: string | undefined;
  #lease: LeaseClient | undefined;
  #lockService: LockService | undefined;
  #electionService: ElectionService | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: EtcdOptions) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError("Etcd expects an options object with endpoints");
    }
    const endpoints = normalizeEndpoints(options.endpoints);
    const keepAliveIntervalMs = options.keepAliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS;
    if (keepAliveIntervalMs < MIN_KEEPALIVE_INTERVAL_MS) {
      throw new InvalidArgumentError(
        `keepAliveIntervalMs must be >= ${MIN_KEEPALIVE_INTERVAL_MS}: etcd answers faster pings with GOAWAY too_many_pings`,
      );
    }
    if (options.token !== undefined && options.username !== undefined) {
      throw new InvalidArgumentError("give either token or username/password, not both");
    }
    this.#pool = new EndpointPool(
      endpoints,
      {
        tls: options.tls,
        interceptors: options.interceptors ?? [],
        keepAliveIntervalMs,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
        maxReceiveBytes: options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
        maxSendBytes: options.maxSendBytes ?? DEFAULT_MAX_SEND_BYTES,
      },
      transportFactory(options.transport),
    );
    const transportOptions = {
      dialTimeoutMs: options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      clientCert: options.tls?.cert !== undefined,
    };
    // Made first: the pool probes endpoints through the transport made last.
    this.#lastCalls = new PoolTransport(this.#pool, transportOptions);
    this.transport = new PoolTransport(this.#pool, {
      ...transportOptions,
      defaultTimeoutMs: options.timeoutMs,
    });
    this.#members = new MemberSync(
      this.#pool,
      createClient(Cluster, this.transport),
      options.autoSyncIntervalMs,
    );
    this.track(this.#members);
    this.#username = options.username;
    this.transport.auth = tokenProvider(options, this.transport);
    this.#lastCalls.auth = this.transport.auth;
    const kvClient = createClient(KVService, this.transport);
    this.kv = new KV(kvClient, new Keyspace(), {
      coalescer: new ReadCoalescer(kvClient),
      byDefault: options.coalesceReads === true,
    });
  }

  /**
   * Cluster membership: list, add (also as learner), remove, update, promote.
   *
   * @example
   * const { members } = await etcd.cluster.memberList();
   */
  get cluster(): ClusterClient {
    this.#cluster ??= new ClusterClient(createClient(Cluster, this.transport));
    return this.#cluster;
  }

  /**
   * Status per endpoint, alarms, defragmentation, hashes, leader transfer, snapshots.
   *
   * @example
   * await etcd.maintenance.snapshot("/backups/etcd.db");
   */
  get maintenance(): MaintenanceClient {
    this.#maintenance ??= new MaintenanceClient(createClient(Maintenance, this.transport), () =>
      this.#pool.endpoints.map((e) => e.url),
    );
    return this.#maintenance;
  }

  /**
   * Authentication admin: enable/disable, users, roles and their permissions.
   *
   * @example
   * await etcd.auth.roleGrantPermission("reader", prefix("app/"), "read");
   */
  get auth(): AuthClient {
    this.#auth ??= new AuthClient(createClient(Auth, this.transport));
    return this.#auth;
  }

  /**
   * A view of this client with every key under `prefix` (added on the way in, removed on the
   * way out); ranges and `all()` stay inside it.
   *
   * @example
   * const app = etcd.namespace("app/");
   * await app.put("a", "1"); // stores "app/a"
   */
  namespace(prefix: Bytes): Namespace {
    return new Namespace(this, new Keyspace(toBytes(prefix, "prefix").slice()));
  }

  /** The generated Connect clients, for the full wire surface. */
  get raw(): RawClients {
    if (!this.#raw) {
      const t = this.transport;
      this.#raw = {
        kv: createClient(KVService, t),
        watch: createClient(Watch, t),
        lease: createClient(Lease, t),
        cluster: createClient(Cluster, t),
        maintenance: createClient(Maintenance, t),
        auth: createClient(Auth, t),
        lock: createClient(Lock, t),
        election: createClient(Election, t),
      };
    }
    return this.#raw;
  }

  /** The endpoints in use, normalized (member discovery may change them: see `sync()`). */
  get endpoints(): readonly string[] {
    return this.#pool.urls;
  }

  /**
   * Replaces the endpoints with the client URLs of the cluster's voting members (learners left
   * out), from MemberList; resolves with the endpoints in use. `autoSyncIntervalMs` does this
   * periodically.
   *
   * @example
   * const endpoints = await etcd.sync();
   */
  sync(options?: CallOptions): Promise<string[]> {
    if (this.closed) return Promise.reject(new ClientClosedError("etcd client is closed"));
    return this.#members.sync(options);
  }

  /**
   * Leases: grant, revoke, time-to-live, list, renew; kept-alive leases share one stream.
   *
   * @example
   * const lease = await etcd.lease.grant(10, { keepAlive: true });
   */
  get lease(): LeaseClient {
    this.#lease ??= new LeaseClient(this, new Keyspace());
    return this.#lease;
  }

  /**
   * A session: a lease (default TTL 60 s) kept alive until `close()`, the identity behind
   * mutexes and elections with Go's key formats. Tells when its lease is lost.
   *
   * @example
   * await using session = await etcd.session({ ttl: 10 });
   * await session.mutex("locks/job").lock();
   */
  session(options: SessionOptions = {}): Promise<Session> {
    return openSession({ etcd: this, kv: this.kv, keyspace: new Keyspace() }, options);
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
    return new ElectionObserver({ etcd: this, kv: this.kv, keyspace: new Keyspace() }, prefix);
  }

  /**
   * etcd's server-side lock service (v3lock), typed.
   *
   * @example
   * const { key } = await etcd.lockService.lock("jobs", { lease: session });
   */
  get lockService(): LockService {
    this.#lockService ??= new LockService(this, new Keyspace());
    return this.#lockService;
  }

  /**
   * etcd's server-side election service (v3election), typed.
   *
   * @example
   * const leader = await etcd.electionService.campaign("svc", "host-a", { lease: session });
   */
  get electionService(): ElectionService {
    this.#electionService ??= new ElectionService(this, new Keyspace());
    return this.#electionService;
  }

  /**
   * A generated Connect client for any service, over this client's endpoints.
   *
   * @example
   * const maintenance = etcd.client(Maintenance);
   */
  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.transport);
  }

  /**
   * The client's one Watch stream, shared by every watcher (for APIs built on top, such as
   * namespaces: `etcd.watchStream.watch(target, options, keyspace)`).
   */
  get watchStream(): WatchStream {
    if (!this.#watchStream) {
      const stream = new WatchStream(createClient(Watch, this.transport), this.transport);
      this.#watchStream = stream;
      this.track(stream);
      if (this.closed) stream.close();
    }
    return this.#watchStream;
  }

  /**
   * Watches a key or range: iterate the watcher for batches (all events of one revision; break,
   * `close()`, `await using` or the signal cancel it on the server), or `watcher.events()` for
   * single events. Every watcher of the client shares one stream and resumes across failures
   * with no event lost or repeated. See `Watcher` and `WatchOptions`.
   *
   * @example
   * for await (const batch of etcd.watch(prefix("cfg/"), { startRevision: rev + 1n })) {
   *   for (const event of batch.events) console.log(event.type, event.kv.keyText);
   * }
   */
  watch(target: KeyOrRange, options: WatchOptions = {}): Watcher {
    return this.watchStream.watch(target, options, new Keyspace());
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Registers something to close with the client; returns a function that unregisters it. */
  track(closable: Closable): () => void {
    this.#closables.add(closable);
    return () => this.#closables.delete(closable);
  }

  /** One key, or undefined. @example const kv = await etcd.get("a"); */
  get(key: Bytes, options?: GetOptions): Promise<KeyValue | undefined> {
    return this.kv.get(key, options);
  }

  /** Keys in a range. @example await etcd.range(prefix("a/"), { limit: 10 }) */
  range(target: KeyOrRange, options?: RangeOptions & CallOptions): Promise<RangeResult> {
    return this.kv.range(target, options);
  }

  /** Every key of a range, paged, at one revision. @example for await (const kv of etcd.list(prefix("a/"))) {} */
  list(target: KeyOrRange, options?: ListOptions): AsyncGenerator<KeyValue, void, undefined> {
    return this.kv.list(target, options);
  }

  /** Writes a key. @example await etcd.put("a", "1") */
  put(key: Bytes, value: Bytes, options?: PutOptions & CallOptions): Promise<PutResult> {
    return this.kv.put(key, value, options);
  }

  /** Deletes a key or range. @example await etcd.delete(prefix("tmp/")) */
  delete(target: KeyOrRange, options?: DeleteOptions & CallOptions): Promise<DeleteResult> {
    return this.kv.delete(target, options);
  }

  /** Runs a transaction. @example await etcd.txn({ compare: [...], success: [...] }) */
  txn(request: TxnRequest, options?: CallOptions): Promise<TxnResult> {
    return this.kv.txn(request, options);
  }

  /** Compacts the history before `revision`. @example await etcd.compact(100n) */
  compact(revision: Int64, options?: { physical?: boolean } & CallOptions): Promise<CompactResult> {
    return this.kv.compact(revision, options);
  }

  /**
   * Ends every watch, keep-alive and session of this client and drops its connections. Leases
   * this client granted and still keeps alive, and the leases of its sessions, are revoked
   * first (their keys and locks go at once), for at most 2 s; leases adopted with
   * `lease.keepAlive(id)` are left to expire. Calls made once `close()` has begun reject with
   * `ClientClosedError`. Idempotent.
   *
   * @example
   * await etcd.close();
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.transport.closed = true;
      this.#closed = this.#shutdown();
    }
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new ClientClosedError("etcd client is closed")),
      CLOSE_DEADLINE_MS,
    );
    const context: CloseContext = { transport: this.#lastCalls, signal: deadline.signal };
    const closing = [...this.#closables].map(async (c) => {
      try {
        await c.close(context);
      } catch {
        // Closing is best effort: the connections go away below in any case.
      }
    });
    this.#closables.clear();
    const expired = new Promise((resolve) =>
      deadline.signal.addEventListener("abort", resolve, { once: true }),
    );
    try {
      await Promise.race([Promise.all(closing), expired]);
    } finally {
      clearTimeout(timer);
      deadline.abort(new ClientClosedError("etcd client is closed"));
      this.#lastCalls.closed = true;
      this.#pool.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Endpoints and user name; never a password or token. */
  toJSON(): { endpoints: string[]; username?: string; closed: boolean } {
    return {
      endpoints: [...this.endpoints],
      ...(this.#username === undefined ? {} : { username: this.#username }),
      closed: this.closed,
    };
  }

  [inspect](): string {
    const user =
      this.#username === undefined ? "" : `, username: ${JSON.stringify(this.#username)}`;
    return `Etcd { endpoints: ${JSON.stringify(this.endpoints)}${user}, closed: ${this.closed} }`;
  }
}

/** The token source the options ask for: password login, a fixed token, or none. */
function tokenProvider(options: EtcdOptions, transport: PoolTransport) {
  const { username, password, token } = options;
  if (username !== undefined) {
    if (typeof username !== "string" || username.length === 0) {
      throw new InvalidArgumentError("username must be a non-empty string");
    }
    if (typeof password !== "string") {
      throw new InvalidArgumentError("password must be a string when username is given");
    }
    const auth = createClient(Auth, transport);
    const contextValues = createContextValues().set(noAuthKey, true);
    const timeoutMs = options.timeoutMs || DEFAULT_AUTHENTICATE_TIMEOUT_MS;
    return new PasswordAuth(username, password, async (name, secret, signal) => {
      const call = signal ? { contextValues, timeoutMs, signal } : { contextValues, timeoutMs };
      return (await auth.authenticate({ name, password: secret }, call)).token;
    });
  }
  if (password !== undefined) throw new InvalidArgumentError("password needs a username");
  if (token !== undefined) {
    if (typeof token !== "string" || token.length === 0) {
      throw new InvalidArgumentError("token must be a non-empty string");
    }
    return new StaticToken(token);
  }
  return undefined;
}

function transportFactory(choice: EtcdOptions["transport"]): TransportFactory {
  if (typeof choice === "function") return choice;
  if (choice === undefined || choice === "lean") return createLeanEndpointTransport;
  if (choice === "connect") return createConnectEndpointTransport;
  throw new InvalidArgumentError(`unknown transport "${String(choice)}"`);
}
