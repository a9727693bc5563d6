import { ResponseHeaderSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { KeyValueSchema } from "../../gen/mvccpb/kv_pb.ts";
import { type WireReader, WireType } from "../core/wire.ts";
import { KeyValue, type ResponseHeader } from "./key-value.ts";
import type { Keyspace } from "./keyspace.ts";

// The messages every hand-written response decoder (range, watch) reads, field numbers from the
// generated schemas so that a regenerated API cannot drift from them.
const HEADER = ResponseHeaderSchema.field;
const H_CLUSTER_ID = HEADER.clusterId.number;
const H_MEMBER_ID = HEADER.memberId.number;
const H_REVISION = HEADER.revision.number;
const H_RAFT_TERM = HEADER.raftTerm.number;
const KV = KeyValueSchema.field;
const KV_KEY = KV.key.number;
const KV_VALUE = KV.value.number;
const KV_CREATE_REVISION = KV.createRevision.number;
const KV_MOD_REVISION = KV.modRevision.number;
const KV_VERSION = KV.version.number;
const KV_LEASE = KV.lease.number;

const EMPTY: Uint8Array = new Uint8Array(0);
/** The one-byte varints as bigints (versions, small leases), so that they cost no allocation. */
const SMALL = Array.from({ length: 128 }, (_, i) => BigInt(i));
/** `walkKeyValue`: the key has no mod_revision field (it is 0). */
export const NO_MOD_REVISION = -1;

/** Throws unless a field has the wire type its schema gives it. */
export function expectWireType(actual: number, expected: number, field: string): void {
  if (actual !== expected) throw new Error(`${field} has wire type ${actual}`);
}

/**
 * An int64 varint; one byte long (as versions and small revisions are) without a new bigint.
 *
 * @example
 * const version = int64Varint(reader);
 */
export function int64Varint(reader: WireReader): bigint {
  const byte = reader.buf[reader.pos] as number;
  if (byte < 0x80 && reader.pos < reader.end) {
    reader.pos++;
    return SMALL[byte] as bigint;
  }
  return reader.int64(true);
}

/**
 * Decodes the etcdserverpb.ResponseHeader in [reader.pos, reader.end).
 *
 * @example
 * reader.end = reader.lengthPrefixed();
 * const header = decodeHeader(reader);
 */
export function decodeHeader(reader: WireReader): ResponseHeader {
  const header = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (wireType !== WireType.Varint) reader.skip(wireType);
    else if (field === H_CLUSTER_ID) header.clusterId = reader.int64(false);
    else if (field === H_MEMBER_ID) header.memberId = reader.int64(false);
    else if (field === H_REVISION) header.revision = reader.int64(true);
    else if (field === H_RAFT_TERM) header.raftTerm = reader.int64(false);
    else reader.skip(wireType);
  }
  return header;
}

/**
 * Decodes the mvccpb.KeyValue in [reader.pos, reader.end), its key without the keyspace's
 * prefix; key and value are views of the reader's bytes. `modRevision`, when given, is the
 * value of its mod_revision field that the caller already holds as a bigint: no new one.
 *
 * @example
 * reader.end = reader.lengthPrefixed();
 * kvs.push(decodeKeyValue(reader, keyspace));
 */
export function decodeKeyValue(
  reader: WireReader,
  keyspace: Keyspace,
  modRevision?: bigint,
): KeyValue {
  let key = EMPTY;
  let value = EMPTY;
  let createRevision = 0n;
  let modRevisionRead = 0n;
  let version = 0n;
  let lease = 0n;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === KV_KEY || field === KV_VALUE) {
      expectWireType(wireType, WireType.LengthDelimited, `mvccpb.KeyValue field ${field}`);
      if (field === KV_KEY) key = reader.bytes();
      else value = reader.bytes();
    } else if (field === KV_MOD_REVISION && modRevision !== undefined) {
      expectWireType(wireType, WireType.Varint, "mvccpb.KeyValue.mod_revision");
      reader.skip(wireType);
      modRevisionRead = modRevision;
    } else if (
      field === KV_CREATE_REVISION ||
      field === KV_MOD_REVISION ||
      field === KV_VERSION ||
      field === KV_LEASE
    ) {
      expectWireType(wireType, WireType.Varint, `mvccpb.KeyValue field ${field}`);
      const number = int64Varint(reader);
      if (field === KV_CREATE_REVISION) createRevision = number;
      else if (field === KV_MOD_REVISION) modRevisionRead = number;
      else if (field === KV_VERSION) version = number;
      else lease = number;
    } else reader.skip(wireType);
  }
  return new KeyValue(
    keyspace.decodeKey(key),
    value,
    createRevision,
    modRevisionRead,
    version,
    lease,
  );
}

/**
 * Walks the mvccpb.KeyValue in [reader.pos, reader.end) as `decodeKeyValue` will, building
 * nothing: throws where it would throw. Returns where its mod_revision varint starts, or
 * `NO_MOD_REVISION`.
 *
 * @example
 * const modRevisionAt = walkKeyValue(reader);
 */
export function walkKeyValue(reader: WireReader): number {
  let modRevisionAt = NO_MOD_REVISION;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === KV_KEY || field === KV_VALUE) {
      expectWireType(wireType, WireType.LengthDelimited, `mvccpb.KeyValue field ${field}`);
      reader.pos = reader.lengthPrefixed();
    } else if (
      field === KV_CREATE_REVISION ||
      field === KV_MOD_REVISION ||
      field === KV_VERSION ||
      field === KV_LEASE
    ) {
      expectWireType(wireType, WireType.Varint, `mvccpb.KeyValue field ${field}`);
      if (field === KV_MOD_REVISION) modRevisionAt = reader.pos;
      reader.skip(wireType);
    } else reader.skip(wireType);
  }
  return modRevisionAt;
}
