import type { Client } from "@connectrpc/connect";
import type { KV as KVService, PutResponse, RangeResponse } from "../../gen/etcdserverpb/rpc_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import type { PieceDecoder } from "../connection/piece-decoder.ts";
import type { CallOptions } from "../core/call-options.ts";
import { toEtcdError } from "../core/errors.ts";
import type { Bytes, KeyOrRange } from "../core/keys.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import type { KeyValue } from "./key-value.ts";
import { toHeader } from "./key-value.ts";
import type { Keyspace } from "./keyspace.ts";
import {
  deleteRequest,
  putRequest,
  rangeRequest,
  toDeleteResult,
  toPutResult,
  toRangeResult,
  toTxnResult,
  txnRequest,
} from "./kv-wire.ts";
import { type ListOptions, type ListSource, listKeys } from "./list.ts";
import type { ReadCoalescer } from "./read-coalescer.ts";
import type { CompactResult, DeleteResult, PutResult, RangeResult, TxnResult } from "./results.ts";
import type { DeleteOptions, PutOptions, RangeOptions, TxnRequest } from "./txn.ts";

export type { ListOptions } from "./list.ts";

/** Options of `get`. @example await etcd.get("k", { revision: 5n }) */
export type GetOptions = Pick<RangeOptions, "revision" | "serializable" | "keysOnly"> &
  CallOptions & {
    /**
     * Send this read together with the other linearizable gets of the same event-loop turn, as
     * one Txn (see `EtcdOptions.coalesceReads`, the default for this). Ignored for serializable
     * reads and reads at a revision.
     */
    coalesce?: boolean;
  };

/**
 * Options of `compact`.
 *
 * @example
 * await etcd.compact(rev, { physical: true });
 */
export interface CompactOptions extends CallOptions {
  /** Wait until the compaction is applied to the backend, not only recorded. */
  physical?: boolean;
}

/**
 * @internal Makes the decoder that turns a RangeResponse's bytes, as they arrive, into the
 * `RangeResult` for `keyspace` (the Node entry's is `RangeResultDecoder`).
 */
export type RangeDecoderFactory = (keyspace: Keyspace) => PieceDecoder<RangeResult>;

/**
 * @internal Makes the decoder that turns a PutResponse's bytes into the `PutResult` for
 * `keyspace` (the Node entry's is `PutResultDecoder`).
 */
export type PutDecoderFactory = (keyspace: Keyspace) => PieceDecoder<PutResult>;

/** @internal The response decoders an entry's platform brings for the lean transport. */
export interface KvDecoders {
  range?: RangeDecoderFactory | undefined;
  put?: PutDecoderFactory | undefined;
}

/**
 * Reads and writes keys: get, range, list, put, delete, txn, compact. `Etcd` exposes these
 * directly; a namespace has its own `KV` with keys prefixed.
 *
 * @example
 * await etcd.kv.put("a", "1");
 * const kv = await etcd.kv.get("a");
 */
export class KV {
  readonly #client: Client<typeof KVService>;
  readonly #keyspace: Keyspace;
  readonly #coalescer: ReadCoalescer | undefined;
  readonly #coalesceByDefault: boolean;
  readonly #decoders: KvDecoders | undefined;
  readonly #rangeDecoder: (() => PieceDecoder<RangeResult>) | undefined;
  readonly #putDecoder: (() => PieceDecoder<PutResult>) | undefined;
  readonly #listSource: ListSource;

  /**
   * `reads` is the client's read coalescer (shared by every namespace of a client, so that their
   * gets batch together) and whether gets use it unless told otherwise. `decoders.range`, from
   * the entry's platform, lets the lean transport decode ranges while their bytes arrive, and
   * `decoders.put` decode puts without the generated message.
   */
  /** @internal */
  constructor(
    client: Client<typeof KVService>,
    keyspace: Keyspace,
    reads?: { coalescer: ReadCoalescer; byDefault: boolean },
    decoders?: KvDecoders,
  ) {
    this.#client = client;
    this.#keyspace = keyspace;
    this.#coalescer = reads?.coalescer;
    this.#coalesceByDefault = reads?.byDefault === true;
    this.#decoders = decoders;
    const range = decoders?.range;
    const put = decoders?.put;
    this.#rangeDecoder = range && (() => range(keyspace));
    this.#putDecoder = put && (() => put(keyspace));
    this.#listSource = { range: (t, o) => this.range(t, o), client, keyspace };
  }

