import { subscribe } from "node:diagnostics_channel";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import { diagnosticsChannels } from "../../src/index.ts";
import type { TestCluster } from "../../src/testing.ts";

/** One row of the soak's table. */
export interface Sample {
  /** Seconds since the load started. */
  t: number;
  values: Record<MetricName, number>;
}

export const metricNames = [
  "heapUsedMB",
  "rssMB",
  "newSpaceMB",
  "externalMB",
  "loopDelayP99ms",
  "loopDelayMaxms",
  "resources",
  "timers",
  "sockets",
  "h2Sessions",
  "h2Streams",
  "serverWatchers",
  "leasesKept",
] as const;
export type MetricName = (typeof metricNames)[number];

/**
 * Samples the soak process and the cluster. Counts HTTP/2 sessions from the client's
 * `connection:up`/`connection:down` diagnostics channels and HTTP/2 streams from Node's own
 * `http2.client.stream.created`/`close` channels, so no private state is read.
 */
export class Sampler {
  readonly #cluster: TestCluster;
  readonly #leasesKept: () => number;
  readonly #delay = monitorEventLoopDelay({ resolution: 10 });
  readonly #started = performance.now();
  #sessions = 0;
  #streams = 0;

  /** Make it before the client, so that the client's first connections and streams are counted. */
  constructor(cluster: TestCluster, leasesKept: () => number) {
    this.#cluster = cluster;
    this.#leasesKept = leasesKept;
    subscribe(diagnosticsChannels.connectionUp, () => this.#sessions++);
    subscribe(diagnosticsChannels.connectionDown, () => this.#sessions--);
    subscribe("http2.client.stream.created", () => this.#streams++);
    subscribe("http2.client.stream.close", () => this.#streams--);
    this.#delay.enable();
  }

  /** Takes one sample (after a full GC when run with --expose-gc, so heap growth is real). */
  async sample(): Promise<Sample> {
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const resources = process.getActiveResourcesInfo();
    const count = (type: string) => resources.filter((r) => r === type).length;
    const values: Record<MetricName, number> = {
      heapUsedMB: memory.heapUsed / 2 ** 20,
      rssMB: memory.rss / 2 ** 20,
      // V8 widens its young generation while much survives a scavenge, up to its maximum: most
      // of the RSS growth in a soak, and bounded.
      newSpaceMB:
        (getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ??
          0) /
        2 ** 20,
      externalMB: memory.external / 2 ** 20,
      loopDelayP99ms: this.#delay.percentile(99) / 1e6,
      loopDelayMaxms: this.#delay.max / 1e6,
      resources: resources.length,
      timers: count("Timeout"),
      sockets: count("TCPSocketWrap") + count("TLSWrap"),
      h2Sessions: this.#sessions,
      h2Streams: this.#streams,
      serverWatchers: await this.#serverWatchers(),
      leasesKept: this.#leasesKept(),
    };
    this.#delay.reset();
    return { t: (performance.now() - this.#started) / 1000, values };
  }

  /** Watchers on every member that answers (a paused or killed member has none to count). */
  async #serverWatchers(): Promise<number> {
    const counts = await Promise.all(
      this.#cluster.members.map((member) =>
        member.running && !member.paused
          ? withTimeout(this.#cluster.metric(member, "etcd_debugging_mvcc_watcher_total"), 2_000)
          : Promise.resolve(0),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}

function withTimeout(promise: Promise<number>, ms: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.catch(() => Number.NaN),
    new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(Number.NaN), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
