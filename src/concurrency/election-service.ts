import type { Transport } from "@connectrpc/connect";
import { type Client, createClient } from "@connectrpc/connect";
import { Election, type LeaderKey as WireLeaderKey } from "../../gen/v3electionpb/v3election_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import type { CallOptions } from "../core/call-options.ts";
import { ElectionNoLeaderError, InvalidArgumentError, toEtcdError } from "../core/errors.ts";
import { type Bytes, toBytes } from "../core/keys.ts";
import type { Int64 } from "../core/numbers.ts";
import { type KeyValue, type ResponseHeader, toHeader, toKeyValue } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import type { Lease } from "../lease/lease.ts";
import { leaseIdOf } from "./lock-service.ts";
import type { Session } from "./session.ts";

/**
 * A campaign's handle from the server-side election: pass it to `proclaim` and `resign`.
 *
 * @example
 * const leader = await etcd.electionService.campaign("svc", "host-a", { lease: session });
 */
export interface LeaderKey {
  /** The election name. */
  name: Uint8Array;
  /** The candidate's key (`<name>/<lease id hex>`). */
  key: Uint8Array;
  /** The key's create revision. */
  revision: bigint;
  /** The lease the candidacy is attached to. */
  lease: bigint;
}

/**
 * etcd's server-side election service (v3election): the member runs Go's election on the
 * caller's behalf. Same keys as `session.election(name)`, so both kinds of candidate contend in
 * one election. `campaign` blocks until elected (no deadline unless `timeoutMs` or `signal`).
 *
 * @example
 * const leader = await etcd.electionService.campaign("svc", "host-a", { lease: session });
 * await etcd.electionService.proclaim(leader, "host-a:9090");
 * await etcd.electionService.resign(leader);
 */
export class ElectionService {
  readonly #client: Client<typeof Election>;
  readonly #keyspace: Keyspace;

  /** @internal */
  constructor(transport: Transport, keyspace: Keyspace) {
    this.#client = createClient(Election, transport);
    this.#keyspace = keyspace;
  }

  /**
   * Waits until `lease`'s candidate leads the election `name`, announcing `value`.
   *
   * @example
   * const leader = await etcd.electionService.campaign("svc", "host-a", { lease: lease.id });
   */
  async campaign(
    name: Bytes,
    value: Bytes,
    options: { lease: Int64 | Lease | Session } & CallOptions,
  ): Promise<LeaderKey> {
    const nameBytes = this.#name(name);
    try {
      const response = await this.#client.campaign(
        { name: nameBytes, value: toBytes(value, "value"), lease: leaseIdOf(options.lease) },
        connectOptions({ ...options, timeoutMs: options.timeoutMs ?? 0 }),
      );
      if (!response.leader) throw new ElectionNoLeaderError("etcd returned no leader key");
      return this.#fromWire(response.leader);
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Announces a new value as the leader. Rejects with `NotLeaderError` when `leader` no longer leads.
   *
   * @example
   * await etcd.electionService.proclaim(leader, "host-a:9090");
   */
  async proclaim(
    leader: LeaderKey,
    value: Bytes,
    options: CallOptions = {},
  ): Promise<ResponseHeader> {
    try {
      const response = await this.#client.proclaim(
        { leader: this.#toWire(leader), value: toBytes(value, "value") },
        connectOptions(options),
      );
      return toHeader(response.header);
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * The current leader's key and value, or undefined when nobody leads.
   *
   * @example
   * const kv = await etcd.electionService.leader("svc");
   */
  async leader(name: Bytes, options: CallOptions = {}): Promise<KeyValue | undefined> {
    try {
      const response = await this.#client.leader(
        { name: this.#name(name) },
        connectOptions(options),
      );
      return response.kv ? toKeyValue(response.kv, this.#keyspace) : undefined;
    } catch (error) {
      const etcdError = toEtcdError(error, options);
      if (etcdError instanceof ElectionNoLeaderError) return undefined;
      throw etcdError;
    }
  }

  /**
   * Every leader and proclaimed value of election `name`, as the member observes them. Ends when
   * `signal` fires or the loop is left; a member failure ends it with an error (use
   * `etcd.election(name).observe()` for an observer that resumes by itself).
   *
   * @example
   * for await (const kv of etcd.electionService.observe("svc", { signal })) console.log(kv.text);
   */
  async *observe(
    name: Bytes,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<KeyValue, void, undefined> {
    const controller = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, controller.signal])
      : controller.signal;
    try {
      const responses = this.#client.observe(
        { name: this.#name(name) },
        { signal, timeoutMs: 0, headers: { hasleader: "true" } },
      );
      for await (const response of responses) {
        if (response.kv) yield toKeyValue(response.kv, this.#keyspace);
      }
    } catch (error) {
      if (!controller.signal.aborted) throw toEtcdError(error, options);
    } finally {
      controller.abort();
    }
  }

  /**
   * Gives up leadership: deletes the candidate's key.
   *
   * @example
   * await etcd.electionService.resign(leader);
   */
  async resign(leader: LeaderKey, options: CallOptions = {}): Promise<ResponseHeader> {
    try {
      const response = await this.#client.resign({ leader: this.#toWire(leader) }, options);
      return toHeader(response.header);
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  #name(name: Bytes): Uint8Array {
    const bytes = toBytes(name, "name");
    if (bytes.length === 0) throw new InvalidArgumentError("election name must not be empty");
    return this.#keyspace.encodeKey(bytes);
  }

  #fromWire(leader: WireLeaderKey): LeaderKey {
    return {
      name: this.#keyspace.decodeKey(leader.name),
      key: this.#keyspace.decodeKey(leader.key),
      revision: leader.rev,
      lease: leader.lease,
    };
  }

  #toWire(leader: LeaderKey) {
    return {
      name: this.#keyspace.encodeKey(leader.name),
      key: this.#keyspace.encodeKey(leader.key),
      rev: leader.revision,
      lease: leader.lease,
    };
  }
}
