import { createClient } from "@connectrpc/connect";
import { Cluster, KV as KVService, Watch } from "../../gen/etcdserverpb/rpc_pb.ts";
import { normalizeEndpoints } from "../connection/endpoints.ts";
import { MemberSync } from "../connection/member-sync.ts";
import { EndpointPool } from "../connection/pool.ts";
import { PoolTransport } from "../connection/pool-transport.ts";
import type { CallOptions } from "../core/call-options.ts";
import type { Closable, CloseContext } from "../core/closable.ts";
import { ClientClosedError } from "../core/errors.ts";
import { ClientEvents } from "../diagnostics/client-events.ts";
import { Keyspace } from "../kv/keyspace.ts";
import { KV } from "../kv/kv.ts";
import { ReadCoalescer } from "../kv/read-coalescer.ts";
import type { KeepAliveFrameCodec } from "../lease/keep-alive-frame-codec.ts";
import { LeaseClient } from "../lease/lease-client.ts";
import type { WatchFrameCodec } from "../watch/watch-frame-codec.ts";
import { WatchStream } from "../watch/watch-stream.ts";
import { MAX_WATCH_STREAMS, WatchStreams } from "../watch/watch-streams.ts";
import { resolveOptions, tokenProvider } from "./defaults.ts";
import type { EtcdOptions } from "./options.ts";
import type { Platform } from "./platform.ts";

/** How long `close()` lets tracked closables make their last calls (revoking leases). */
const CLOSE_DEADLINE_MS = 2_000;

/**
 * @internal What every view of one client shares: the endpoint pool and its transports, the
 * Watch streams and the keep-alive stream, the things closed with the client, and closing.
 * `Etcd` is the root view over it; namespaces are views with a prefix.
 */
export class ClientCore {
  /** The transport every call goes through (pool of endpoints with retries). */
  readonly transport: PoolTransport;
  /** Key-value operations at the root of the key space. */
  readonly kv: KV;
  /** Leases at the root of the key space (keep-alive shared by every view). */
  readonly lease: LeaseClient;
  readonly username: string | undefined;
  /** The platform's keep-alive frame codec, for the lease keep-alive stream. */
  readonly keepAliveFrames: KeepAliveFrameCodec | undefined;
  /** Carries the closables' last calls while `close()` runs, after `transport` refuses calls. */
  readonly #lastCalls: PoolTransport;
  readonly #pool: EndpointPool;
  readonly #members: MemberSync;
  readonly #watchFrames: WatchFrameCodec | undefined;
  /** The gateway opens a WebSocket per Watch stream: its watchers share one. */
  readonly #singleWatchStream: boolean;
  readonly #closables = new Set<Closable>();
  #watchStream: WatchStreams | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: EtcdOptions, platform: Platform) {
    this.#watchFrames = platform.watchFrames;
    this.keepAliveFrames = platform.keepAliveFrames;
    const resolved = resolveOptions(options);
    this.#singleWatchStream = options.transport === "gateway" || platform.watchFrames === undefined;
    this.#pool = new EndpointPool(
      normalizeEndpoints(options.endpoints),
      resolved.endpoint,
      platform.transportFactory(options.transport),
      new ClientEvents(options.logger),
    );
    // Made first: the pool probes endpoints through the transport made last.
    this.#lastCalls = new PoolTransport(this.#pool, resolved.pool);
    this.transport = new PoolTransport(this.#pool, {
      ...resolved.pool,
      defaultTimeoutMs: options.timeoutMs,
    });
    this.#members = new MemberSync(
      this.#pool,
      createClient(Cluster, this.transport),
      options.autoSyncIntervalMs,
    );
    this.track(this.#members);
    this.username = options.username;
    this.transport.auth = tokenProvider(options, this.transport);
    this.#lastCalls.auth = this.transport.auth;
    const kvClient = createClient(KVService, this.transport);
    this.kv = new KV(
      kvClient,
      new Keyspace(),
      { coalescer: new ReadCoalescer(kvClient), byDefault: options.coalesceReads === true },
      platform.kvDecoders,
    );
    this.lease = new LeaseClient(this, new Keyspace());
  }

  /** The endpoints in use, normalized. */
  get endpoints(): readonly string[] {
    return this.#pool.urls;
  }

  /** Replaces the endpoints with the cluster's voting members' client URLs. */
  sync(options?: CallOptions): Promise<string[]> {
    if (this.closed) return Promise.reject(new ClientClosedError("etcd client is closed"));
    return this.#members.sync(options);
  }

  /** The client's Watch streams, shared by every watcher of every view. */
  get watchStream(): WatchStreams {
    if (!this.#watchStream) {
      const client = createClient(Watch, this.transport);
      const streams = new WatchStreams(
        () => new WatchStream(client, this.transport, this.#pool.events, this.#watchFrames),
        this.#singleWatchStream ? 1 : MAX_WATCH_STREAMS,
      );
      this.#watchStream = streams;
      this.track(streams);
      if (this.closed) streams.close();
    }
    return this.#watchStream;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Registers something to close with the client; returns a function that unregisters it. */
  track(closable: Closable): () => void {
    this.#closables.add(closable);
    return () => this.#closables.delete(closable);
  }

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
}
