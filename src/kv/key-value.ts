import type { ResponseHeader as WireHeader } from "../../gen/etcdserverpb/rpc_pb.ts";
import type { KeyValue as WireKeyValue } from "../../gen/mvccpb/kv_pb.ts";
import { toText } from "../core/keys.ts";
import type { Keyspace } from "./keyspace.ts";

/**
 * One key as etcd stores it. `key` and `value` are bytes (views into the response: do not modify
 * them); `keyText`, `text` and `json()` decode them.
 *
 * @example
 * const kv = await etcd.get("cfg/a");
 * kv?.text;            // "1"
 * kv?.modRevision;     // 42n
 */
export class KeyValue {
  /** The key (inside a namespace: without the namespace prefix). */
  readonly key: Uint8Array;
  /** The value; empty with `keysOnly`. */
  readonly value: Uint8Array;
  /** Revision of the last creation of this key. */
  readonly createRevision: bigint;
  /** Revision of the last change to this key. */
  readonly modRevision: bigint;
  /** Number of changes since creation; deletion resets it to 0. */
  readonly version: bigint;
  /** The lease attached to the key, 0n for none. */
  readonly lease: bigint;

  /** @internal */
  constructor(
    key: Uint8Array,
    value: Uint8Array,
    createRevision: bigint,
    modRevision: bigint,
    version: bigint,
    lease: bigint,
  ) {
    this.key = key;
    this.value = value;
    this.createRevision = createRevision;
    this.modRevision = modRevision;
    this.version = version;
    this.lease = lease;
  }

  /** The key as UTF-8 text. */
  get keyText(): string {
    return toText(this.key);
  }

  /** The value as UTF-8 text. */
  get text(): string {
    return toText(this.value);
  }

  /** The value parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(toText(this.value)) as T;
  }

  /** A plain object for logs and JSON.stringify (bigints as decimal strings). */
  toJSON(): Record<string, string> {
    return {
      key: this.keyText,
      value: this.text,
      createRevision: String(this.createRevision),
      modRevision: String(this.modRevision),
      version: String(this.version),
      lease: String(this.lease),
    };
  }
}

/**
 * The header etcd puts on every response.
 *
 * @example
 * const { header } = await etcd.range(prefix("a/"));
 * header.revision; // the store revision when the request was served
 */
export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  /** The store's revision when the request was served. */
  revision: bigint;
  raftTerm: bigint;
}

const EMPTY_HEADER: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };

/**
 * A wire header as a `ResponseHeader`.
 *
 * @example
 * toHeader(response.header).revision;
 */
export function toHeader(header: WireHeader | undefined): ResponseHeader {
  if (!header) return EMPTY_HEADER;
  return {
    clusterId: header.clusterId,
    memberId: header.memberId,
    revision: header.revision,
    raftTerm: header.raftTerm,
  };
}

/**
 * A wire key-value as a `KeyValue`, the namespace prefix removed.
 *
 * @example
 * const kv = toKeyValue(wire, keyspace);
 */
export function toKeyValue(kv: WireKeyValue, keyspace: Keyspace): KeyValue {
  return new KeyValue(
    keyspace.decodeKey(kv.key),
    kv.value,
    kv.createRevision,
    kv.modRevision,
    kv.version,
    kv.lease,
  );
}
