import { Feed } from "../cache/feed.ts";
import { sleep } from "../connection/signals.ts";
import type { CallOptions } from "../core/call-options.ts";
import { ClientClosedError, type EtcdError, toEtcdError } from "../core/errors.ts";
import type { Bytes } from "../core/keys.ts";
import type { Int64 } from "../core/numbers.ts";
import type { PutResult } from "../kv/results.ts";
import type { PutOptions } from "../kv/txn.ts";
import type { Lease } from "../lease/lease.ts";
import type { GrantOptions } from "../lease/lease-client.ts";
import { encodeEndpoint, type ServiceEndpoint } from "./endpoint-format.ts";
import { endpointKey } from "./service-key.ts";

/** What a registration needs from the client or a namespace. */
export interface RegistrationSource {
  readonly lease: { grant(ttl: Int64, options?: GrantOptions): Promise<Lease> };
  put(key: Bytes, value: Bytes, options?: PutOptions & CallOptions): Promise<PutResult>;
}

/**
 * Options of `etcd.register()`.
 *
 * @example
 * await etcd.register("svc/api", { addr: "10.0.0.7:8080" }, { ttl: 10, onError: console.warn });
 */
export interface RegisterOptions {
  /** The lease TTL in seconds, default 10: how long the entry outlives a dead process. */
  ttl?: number;
  /** Deregisters (revokes the lease) when it fires, as `close()` does. */
  signal?: AbortSignal;
  /** Called when the lease was lost and when registering again fails (it is retried). */
  onError?: (error: EtcdError) => void;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/**
 * A service instance registered in etcd, in the key and value format of Go's
 * `client/v3/naming/endpoints`: key `<service>/<addr>`, value `{"Op":0,"Addr":...,"Metadata":...}`,
 * on a lease the client keeps alive. When the lease is lost (the process stalled past its TTL,
 * a partition, someone revoked it), the instance registers again on a new lease, retrying with
 * backoff until it succeeds or is closed; every loss and failed attempt goes to `onError`.
 * `close()` (or `await using`, or the signal) revokes the lease, which removes the entry at once.
 *
 * @example
 * await using registration = await etcd.register("svc/api", { addr: "10.0.0.7:8080" });
 * registration.key; // "svc/api/10.0.0.7:8080"
 */
export class Registration implements AsyncDisposable {
  /** The key of the entry: `<service>/<addr>`. */
  readonly key: string;
  readonly #source: RegistrationSource;
  readonly #value: string;
  readonly #ttl: number;
  readonly #controller = new AbortController();
  readonly #errors = new Feed<EtcdError>();
  readonly #registered = new Feed<Lease>();
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort = () => void this.close();
  #lease: Lease | undefined;
  #closing: Promise<void> | undefined;
  #retrying: Promise<void> | undefined;

  private constructor(
    source: RegistrationSource,
    service: string,
    endpoint: ServiceEndpoint,
    options: RegisterOptions,
  ) {
    this.#source = source;
    this.key = endpointKey(service, endpoint.addr);
    this.#value = encodeEndpoint(endpoint);
    this.#ttl = options.ttl ?? 10;
    this.#userSignal = options.signal;
    if (options.onError) this.#errors.subscribe(options.onError);
  }

  /** @internal Made by `etcd.register()` and `namespace.register()`. */
  static async open(
    source: RegistrationSource,
    service: string,
    endpoint: ServiceEndpoint,
    options: RegisterOptions = {},
  ): Promise<Registration> {
    const registration = new Registration(source, service, endpoint, options);
    await registration.#register();
    options.signal?.addEventListener("abort", registration.#onUserAbort, { once: true });
    if (options.signal?.aborted) await registration.close();
    return registration;
  }

  /** The lease the entry is on now (it changes when the instance registers again). */
  get lease(): Lease | undefined {
    return this.#lease;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Calls `listener` with each new lease after the instance registered again; returns a
   * function that stops it.
   *
   * @example
   * registration.onRegistered((lease) => console.log("registered again on", lease.hex));
   */
  onRegistered(listener: (lease: Lease) => void): () => void {
    return this.#registered.subscribe(listener);
  }

  /**
   * Calls `listener` when the lease is lost and when registering again fails; returns a
   * function that stops it.
   *
   * @example
   * registration.onError((error) => log.warn(error.message));
   */
  onError(listener: (error: EtcdError) => void): () => void {
    return this.#errors.subscribe(listener);
  }

  /**
   * Deregisters: stops re-registering and revokes the lease (etcd deletes the entry).
   * Idempotent.
   *
   * @example
   * await registration.close();
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#userSignal?.removeEventListener("abort", this.#onUserAbort);
      this.#controller.abort(new ClientClosedError("registration closed"));
      await this.#retrying;
      try {
        await this.#lease?.revoke();
      } catch (error) {
        if (!(toEtcdError(error) instanceof ClientClosedError)) throw error;
      } finally {
        this.#errors.close();
        this.#registered.close();
      }
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #register(): Promise<void> {
    const signal = this.#controller.signal;
    const lease = await this.#source.lease.grant(this.#ttl, { keepAlive: true, signal });
    try {
      await this.#source.put(this.key, this.#value, { lease, signal });
    } catch (error) {
      await lease.revoke().catch(() => {});
      throw error;
    }
    this.#lease = lease;
    lease.onLost((error) => {
      if (signal.aborted) return;
      this.#errors.emit(error);
      this.#retrying ??= this.#again().finally(() => {
        this.#retrying = undefined;
      });
    });
  }

  /** Registers again on a new lease, with backoff, until it works or the registration closes. */
  async #again(): Promise<void> {
    const signal = this.#controller.signal;
    for (let failures = 0; !signal.aborted; failures++) {
      try {
        await this.#register();
        if (this.#lease) this.#registered.emit(this.#lease);
        return;
      } catch (error) {
        if (signal.aborted) return;
        const mapped = toEtcdError(error);
        if (mapped instanceof ClientClosedError) return;
        this.#errors.emit(mapped);
        const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures, 10));
        await sleep(cap / 2 + Math.random() * (cap / 2), signal);
      }
    }
  }
}
