import type { Transport } from "@connectrpc/connect";
import { type Client, createClient } from "@connectrpc/connect";
import { Lock } from "../../gen/v3lockpb/v3lock_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import type { CallOptions } from "../core/call-options.ts";
import { InvalidArgumentError, toEtcdError } from "../core/errors.ts";
import { type Bytes, toBytes } from "../core/keys.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import { type ResponseHeader, toHeader } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import { Lease } from "../lease/lease.ts";
import { Session } from "./session.ts";

/**
 * What the server-side lock returns.
 *
 * @example
 * const { key } = await etcd.lockService.lock("jobs", { lease: session });
 */
export interface ServerLock {
  /** The ownership key (`<name>/<lease id hex>`); exists while the lock is held. */
  key: Uint8Array;
  header: ResponseHeader;
}

/**
 * etcd's server-side lock service (v3lock): the member runs Go's mutex on the caller's behalf.
 * `lock` blocks until acquired (no deadline unless `timeoutMs` or `signal` is given); the lock
 * is held while the returned key exists, until `unlock(key)` or the lease ends. Its keys are the
 * same as `session.mutex(name)`'s, so both kinds of lock exclude each other.
 *
 * @example
 * await using session = await etcd.session({ ttl: 10 });
 * const { key } = await etcd.lockService.lock("jobs/nightly", { lease: session });
 * try { ... } finally { await etcd.lockService.unlock(key); }
 */
export class LockService {
  readonly #client: Client<typeof Lock>;
  readonly #keyspace: Keyspace;

  /** @internal */
  constructor(transport: Transport, keyspace: Keyspace) {
    this.#client = createClient(Lock, transport);
    this.#keyspace = keyspace;
  }

  /**
   * Waits for the named lock, held on behalf of `lease` (a lease ID, `Lease` or `Session`).
   *
   * @example
   * const { key } = await etcd.lockService.lock("jobs", { lease: lease.id, timeoutMs: 5000 });
   */
  async lock(
    name: Bytes,
    options: { lease: Int64 | Lease | Session } & CallOptions,
  ): Promise<ServerLock> {
    const nameBytes = toBytes(name, "name");
    if (nameBytes.length === 0) throw new InvalidArgumentError("lock name must not be empty");
    const lease = leaseIdOf(options.lease);
    try {
      const response = await this.#client.lock(
        { name: this.#keyspace.encodeKey(nameBytes), lease },
        connectOptions({ ...options, timeoutMs: options.timeoutMs ?? 0 }),
      );
      return { key: this.#keyspace.decodeKey(response.key), header: toHeader(response.header) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Releases a lock by deleting its ownership key.
   *
   * @example
   * await etcd.lockService.unlock(key);
   */
  async unlock(key: Bytes, options: CallOptions = {}): Promise<ResponseHeader> {
    try {
      const response = await this.#client.unlock(
        { key: this.#keyspace.encodeKey(toBytes(key, "key")) },
        connectOptions(options),
      );
      return toHeader(response.header);
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }
}

/**
 * The lease ID behind a lease ID, `Lease` or `Session`.
 *
 * @example
 * leaseIdOf(session); // session.id
 */
export function leaseIdOf(lease: Int64 | Lease | Session): bigint {
  if (lease instanceof Session) return lease.id;
  if (lease instanceof Lease) return lease.id;
  const id = toInt64(lease, "lease");
  if (id === 0n) throw new InvalidArgumentError("a lease is required");
  return id;
}
