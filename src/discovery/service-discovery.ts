import type { CacheChange } from "../cache/cache-change.ts";
import { Feed } from "../cache/feed.ts";
import type { CacheOptions, WatchCache } from "../cache/watch-cache.ts";
import type { CallOptions } from "../core/call-options.ts";
import { type EtcdError, InvalidArgumentError } from "../core/errors.ts";
import { type KeyOrRange, prefix } from "../core/keys.ts";
import type { Int64 } from "../core/numbers.ts";
import type { KeyValue } from "../kv/key-value.ts";
import { decodeEndpoint, type ServiceEndpoint } from "./endpoint-format.ts";
import { servicePrefix } from "./service-key.ts";

/** What discovery reads from: the client or a namespace. */
export interface DiscoverySource {
  cache(target: KeyOrRange, options?: CacheOptions): Promise<WatchCache>;
}

/**
 * One change to a service's endpoints, as Go's `endpoints.Update`: an endpoint added (or
 * changed) under `key`, or the endpoint under `key` deleted.
 *
 * @example
 * for await (const updates of discovery.updates()) {
 *   for (const u of updates) console.log(u.op, u.key, u.endpoint?.addr);
 * }
 */
export interface EndpointUpdate {
  readonly op: "add" | "delete";
  /** The etcd key: `<service>/<addr>` (inside a namespace, without its prefix). */
  readonly key: string;
  /** The endpoint added; for a delete, the one removed (if it was known). */
  readonly endpoint: ServiceEndpoint | undefined;
}

/**
 * Options of `etcd.discover()`.
 *
 * @example
 * await etcd.discover("svc/api", { onError: (e) => log.warn(e.message), signal });
 */
export interface DiscoverOptions extends CacheOptions {
  /** Called with values that are not endpoints (skipped, as Go skips them) and cache troubles. */
  onError?: (error: EtcdError) => void;
}

/**
 * The live list of a service's endpoints, read through a cache of the `<service>/` prefix in
 * the format of Go's `client/v3/naming/endpoints` (so Go and TypeScript services find each
 * other). `endpoints` is the current list; `updates()` gives batches of adds and deletes, the
 * first batch being every endpoint known when it starts (as Go's watch channel does); after a
 * compaction the cache relists and the difference arrives as one batch. A value that is not in
 * the format is skipped, leaving that key's previous endpoint in place, and reported.
 *
 * @example
 * await using api = await etcd.discover("svc/api");
 * const addrs = [...api.endpoints.values()].map((e) => e.addr);
 */
export class ServiceDiscovery implements AsyncDisposable {
  /** The service name (the key prefix without its trailing "/"). */
  readonly service: string;
  readonly #cache: WatchCache;
  readonly #endpoints = new Map<string, ServiceEndpoint>();
  readonly #updates = new Feed<readonly EndpointUpdate[]>();
  readonly #errors = new Feed<EtcdError>();
  readonly #offs: (() => void)[] = [];

  private constructor(service: string, cache: WatchCache, options: DiscoverOptions) {
    this.service = service;
    this.#cache = cache;
    if (options.onError) this.#errors.subscribe(options.onError);
    for (const kv of cache) this.#put(kv);
    this.#offs.push(
      cache.onChange((change) => this.#apply(change)),
      cache.onError((error) => this.#errors.emit(error)),
    );
  }

  /** @internal Made by `etcd.discover()` and `namespace.discover()`. */
  static async open(
    source: DiscoverySource,
    service: string,
    options: DiscoverOptions = {},
  ): Promise<ServiceDiscovery> {
    const { onError: _onError, ...cacheOptions } = options;
    const cache = await source.cache(prefix(servicePrefix(service)), cacheOptions);
    return new ServiceDiscovery(service, cache, options);
  }

  /** The endpoints now, by key. */
  get endpoints(): ReadonlyMap<string, ServiceEndpoint> {
    return this.#endpoints;
  }

  /** The store revision the endpoints reflect. */
  get revision(): bigint {
    return this.#cache.revision;
  }

  /**
   * Resolves once the endpoints reflect `revision` (for instance that of a registration).
   *
   * @example
   * await api.waitForRevision((await etcd.put(key, value)).revision);
   */
  waitForRevision(revision: Int64, options?: CallOptions): Promise<bigint> {
    return this.#cache.waitForRevision(revision, options);
  }

  /**
   * Batches of updates: first every endpoint known now (when there is one), then each change.
   * Ends when the signal fires, the loop breaks or discovery closes.
   *
   * @example
   * for await (const updates of api.updates({ signal })) balancer.apply(updates);
   */
  updates(
    options: { signal?: AbortSignal } = {},
  ): AsyncIterableIterator<readonly EndpointUpdate[]> {
    const initial: EndpointUpdate[] = [...this.#endpoints].map(([key, endpoint]) => ({
      op: "add",
      key,
      endpoint,
    }));
    return this.#updates.iterate(options.signal, initial.length > 0 ? [initial] : []);
  }

  /**
   * Calls `listener` with each batch of updates; returns a function that stops it.
   *
   * @example
   * const off = api.onChange((updates) => balancer.apply(updates));
   */
  onChange(listener: (updates: readonly EndpointUpdate[]) => void): () => void {
    return this.#updates.subscribe(listener);
  }

  /**
   * Calls `listener` with values that are not endpoints and with cache troubles.
   *
   * @example
   * api.onError((error) => log.warn(error.message));
   */
  onError(listener: (error: EtcdError) => void): () => void {
    return this.#errors.subscribe(listener);
  }

  /**
   * Stops following the service. Idempotent.
   *
   * @example
   * await api.close();
   */
  async close(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
    await this.#cache.close();
    this.#updates.close();
    this.#errors.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #apply(change: CacheChange): void {
    const updates: EndpointUpdate[] = [];
    for (const event of change.events) {
      const key = event.kv.keyText;
      if (event.type === "delete") {
        const endpoint = this.#endpoints.get(key);
        this.#endpoints.delete(key);
        updates.push({ op: "delete", key, endpoint });
        continue;
      }
      const endpoint = this.#put(event.kv);
      if (endpoint) updates.push({ op: "add", key, endpoint });
    }
    if (updates.length > 0) this.#updates.emit(updates);
  }

  #put(kv: KeyValue): ServiceEndpoint | undefined {
    const key = kv.keyText;
    try {
      const endpoint = decodeEndpoint(kv.value);
      this.#endpoints.set(key, endpoint);
      return endpoint;
    } catch (cause) {
      this.#errors.emit(
        new InvalidArgumentError(
          `${key} is not an endpoint in Go's format: ${String(cause)}`,
          undefined,
          {
            cause,
          },
        ),
      );
      return undefined;
    }
  }
}
