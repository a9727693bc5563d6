import { NoEndpointsError } from "../core/errors.ts";
import { type ClientEvents, silentEvents } from "../diagnostics/client-events.ts";
import { isManagedSession, type LeaderReport } from "./endpoint-session.ts";
import type { EndpointConfig, EndpointTransport, TransportFactory } from "./endpoint-transport.ts";
import { MissingMethods } from "./missing-methods.ts";

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 3_000;
/** How long a removed endpoint's connection stays open for the calls still running on it. */
const RETIRE_GRACE_MS = 10_000;

/**
 * Asks whether a set-aside endpoint serves again; resolves true when it does. Must not reject.
 *
 * @example
 * pool.probe = async (endpoint) => (await endpoint.connection.session.connect()) !== "error";
 */
export type EndpointProbe = (endpoint: PooledEndpoint) => Promise<boolean>;

/**
 * One endpoint in the pool with its health. A failing endpoint is set aside: calls go elsewhere
 * while it is probed in the background, with exponential backoff, until a probe succeeds.
 */
export class PooledEndpoint {
  readonly url: string;
  readonly connection: EndpointTransport;
  /** Failures in a row (the first call that failed, then each failed probe); 0 when healthy. */
  failures = 0;
  /** When the next probe runs (ms since the epoch), while set aside. */
  retryAt = 0;
  /** @internal */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** @internal */
  probing = false;
  /** The RPCs this endpoint's server answered "unknown method" for, until it reconnects. */
  readonly missing: MissingMethods;

  constructor(connection: EndpointTransport) {
    this.url = connection.url;
    this.connection = connection;
    const session = connection.session;
    // A session manager of another kind gives no reconnect signal: remember for the endpoint's life.
    this.missing = new MissingMethods(() => (isManagedSession(session) ? session.generation : 0));
  }

  /** True unless set aside after a failure. */
  get healthy(): boolean {
    return this.failures === 0;
  }
}

/**
 * The endpoints of one client: round-robin over the healthy ones; failing ones are set aside and
 * probed back (`probe`). `pick()` never fails while the pool has endpoints: when every endpoint
 * is set aside, the one due to be probed first is used (so a call still tries, and a success
 * brings the endpoint back at once).
 *
 * @example
 * const pool = new EndpointPool(["http://127.0.0.1:2379"], config, createConnectEndpointTransport);
 * const ep = pool.pick();
 */
export class EndpointPool {
  readonly endpoints: PooledEndpoint[] = [];
  /** Checks a set-aside endpoint; without one, an endpoint is simply tried again after its backoff. */
  probe: EndpointProbe | undefined;
  /**
   * Asks a member whether it has a leader: false when it says it has none, undefined when it
   * cannot tell. The stall watchdog asks when calls wait long on a member that answers pings.
   */
  leaderCheck: ((endpoint: PooledEndpoint) => Promise<LeaderReport | undefined>) | undefined;
  #next = 0;
  #closed = false;
  readonly #retired = new Set<{ endpoint: PooledEndpoint; timer: ReturnType<typeof setTimeout> }>();
  readonly #config: Omit<EndpointConfig, "url">;
  readonly #factory: TransportFactory;
  /** Where endpoint and connection events go (diagnostics channels, the client's logger). */
  readonly events: ClientEvents;

  constructor(
    urls: string[],
    config: Omit<EndpointConfig, "url">,
    factory: TransportFactory,
    events: ClientEvents = silentEvents,
  ) {
    if (urls.length === 0) throw new NoEndpointsError("no endpoints given");
    this.#config = config;
    this.#factory = factory;
    this.events = events;
    for (const url of urls) this.add(url);
  }

  /** The URLs of the endpoints in use. */
  get urls(): string[] {
    return this.endpoints.map((e) => e.url);
  }

