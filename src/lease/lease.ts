import type { CallOptions } from "../core/call-options.ts";
import {
  CanceledError,
  ClientClosedError,
  LeaseLostError,
  LeaseNotFoundError,
} from "../core/errors.ts";
import type { KeepAliveOwner, LeaseKeepAlive } from "./keep-alive.ts";
import type { LeaseRenewal, LeaseTimeToLive } from "./results.ts";

/** The lease calls a handle makes through its client (`LeaseClient` implements them). */
export interface LeaseCalls {
  revoke(id: bigint, options: CallOptions): Promise<unknown>;
  keepAliveOnce(id: bigint, options: CallOptions): Promise<LeaseRenewal>;
  timeToLive(id: bigint, options: { keys?: boolean } & CallOptions): Promise<LeaseTimeToLive>;
}

/**
 * Where a lease handle stands: `granted` (not renewed by this client), `alive` (kept alive),
 * `lost` (expired, revoked elsewhere, or not renewed in time), `revoked` (by this handle),
 * `released` (renewals stopped with `release()`), `closed` (the client closed; it revoked a
 * kept-alive lease it had granted).
 *
 * @example
 * if (lease.state === "lost") await register(); // grant a new lease and put again
 */
export type LeaseState = "granted" | "alive" | "lost" | "revoked" | "released" | "closed";

/**
 * A lease granted by etcd. `keepAlive()` renews it on the client's one shared keep-alive stream
 * until `revoke()`, `release()` or the client closes. A kept-alive lease that ends any other way
 * is reported, never silently: `lost` resolves with a `LeaseLostError`, `signal` aborts with
 * it, and `onLost` callbacks run. `await using` revokes it, and so does closing the client when
 * the lease is kept alive and this client granted it (a lease adopted by ID is left to expire).
 *
 * @example
 * await using lease = (await etcd.lease.grant(10)).keepAlive();
 * await etcd.put("service/a", "up", { lease: lease.id });
 * lease.onLost((error) => console.error("presence lost", error));
 */
export class Lease {
  /** The lease ID (may exceed 2^53). */
  readonly id: bigint;
  /** The TTL etcd granted, in seconds. */
  readonly grantedTtl: bigint;
  /**
   * @internal Whether closing the client revokes the lease while it is kept alive: true for a
   * lease this client granted and for a session's lease, false for one adopted by its ID.
   */
  revokeOnClose: boolean;
  /**
   * Resolves with a `LeaseLostError` if the lease is lost while kept alive; stays pending
   * otherwise (it never rejects, so nothing goes unhandled).
   */
  readonly lost: Promise<LeaseLostError>;
  readonly #client: LeaseCalls;
  readonly #keepAlive: LeaseKeepAlive;
  readonly #controller = new AbortController();
  readonly #listeners = new Set<(error: LeaseLostError) => void>();
  #resolveLost: (error: LeaseLostError) => void = () => {};
  readonly #owner: KeepAliveOwner;
  #state: LeaseState = "granted";
  #ttl: bigint;
  #deadline: number;

