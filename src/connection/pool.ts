import { NoEndpointsError } from "../errors.ts";
import type { EndpointConfig, EndpointTransport, TransportFactory } from "./endpoint.ts";

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

/**
 * One endpoint in the pool with its health: a failing endpoint is set aside until `retryAt`,
 * with exponential backoff, and used again after that (the next call probes it).
 */
export class PooledEndpoint {
  readonly url: string;
  readonly connection: EndpointTransport;
  failures = 0;
  retryAt = 0;

  constructor(connection: EndpointTransport) {
    this.url = connection.url;
    this.connection = connection;
  }

  get healthy(): boolean {
    return this.failures === 0 || Date.now() >= this.retryAt;
  }
}

/**
 * The endpoints of one client: round-robin over the healthy ones, failing ones set aside with
 * backoff. `pick()` never returns undefined while the pool has endpoints: when all are set
 * aside, the one whose backoff ends first is used.
 *
 * @example
 * const pool = new EndpointPool(["http://127.0.0.1:2379"], config, createConnectEndpointTransport);
 * const ep = pool.pick();
 */
export class EndpointPool {
  readonly endpoints: PooledEndpoint[] = [];
  #next = 0;
  readonly #config: Omit<EndpointConfig, "url">;
  readonly #factory: TransportFactory;

  constructor(urls: string[], config: Omit<EndpointConfig, "url">, factory: TransportFactory) {
    if (urls.length === 0) throw new NoEndpointsError("no endpoints given");
    this.#config = config;
    this.#factory = factory;
    for (const url of urls) this.add(url);
  }

  /** Adds an endpoint (no-op when present). */
  add(url: string): void {
    if (this.endpoints.some((e) => e.url === url)) return;
    this.endpoints.push(new PooledEndpoint(this.#factory({ ...this.#config, url })));
  }

  /** Removes an endpoint and closes its connection. */
  remove(url: string): void {
    const index = this.endpoints.findIndex((e) => e.url === url);
    if (index < 0 || this.endpoints.length === 1) return;
    this.endpoints[index]?.connection.close();
    this.endpoints.splice(index, 1);
  }

  /** The next healthy endpoint, round-robin; `exclude` is skipped when another is available. */
  pick(exclude?: PooledEndpoint): PooledEndpoint {
    const list = this.endpoints;
    const n = list.length;
    if (n === 1) return list[0] as PooledEndpoint;
    for (let i = 0; i < n; i++) {
      const candidate = list[(this.#next + i) % n] as PooledEndpoint;
      if (candidate !== exclude && candidate.healthy) {
        this.#next = (this.#next + i + 1) % n;
        return candidate;
      }
    }
    let best = list[0] as PooledEndpoint;
    for (const candidate of list) {
      if (candidate !== exclude && (best === exclude || candidate.retryAt < best.retryAt)) {
        best = candidate;
      }
    }
    return best;
  }

  /** Sets an endpoint aside after a failure. */
  markFailed(endpoint: PooledEndpoint): void {
    endpoint.failures++;
    const backoff = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (endpoint.failures - 1));
    endpoint.retryAt = Date.now() + backoff;
  }

  /** Clears an endpoint's failures after a success. */
  markHealthy(endpoint: PooledEndpoint): void {
    if (endpoint.failures !== 0) {
      endpoint.failures = 0;
      endpoint.retryAt = 0;
    }
  }

  /** Closes every connection. */
  close(): void {
    for (const endpoint of this.endpoints) endpoint.connection.close();
  }
}