  /** Adds an endpoint (no-op when present). */
  add(url: string): void {
    if (this.#closed || this.endpoints.some((e) => e.url === url)) return;
    const connection = this.#factory({ ...this.#config, url });
    const endpoint = new PooledEndpoint(connection);
    if (isManagedSession(connection.session)) {
      connection.session.events = { events: this.events, endpoint: url };
      connection.session.leaderCheck = () =>
        this.leaderCheck?.(endpoint) ?? Promise.resolve(undefined);
    }
    this.endpoints.push(endpoint);
  }

  /**
   * Removes an endpoint: no new call goes there; its connection closes after a grace period
   * for the calls still running on it. The last endpoint is never removed.
   */
  remove(url: string): void {
    const index = this.endpoints.findIndex((e) => e.url === url);
    if (index < 0 || this.endpoints.length === 1) return;
    const endpoint = this.endpoints[index] as PooledEndpoint;
    this.endpoints.splice(index, 1);
    clearTimeout(endpoint.timer);
    const retired = {
      endpoint,
      timer: setTimeout(() => {
        this.#retired.delete(retired);
        endpoint.connection.close();
      }, RETIRE_GRACE_MS),
    };
    retired.timer.unref?.();
    this.#retired.add(retired);
  }

  /**
   * Makes the pool hold exactly `urls` (member discovery): adds the new ones, removes the ones
   * gone. An empty list changes nothing.
   */
  setUrls(urls: readonly string[]): void {
    if (urls.length === 0) return;
    for (const url of urls) this.add(url);
    for (const url of this.urls) if (!urls.includes(url)) this.remove(url);
  }

  /**
   * The next healthy endpoint, round-robin, skipping `exclude` (the endpoints a call has tried
   * already) while another is available.
   */
  pick(exclude?: ReadonlySet<PooledEndpoint> | PooledEndpoint): PooledEndpoint {
    const list = this.endpoints;
    const n = list.length;
    if (n === 0) throw new NoEndpointsError("the client has no endpoints");
    if (n === 1) return list[0] as PooledEndpoint;
    const skip = (e: PooledEndpoint) =>
      exclude === undefined
        ? false
        : exclude instanceof PooledEndpoint
          ? e === exclude
          : exclude.has(e);
    for (let i = 0; i < n; i++) {
      const candidate = list[(this.#next + i) % n] as PooledEndpoint;
      if (candidate.healthy && !skip(candidate)) {
        this.#next = (this.#next + i + 1) % n;
        return candidate;
      }
    }
    let best: PooledEndpoint | undefined;
    for (const candidate of list) {
      if (skip(candidate)) continue;
      if (best === undefined || candidate.retryAt < best.retryAt) best = candidate;
    }
    if (best !== undefined) return best;
    // Every endpoint was tried: start over with the healthy ones, else the first due.
    for (let i = 0; i < n; i++) {
      const candidate = list[(this.#next + i) % n] as PooledEndpoint;
      if (candidate.healthy) {
        this.#next = (this.#next + i + 1) % n;
        return candidate;
      }
    }
    return list.reduce((a, b) => (b.retryAt < a.retryAt ? b : a));
  }

  /**
   * Sets an endpoint aside after a failure and schedules its probe. A failure reported while it
   * is aside already changes nothing: the probes' own outcome drives the backoff.
   */
  markFailed(endpoint: PooledEndpoint, reason?: unknown): void {
    if (this.#closed || endpoint.failures > 0) return;
    this.#setAside(endpoint, reason);
  }

  /** Puts an endpoint back in rotation (a call or a probe succeeded there). */
  markHealthy(endpoint: PooledEndpoint): void {
    if (endpoint.failures === 0) return;
    const failures = endpoint.failures;
    endpoint.failures = 0;
    endpoint.retryAt = 0;
    clearTimeout(endpoint.timer);
    endpoint.timer = undefined;
    if (!this.#closed) this.events.endpointBack(endpoint.url, failures);
  }

  /** Stops probing and closes every connection. */
  close(): void {
    this.#closed = true;
    for (const endpoint of this.endpoints) {
      clearTimeout(endpoint.timer);
      endpoint.connection.close();
    }
    for (const retired of this.#retired) {
      clearTimeout(retired.timer);
      retired.endpoint.connection.close();
    }
    this.#retired.clear();
  }

  #setAside(endpoint: PooledEndpoint, reason?: unknown): void {
    endpoint.failures++;
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (endpoint.failures - 1));
    const backoff = Math.round(base * (0.8 + 0.4 * Math.random()));
    endpoint.retryAt = Date.now() + backoff;
    clearTimeout(endpoint.timer);
    endpoint.timer = setTimeout(() => void this.#probe(endpoint), backoff);
    endpoint.timer.unref?.();
    this.events.endpointAside(endpoint.url, endpoint.failures, backoff, reason);
  }

  async #probe(endpoint: PooledEndpoint): Promise<void> {
    endpoint.timer = undefined;
    if (this.#closed || endpoint.probing || !this.endpoints.includes(endpoint)) return;
    if (endpoint.failures === 0) return;
    const probe = this.probe;
    if (probe === undefined) {
      this.markHealthy(endpoint);
      return;
    }
    endpoint.probing = true;
    let ok = false;
    try {
      ok = await probe(endpoint);
    } catch {
      ok = false;
    } finally {
      endpoint.probing = false;
    }
    if (this.#closed || !this.endpoints.includes(endpoint) || endpoint.failures === 0) return;
    if (ok) this.markHealthy(endpoint);
    else this.#setAside(endpoint);
  }
}