  /** @internal Made by `etcd.lease.grant()` and `etcd.lease.keepAlive()`. */
  constructor(
    client: LeaseCalls,
    keepAlive: LeaseKeepAlive,
    id: bigint,
    ttl: bigint,
    deadline: number,
    revokeOnClose = false,
  ) {
    this.#client = client;
    this.revokeOnClose = revokeOnClose;
    this.#keepAlive = keepAlive;
    this.id = id;
    this.grantedTtl = ttl;
    this.#ttl = ttl;
    this.#deadline = deadline;
    this.lost = new Promise((resolve) => {
      this.#resolveLost = resolve;
    });
    this.#owner = {
      id,
      renewed: (renewedTtl, renewedDeadline) => this.#renewed(renewedTtl, renewedDeadline),
      lost: (error) => this.#lost(error),
      closed: () => this.#closed(),
      revokeOnClose: () => this.revokeOnClose,
    };
  }

  /** The ID in lowercase hex, as Go's concurrency package writes it into keys. */
  get hex(): string {
    return this.id.toString(16);
  }

  get state(): LeaseState {
    return this.#state;
  }

  /** The TTL of the last renewal (or the grant), in seconds. */
  get ttl(): bigint {
    return this.#ttl;
  }

  /**
   * The local deadline (ms since the epoch): the lease is lost unless renewed before it. Counted
   * from when the last successful renewal was sent, so etcd's own expiry is no earlier. (Kept on
   * the monotonic clock inside; converted to wall-clock time here.)
   */
  get deadline(): number {
    return Date.now() + (this.#deadline - performance.now());
  }

  /**
   * Aborts when this handle stops keeping the lease: with a `LeaseLostError` when lost, a
   * `CanceledError` after `revoke()`/`release()`, a `ClientClosedError` when the client closed.
   * Pass it to work that must stop with the lease.
   */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Keeps the lease alive on the client's shared keep-alive stream (renewing at a third of the
   * TTL). Returns this handle. Calling it again is harmless.
   *
   * @example
   * const lease = (await etcd.lease.grant(5)).keepAlive();
   */
  keepAlive(): this {
    if (this.#state === "granted") {
      this.#state = "alive";
      this.#keepAlive.add(this.#owner, Number(this.#ttl) * 1000, this.#deadline);
    } else if (this.#state !== "alive") {
      throw new LeaseLostError(`lease ${this.hex} can no longer be kept alive (${this.#state})`);
    }
    return this;
  }

  /**
   * Calls `listener` once if the lease is lost; returns a function that removes it. Called at
   * once when the lease is already lost.
   *
   * @example
   * const off = lease.onLost((e) => console.error(e.message));
   */
  onLost(listener: (error: LeaseLostError) => void): () => void {
    if (this.#state === "lost") {
      const reason = this.#controller.signal.reason as LeaseLostError;
      queueMicrotask(() => listener(reason));
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Stops renewing the lease without revoking it: it expires after its TTL (Go's "orphan").
   *
   * @example
   * lease.release();
   */
  release(): void {
    this.#stop("released", new CanceledError(`lease ${this.hex} released`));
  }

  /**
   * Stops renewing and revokes the lease; every key attached to it is deleted. Succeeds when the
   * lease is already gone.
   *
   * @example
   * await lease.revoke();
   */
  async revoke(options: CallOptions = {}): Promise<void> {
    if (this.#state === "closed") throw new ClientClosedError("etcd client is closed");
    this.#stop("revoked", new CanceledError(`lease ${this.hex} revoked`));
    try {
      await this.#client.revoke(this.id, options);
    } catch (error) {
      if (!(error instanceof LeaseNotFoundError)) throw error;
    }
  }

  /**
   * Renews once, outside the keep-alive stream. Throws `LeaseNotFoundError` when the lease is gone.
   *
   * @example
   * const { ttl } = await lease.keepAliveOnce();
   */
  keepAliveOnce(options: CallOptions = {}): Promise<LeaseRenewal> {
    return this.#client.keepAliveOnce(this.id, options);
  }

  /**
   * The remaining TTL, and with `keys: true` the keys attached.
   *
   * @example
   * const { ttl, keys } = await lease.timeToLive({ keys: true });
   */
  timeToLive(options: { keys?: boolean } & CallOptions = {}): Promise<LeaseTimeToLive> {
    return this.#client.timeToLive(this.id, options);
  }

  /** `await using` revokes the lease (a lease already lost, or a closed client, is left be). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === "closed" || this.#state === "lost" || this.#state === "revoked") return;
    await this.revoke();
  }

  #renewed(ttl: bigint, deadline: number): void {
    this.#ttl = ttl;
    this.#deadline = deadline;
  }

  #lost(error: LeaseLostError): void {
    if (this.#state !== "alive") return;
    this.#state = "lost";
    this.#controller.abort(error);
    this.#resolveLost(error);
    for (const listener of [...this.#listeners]) {
      try {
        listener(error);
      } catch (listenerError) {
        queueMicrotask(() => {
          throw listenerError;
        });
      }
    }
    this.#listeners.clear();
  }

  #closed(): void {
    if (this.#state === "lost" || this.#state === "revoked" || this.#state === "released") return;
    this.#state = "closed";
    this.#listeners.clear();
    this.#controller.abort(new ClientClosedError("etcd client is closed"));
  }

  #stop(state: "revoked" | "released", reason: Error): void {
    if (this.#state === "alive") this.#keepAlive.remove(this.#owner);
    if (this.#state === "alive" || this.#state === "granted") {
      this.#state = state;
      this.#listeners.clear();
      this.#controller.abort(reason);
    }
  }
}
