import { compare, type Etcd, type Lease, op, type Session, type Watcher } from "../../src/index.ts";

/** What the load did since it started: successes per kind, failures per kind and error name. */
export interface LoadCounts {
  ops: Map<string, number>;
  errors: Map<string, number>;
  watchEvents: number;
  leasesLost: number;
  sessionsLost: number;
}

export interface LoadOptions {
  watchers: number;
  leases: number;
  /** Concurrent loops per kind (KV put, KV get, txn, lock). */
  workers: number;
  /** Pause between two calls of one loop, so a 2-core machine keeps room for etcd. */
  pauseMs: number;
  leaseTtl: number;
}

/**
 * The soak's mixed load on one client: `watchers` watchers on the KV keys, `leases` kept-alive
 * leases (each with a key; a lost lease is counted and granted again), and loops of puts, gets,
 * compare-and-swap txns and mutex lock/unlock. Failures are counted, never thrown: faults make
 * calls fail by design; what the soak looks for is growth.
 */
export class MixedLoad {
  readonly counts: LoadCounts = {
    ops: new Map(),
    errors: new Map(),
    watchEvents: 0,
    leasesLost: 0,
    sessionsLost: 0,
  };
  readonly #etcd: Etcd;
  readonly #options: LoadOptions;
  readonly #watchers: Watcher[] = [];
  readonly #leases = new Set<Lease>();
  readonly #loops: Promise<void>[] = [];
  #stopped = false;

  constructor(etcd: Etcd, options: LoadOptions) {
    this.#etcd = etcd;
    this.#options = options;
  }

  get leasesKept(): number {
    return this.#leases.size;
  }

  async start(): Promise<void> {
    const { watchers, leases, workers } = this.#options;
    for (let i = 0; i < watchers; i++) {
      const watcher = this.#etcd.watch(`soak/kv/${i}`);
      this.#watchers.push(watcher);
      this.#loops.push(this.#drain(watcher));
    }
    await Promise.all(this.#watchers.map((w) => w.ready().catch(() => {})));
    for (let i = 0; i < leases; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, leases - i) }, (_, j) => this.#keepLease(i + j)),
      );
    }
    for (let w = 0; w < workers; w++) {
      this.#loops.push(this.#loop("put", (i) => this.#etcd.put(this.#kvKey(i), String(i))));
      this.#loops.push(this.#loop("get", (i) => this.#etcd.get(this.#kvKey(i))));
      this.#loops.push(this.#loop("txn", (i) => this.#casCounter(w, i)));
      this.#loops.push(this.#lockLoop(w));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const watcher of this.#watchers) watcher.close();
    await Promise.all(this.#loops);
    await Promise.all([...this.#leases].map((lease) => lease.revoke().catch(() => {})));
  }

  #kvKey(i: number): string {
    return `soak/kv/${(i * 7919 + Math.floor(Math.random() * 1000)) % this.#options.watchers}`;
  }

  async #drain(watcher: Watcher): Promise<void> {
    try {
      for await (const batch of watcher) this.counts.watchEvents += batch.events.length;
    } catch (error) {
      if (!this.#stopped) this.#failed("watch", error);
    }
  }

  /** Grants a kept-alive lease with a key; when it is lost, counts that and grants another. */
  async #keepLease(slot: number): Promise<void> {
    while (!this.#stopped) {
      try {
        const lease = await this.#etcd.lease.grant(this.#options.leaseTtl, { keepAlive: true });
        this.#leases.add(lease);
        await this.#etcd.put(`soak/lease/${slot}`, lease.hex, { lease: lease.id });
        this.#ok("lease");
        void lease.lost.then(() => {
          this.#leases.delete(lease);
          if (this.#stopped) return;
          this.counts.leasesLost++;
          void this.#keepLease(slot);
        });
        return;
      } catch (error) {
        this.#failed("lease", error);
        await sleep(500);
      }
    }
  }

  async #casCounter(worker: number, i: number): Promise<void> {
    const key = `soak/txn/${worker}`;
    const kv = await this.#etcd.get(key);
    await this.#etcd.txn({
      compare: [compare.modRevision(key, "=", kv?.modRevision ?? 0n)],
      success: [op.put(key, String(i))],
      failure: [op.get(key)],
    });
  }

  async #lockLoop(worker: number): Promise<void> {
    let session: Session | undefined;
    for (let i = 0; !this.#stopped; i++) {
      try {
        if (!session || session.done) {
          if (session) this.counts.sessionsLost++;
          session = await this.#etcd.session({ ttl: 10 });
        }
        const mutex = await session.mutex(`soak/lock/${i % 4}`).lock({ timeoutMs: 10_000 });
        await mutex.txn({ success: [op.put(`soak/locked/${i % 4}`, String(worker))] });
        await mutex.unlock();
        this.#ok("lock");
      } catch (error) {
        this.#failed("lock", error);
      }
      await sleep(this.#options.pauseMs);
    }
    await session?.close().catch(() => {});
  }

  async #loop(kind: string, call: (i: number) => Promise<unknown>): Promise<void> {
    for (let i = 0; !this.#stopped; i++) {
      try {
        await call(i);
        this.#ok(kind);
      } catch (error) {
        this.#failed(kind, error);
      }
      await sleep(this.#options.pauseMs);
    }
  }

  #ok(kind: string): void {
    this.counts.ops.set(kind, (this.counts.ops.get(kind) ?? 0) + 1);
  }

  #failed(kind: string, error: unknown): void {
    const key = `${kind}:${(error as Error)?.name ?? String(error)}`;
    this.counts.errors.set(key, (this.counts.errors.get(key) ?? 0) + 1);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
