/** Which client a result belongs to. */
export type ClientName =
  | "ours"
  | "ours+coalesce"
  | "ours+paged"
  | "ours+otel"
  | "ours.raw"
  | "connect"
  | "connect.raw"
  | "etcd3"
  | "h2.floor";

/** How each client is described in the report. */
export const clientLabels: Record<ClientName, string> = {
  ours: "etcd-connect (lean)",
  "ours+coalesce": "etcd-connect, coalesceReads",
  "ours+paged": "etcd-connect, list() in Range pages only (stream: false)",
  "ours+otel": "etcd-connect with etcd-connect/otel on (OTel SDK, exporters discarding)",
  "ours.raw": "etcd-connect raw client (etcd.raw.kv, lean)",
  connect: "etcd-connect on stock connect-node",
  "connect.raw": "stock connect-node (createGrpcTransport + generated client)",
  etcd3: "etcd3 (grpc-js)",
  "h2.floor": "node:http2 floor (hand-written call, response not decoded)",
};

/** The operations a workload may ask of a client; a client without one skips that row. */
export interface BenchClient {
  readonly name: ClientName;
  put?(key: string, value: string): Promise<unknown>;
  get?(key: string): Promise<unknown>;
  /** Reads every key under the prefix; resolves with how many came back. */
  rangePrefix?(prefix: string): Promise<number>;
  /** Lists every key under the prefix with `list()`; resolves with how many came back. */
  listPrefix?(prefix: string): Promise<number>;
  /** compare value(k) = v; success: put k v, get other; failure: get k. */
  txn?(key: string, value: string, other: string): Promise<unknown>;
  /** Watches the prefix from `fromRevision` until `count` events arrived. */
  watchEvents?(prefix: string, fromRevision: bigint, count: number): Promise<void>;
  /** Opens `n` watchers on distinct keys and waits until etcd created them all. */
  idleWatchers?(keyPrefix: string, n: number): Promise<() => Promise<void>>;
  /**
   * Opens `n` watchers on one key and waits until etcd created them all; `reached(revision)`
   * resolves once every watcher has received an event at `revision` or later.
   */
  watchersOnKey?(
    key: string,
    n: number,
    onEvent?: (index: number, revision: number) => void,
  ): Promise<WatcherCrowd>;
  /** Grants `n` leases and keeps them alive. Resolves when all are granted. */
  keepLeases?(n: number, ttlSeconds: number): Promise<() => Promise<void>>;
  /** The facade and the raw generated client of one client instance (same transport). */
  facadeAndRaw?: {
    put(key: string, value: string): Promise<unknown>;
    rawPut(key: string, value: string): Promise<unknown>;
    get(key: string): Promise<unknown>;
    rawGet(key: string): Promise<unknown>;
  };
  close(): Promise<void>;
}

/** Many watchers of one key, as `watchersOnKey` opened them. */
export interface WatcherCrowd {
  reached(revision: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Tracks the latest event revision each of `n` watchers saw (telling `onEvent` of each event);
 * `reached` resolves once all saw `revision` or later.
 */
export function crowdTracker(
  n: number,
  onEvent?: (index: number, revision: number) => void,
): {
  saw(index: number, revision: number): void;
  reached(revision: number): Promise<void>;
} {
  const latest = new Float64Array(n);
  let target = Number.POSITIVE_INFINITY;
  let behind = 0;
  let done: (() => void) | undefined;
  return {
    saw(index, revision) {
      onEvent?.(index, revision);
      const before = latest[index] as number;
      if (revision <= before) return;
      latest[index] = revision;
      if (before < target && revision >= target && --behind === 0) done?.();
    },
    reached(revision) {
      target = revision;
      behind = latest.reduce((count, r) => (r < revision ? count + 1 : count), 0);
      if (behind === 0) return Promise.resolve();
      return new Promise((resolve) => {
        done = resolve;
      });
    },
  };
}