  /** @internal The same calls with keys mapped through `keyspace` (namespaces). */
  withKeyspace(keyspace: Keyspace): KV {
    return new KV(
      this.#client,
      keyspace,
      this.#coalescer && { coalescer: this.#coalescer, byDefault: this.#coalesceByDefault },
      this.#decoders,
    );
  }

  /**
   * One key, or undefined when it does not exist.
   *
   * @example
   * const kv = await etcd.get("cfg/a");
   * console.log(kv?.text);
   */
  async get(key: Bytes, options: GetOptions = {}): Promise<KeyValue | undefined> {
    if (
      this.#coalescer !== undefined &&
      (options.coalesce ?? this.#coalesceByDefault) &&
      !options.serializable &&
      options.retry !== false &&
      (options.revision === undefined || options.revision === 0 || options.revision === 0n)
    ) {
      const request = rangeRequest(key, options, this.#keyspace);
      try {
        const response = await this.#coalescer.range(request, options);
        return toRangeResult(response, this.#keyspace).kvs[0];
      } catch (error) {
        throw toEtcdError(error, options);
      }
    }
    const result = await this.range(key, options);
    return result.kvs[0];
  }

  /**
   * Keys in a range with every option etcd's Range has.
   *
   * @example
   * const { kvs, more } = await etcd.range(prefix("cfg/"), { limit: 100, sortOrder: "descend" });
   */
  async range(target: KeyOrRange, options: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    const request = rangeRequest(target, options, this.#keyspace);
    try {
      const response: RangeResponse | RangeResult = await this.#client.range(
        request,
        connectOptions(options, this.#rangeDecoder),
      );
      // The lean transport decodes straight into a RangeResult; stock Connect ignores the
      // decoder and returns the generated message.
      return "$typeName" in response ? toRangeResult(response, this.#keyspace) : response;
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Every key in a range, in key order, all read at one revision (the first page's, unless
   * `revision` is given), so the listing is a consistent snapshot. Fetched page by page; on
   * members of etcd 3.7 or later, the rest of a range longer than two pages comes as one
   * stream (RangeStream) instead, with the same keys. Older members are detected without an
   * error reaching the caller. Breaking out of the loop cancels what is in flight.
   *
   * @example
   * for await (const kv of etcd.list(prefix("jobs/"), { pageSize: 1000 })) console.log(kv.keyText);
   */
  list(target: KeyOrRange, options: ListOptions = {}): AsyncGenerator<KeyValue, void, undefined> {
    return listKeys(this.#listSource, target, options);
  }

  /**
   * Writes a key.
   *
   * @example
   * await etcd.put("cfg/a", "1", { lease: lease.id, prevKv: true });
   */
  async put(key: Bytes, value: Bytes, options: PutOptions & CallOptions = {}): Promise<PutResult> {
    const request = putRequest(key, value, options, this.#keyspace);
    try {
      const response: PutResponse | PutResult = await this.#client.put(
        request,
        connectOptions(options, this.#putDecoder),
      );
      // As with ranges: the lean transport gives a PutResult, stock Connect the message.
      return "$typeName" in response ? toPutResult(response, this.#keyspace) : response;
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Deletes a key or every key in a range.
   *
   * @example
   * const { deleted } = await etcd.delete(prefix("tmp/"));
   */
  async delete(
    target: KeyOrRange,
    options: DeleteOptions & CallOptions = {},
  ): Promise<DeleteResult> {
    const request = deleteRequest(target, options, this.#keyspace);
    try {
      const response = await this.#client.deleteRange(request, connectOptions(options));
      return toDeleteResult(response, this.#keyspace);
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Runs a transaction: when every compare holds, the `success` ops, else the `failure` ops,
   * atomically at one revision.
   *
   * @example
   * const { succeeded } = await etcd.txn({
   *   compare: [compare.value("cfg/a", "=", "1")],
   *   success: [op.put("cfg/a", "2")],
   *   failure: [op.get("cfg/a")],
   * });
   */
  async txn(request: TxnRequest, options: CallOptions = {}): Promise<TxnResult> {
    const wire = txnRequest(request, this.#keyspace);
    try {
      const response = await this.#client.txn(wire, connectOptions(options));
      return toTxnResult(response, this.#keyspace);
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Discards the history before `revision`. With `physical`, waits until the space is reclaimed.
   *
   * @example
   * await etcd.compact(1000n, { physical: true });
   */
  async compact(revision: Int64, options: CompactOptions = {}): Promise<CompactResult> {
    const rev = toInt64(revision, "revision");
    try {
      const response = await this.#client.compact(
        { revision: rev, physical: options.physical === true },
        connectOptions(options),
      );
      const header = toHeader(response.header);
      return { header, revision: header.revision };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }
}
