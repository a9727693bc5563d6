import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
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
import type { CallOptions } from "../core/call-options.ts";
import type { Closable } from "../core/closable.ts";
import { type Bytes, toBytes } from "../core/keys.ts";
import { Keyspace } from "../kv/keyspace.ts";
import { MaintenanceClient } from "../maintenance/maintenance.ts";
import type { WatchStreams } from "../watch/watch-streams.ts";
import { ClientCore } from "./client-core.ts";
import { KeyspaceView } from "./keyspace-view.ts";
import { Namespace } from "./namespace.ts";
import type { EtcdOptions } from "./options.ts";
import type { Platform } from "./platform.ts";
import type { RawClients } from "./raw-clients.ts";

const inspect = Symbol.for("nodejs.util.inspect.custom");

/**
 * What `Etcd` is on every runtime: the Node entry's and the web entry's `Etcd` differ only in
 * the transports they bring. Key calls (`get`, `put`, `watch`, `lease`, `session`, ...)
 * come from `KeyspaceView`, shared with namespaces; the client adds the cluster-wide services.
 * Type parameters and fields that accept either entry's client take an `EtcdClient`.
 *
 * @example
 * await using etcd = new Etcd({ endpoints: ["http://127.0.0.1:2379"] });
 * await etcd.put("greeting", "hello");
 * console.log((await etcd.get("greeting"))?.text);
 */
export class EtcdClient extends KeyspaceView {
  #raw: RawClients | undefined;
  #cluster: ClusterClient | undefined;
  #maintenance: MaintenanceClient | undefined;
  #auth: AuthClient | undefined;

  readonly #platform: Platform;

  /** @internal The entry's `Etcd` passes what its runtime provides (transports, snapshot I/O). */
  protected constructor(options: EtcdOptions, platform: Platform) {
    const core = new ClientCore(options, platform);
    super(core, core.kv, new Keyspace());
    this.#platform = platform;
  }

  /**
   * The transport every call goes through: the endpoint pool, with failover, retries,
   * deadlines and auth. For generated clients of your own (`createClient(Service, etcd.transport)`).
   *
   * @example
   * const kv = createClient(KV, etcd.transport);
   */
  get transport(): Transport {
    return this.core.transport;
  }

  /**
   * Cluster membership: list, add (also as learner), remove, update, promote.
   *
   * @example
   * const { members } = await etcd.cluster.memberList();
   */
  get cluster(): ClusterClient {
    this.#cluster ??= new ClusterClient(createClient(Cluster, this.core.transport));
    return this.#cluster;
  }

  /**
   * Status per endpoint, alarms, defragmentation, hashes, leader transfer, snapshots.
   *
   * @example
   * await etcd.maintenance.snapshot("/backups/etcd.db");
   */
  get maintenance(): MaintenanceClient {
    this.#maintenance ??= new MaintenanceClient(
      createClient(Maintenance, this.core.transport),
      () => this.core.endpoints,
      this.#platform.snapshotIo,
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
    this.#auth ??= new AuthClient(createClient(Auth, this.core.transport));
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
    return Namespace.under(this, toBytes(prefix, "prefix"));
  }

  /**
   * The generated Connect clients for every etcd service, over the client's endpoints.
   *
   * @example
   * const { header } = await etcd.raw.maintenance.status({});
   */
  get raw(): RawClients {
    if (!this.#raw) {
      const t = this.core.transport;
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

  /**
   * A generated Connect client for any service, over this client's endpoints.
   *
   * @example
   * import { Maintenance } from "etcd-connect/proto";
   * const { version } = await etcd.client(Maintenance).status({});
   */
  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.core.transport);
  }

  /**
   * The endpoints in use, normalized (member discovery may change them: see `sync()`).
   *
   * @example
   * console.log(etcd.endpoints); // ["http://127.0.0.1:2379"]
   */
  get endpoints(): readonly string[] {
    return this.core.endpoints;
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
    return this.core.sync(options);
  }

  /** @internal The client's Watch streams, shared by every watcher. */
  get watchStream(): WatchStreams {
    return this.core.watchStream;
  }

  /**
   * True after `close()`.
   *
   * @example
   * if (!etcd.closed) await etcd.put("k", "v");
   */
  get closed(): boolean {
    return this.core.closed;
  }

  /**
   * Registers something to close with the client (before its connections go); returns a
   * function that unregisters it.
   *
   * @example
   * const untrack = etcd.track({ close: () => controller.abort() });
   */
  track(closable: Closable): () => void {
    return this.core.track(closable);
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
    return this.core.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Endpoints and user name; never a password or token. */
  toJSON(): { endpoints: string[]; username?: string; closed: boolean } {
    const username = this.core.username;
    return {
      endpoints: [...this.endpoints],
      ...(username === undefined ? {} : { username }),
      closed: this.closed,
    };
  }

  [inspect](): string {
    const username = this.core.username;
    const user = username === undefined ? "" : `, username: ${JSON.stringify(username)}`;
    return `Etcd { endpoints: ${JSON.stringify(this.endpoints)}${user}, closed: ${this.closed} }`;
  }
}
