import { type Client, Code, createClient } from "@connectrpc/connect";
import {
  type LeaseKeepAliveResponse,
  Lease as LeaseService,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import { PushQueue } from "../connection/push-queue.ts";
import { neverLeft } from "../connection/retry-policy.ts";
import type { CallOptions } from "../core/call-options.ts";
import {
  EtcdError,
  InvalidArgumentError,
  LeaseNotFoundError,
  toEtcdError,
  UnavailableError,
} from "../core/errors.ts";
import { EtcdMessage } from "../core/etcd-messages.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import { toHeader } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import type { HeaderResult } from "../kv/results.ts";
import { type KeepAliveHost, type KeepAliveStats, sharedKeepAlive } from "./keep-alive.ts";
import { Lease } from "./lease.ts";
import type { LeaseListResult, LeaseRenewal, LeaseTimeToLive } from "./results.ts";

/**
 * Options of `grant`.
 *
 * @example
 * await etcd.lease.grant(10, { keepAlive: true });
 */
export interface GrantOptions extends CallOptions {
  /** Ask for this lease ID instead of letting etcd choose. */
  id?: Int64;
  /** Start keeping the lease alive right away (same as calling `keepAlive()` on it). */
  keepAlive?: boolean;
}

/**
 * Leases: grant, revoke, inspect, list and renew them. Leases kept alive (`lease.keepAlive()`)
 * share ONE LeaseKeepAlive stream per client, however many there are.
 *
 * @example
 * const lease = await etcd.lease.grant(30, { keepAlive: true });
 * await etcd.put("presence/me", "here", { lease: lease.id });
 */
export class LeaseClient {
  readonly #host: KeepAliveHost;
  readonly #keyspace: Keyspace;
  readonly #client: Client<typeof LeaseService>;

  /** @internal */
  constructor(host: KeepAliveHost, keyspace: Keyspace) {
    this.#host = host;
    this.#keyspace = keyspace;
    this.#client = createClient(LeaseService, host.transport);
  }

  /**
   * Grants a lease of `ttl` seconds (etcd raises TTLs below its minimum). Returns a handle; keys
   * put with `{ lease: lease.id }` are deleted when the lease ends.
   *
   * @example
   * await using lease = await etcd.lease.grant(10, { keepAlive: true });
   */
  async grant(ttl: Int64, options: GrantOptions = {}): Promise<Lease> {
    const seconds = toInt64(ttl, "ttl");
    if (seconds <= 0n) throw new InvalidArgumentError(`ttl must be positive, got ${seconds}`);
    const id = options.id === undefined ? 0n : toInt64(options.id, "id");
    const sentAt = performance.now();
    let response: Awaited<ReturnType<Client<typeof LeaseService>["leaseGrant"]>>;
    try {
      response = await this.#client.leaseGrant({ TTL: seconds, ID: id }, connectOptions(options));
    } catch (error) {
      throw toEtcdError(error, options);
    }
    if (response.error) throw toEtcdError(new EtcdError(response.error));
    const lease = new Lease(
      this,
      sharedKeepAlive(this.#host),
      response.ID,
      response.TTL,
      sentAt + Number(response.TTL) * 1000,
      true,
    );
    if (options.keepAlive) lease.keepAlive();
    return lease;
  }

  /**
   * Keeps alive a lease granted elsewhere (another process, an earlier run): renews it once to
   * learn its TTL, then hands back a kept-alive handle. Throws `LeaseNotFoundError` if it is gone.
   *
   * @example
   * const lease = await etcd.lease.keepAlive(savedId);
   */
  async keepAlive(id: Int64, options: CallOptions = {}): Promise<Lease> {
    const leaseId = toInt64(id, "lease id");
    const sentAt = performance.now();
    const renewal = await this.keepAliveOnce(leaseId, options);
    const lease = new Lease(
      this,
      sharedKeepAlive(this.#host),
      leaseId,
      renewal.ttl,
      sentAt + Number(renewal.ttl) * 1000,
    );
    return lease.keepAlive();
  }

  /**
   * Revokes a lease: its keys are deleted. Throws `LeaseNotFoundError` when it does not exist.
   * (A `Lease` handle's own `revoke()` also stops its keep-alive and ignores a missing lease.)
   *
   * @example
   * await etcd.lease.revoke(id);
   */
  async revoke(id: Int64 | Lease, options: CallOptions = {}): Promise<HeaderResult> {
    const leaseId = id instanceof Lease ? id.id : toInt64(id, "lease id");
    try {
      const response = await this.#client.leaseRevoke({ ID: leaseId }, connectOptions(options));
      return { header: toHeader(response.header) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * A lease's remaining TTL (-1n when it no longer exists), its granted TTL and, with
   * `keys: true`, its keys.
   *
   * @example
   * const { ttl, keys } = await etcd.lease.timeToLive(id, { keys: true });
   */
  async timeToLive(
    id: Int64 | Lease,
    options: { keys?: boolean } & CallOptions = {},
  ): Promise<LeaseTimeToLive> {
    const leaseId = id instanceof Lease ? id.id : toInt64(id, "lease id");
    try {
      const response = await this.#client.leaseTimeToLive(
        { ID: leaseId, keys: options.keys === true },
        connectOptions(options),
      );
      const keys: Uint8Array[] = [];
      for (const key of response.keys) {
        if (startsWith(key, this.#keyspace.prefix)) keys.push(this.#keyspace.decodeKey(key));
      }
      return {
        header: toHeader(response.header),
        id: response.ID,
        ttl: response.TTL,
        grantedTtl: response.grantedTTL,
        keys,
      };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * The IDs of every lease on the cluster (etcd 3.3+).
   *
   * @example
   * const { leases } = await etcd.lease.list();
   */
  async list(options: CallOptions = {}): Promise<LeaseListResult> {
    try {
      const response = await this.#client.leaseLeases({}, connectOptions(options));
      return { header: toHeader(response.header), leases: response.leases.map((l) => l.ID) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Renews a lease once, on a short stream of its own. Throws `LeaseNotFoundError` when the
   * lease is gone. Tries each endpoint once while members are unavailable (only one with
   * `retry: false`).
   *
   * @example
   * const { ttl } = await etcd.lease.keepAliveOnce(id);
   */
  async keepAliveOnce(id: Int64 | Lease, options: CallOptions = {}): Promise<LeaseRenewal> {
    const leaseId = id instanceof Lease ? id.id : toInt64(id, "lease id");
    const attempts = options.retry === false ? 1 : this.#host.transport.pool.endpoints.length;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#renewOnce(leaseId, options);
      } catch (error) {
        const etcdError = toEtcdError(error, options);
        const retry =
          (etcdError.code === Code.Unavailable || neverLeft(error)) &&
          attempt < attempts &&
          !options.signal?.aborted;
        if (!retry) throw etcdError;
      }
    }
  }

  /** Numbers about the shared keep-alive stream of this client. @example etcd.lease.keepAliveStats().streamsOpened */
  keepAliveStats(): KeepAliveStats {
    return sharedKeepAlive(this.#host).stats();
  }

  async #renewOnce(id: bigint, options: CallOptions): Promise<LeaseRenewal> {
    const requests = new PushQueue<{ ID: bigint }>();
    const controller = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, controller.signal])
      : controller.signal;
    requests.push({ ID: id });
    let reply: LeaseKeepAliveResponse | undefined;
    try {
      const responses = this.#client.leaseKeepAlive(requests, {
        signal,
        headers: { hasleader: "true" },
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      });
      for await (const response of responses) {
        reply = response;
        break;
      }
    } finally {
      requests.close();
      controller.abort();
    }
    if (!reply) throw new UnavailableError("etcd ended the keep-alive stream without a reply");
    if (reply.TTL <= 0n) {
      throw new LeaseNotFoundError(EtcdMessage.leaseNotFound, Code.NotFound);
    }
    return { header: toHeader(reply.header), id: reply.ID, ttl: reply.TTL };
  }
}

function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
