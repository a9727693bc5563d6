import { WatchResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType, EventSchema, KeyValueSchema } from "../../gen/mvccpb/kv_pb.ts";
import { toText } from "../core/keys.ts";
import { WireReader, WireType } from "../core/wire.ts";
import type { KeyValue, ResponseHeader } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import { decodeHeader, decodeKeyValue, expectWireType } from "../kv/range-result-decoder.ts";
import type { WatchEvent } from "./events.ts";
import { type EncodedEvents, PendingBatch } from "./pending-batch.ts";
import type { WatchReply } from "./watch-reply.ts";

const RESPONSE = WatchResponseSchema.field;
const W_HEADER = RESPONSE.header.number;
const W_WATCH_ID = RESPONSE.watchId.number;
const W_CREATED = RESPONSE.created.number;
const W_CANCELED = RESPONSE.canceled.number;
const W_COMPACT_REVISION = RESPONSE.compactRevision.number;
const W_CANCEL_REASON = RESPONSE.cancelReason.number;
const W_FRAGMENT = RESPONSE.fragment.number;
const W_EVENTS = RESPONSE.events.number;
const EVENT = EventSchema.field;
const E_TYPE = EVENT.type.number;
const E_KV = EVENT.kv.number;
const E_PREV_KV = EVENT.prevKv.number;
const KV = KeyValueSchema.field;
const KV_KEY = KV.key.number;
const KV_VALUE = KV.value.number;
const KV_CREATE_REVISION = KV.createRevision.number;
const KV_MOD_REVISION = KV.modRevision.number;
const KV_VERSION = KV.version.number;
const KV_LEASE = KV.lease.number;

const NO_HEADER: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };

/**
 * Reads etcd's WatchResponse from its bytes without building the generated message objects: the
 * fields at once, the events only when `events(keyspace)` asks, straight into `WatchEvent`s
 * whose keys and values are views of the bytes; or with `batches(keyspace)`, checked at once and
 * built only when the consumer takes each batch (`PendingBatch`). One decoder is reused for every
 * message of a stream: what `read` returns is valid until the next `read`.
 *
 * Field numbers come from the generated schemas (WatchResponse, mvccpb.Event, mvccpb.KeyValue),
 * so a regenerated API cannot drift from this decoder. Unknown fields are skipped.
 *
 * @example
 * const reply = decoder.read(payload);
 * if (!reply.created) deliver(reply.events(keyspace));
 */
export class WatchResponseDecoder implements WatchReply {
  readonly #reader = new WireReader();
  #buf: Uint8Array = new Uint8Array(0);
  /** Start and end of each event's bytes in `#buf`, in pairs; a new array per message. */
  #bounds: number[] = [];
  header: ResponseHeader = NO_HEADER;
  watchId = 0n;
  created = false;
  canceled = false;
  compactRevision = 0n;
  cancelReason = "";
  fragment = false;

  get eventCount(): number {
    return this.#bounds.length >> 1;
  }

  /** Reads the WatchResponse in `payload`; throws when it is malformed. */
  read(payload: Uint8Array): WatchReply {
    // A Node Buffer's subarray goes through its species constructor: several times slower than
    // a plain Uint8Array's, and every key and value is one.
    const bytes =
      payload.constructor === Uint8Array
        ? payload
        : new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    this.#buf = bytes;
    this.#bounds = [];
    this.header = NO_HEADER;
    this.watchId = 0n;
    this.created = false;
    this.canceled = false;
    this.compactRevision = 0n;
    this.cancelReason = "";
    this.fragment = false;
    const reader = this.#reader.reset(bytes);
    const end = reader.end;
    while (!reader.done) {
      const tag = reader.uint32();
      const wireType = tag & 7;
      const field = tag >>> 3;
      if (field === W_EVENTS) {
        expectWireType(wireType, WireType.LengthDelimited, "WatchResponse.events");
        const stop = reader.lengthPrefixed();
        this.#bounds.push(reader.pos, stop);
        reader.pos = stop;
      } else if (field === W_HEADER) {
        expectWireType(wireType, WireType.LengthDelimited, "WatchResponse.header");
        reader.end = reader.lengthPrefixed();
        this.header = decodeHeader(reader);
        reader.end = end;
      } else if (field === W_CANCEL_REASON) {
        expectWireType(wireType, WireType.LengthDelimited, "WatchResponse.cancel_reason");
        this.cancelReason = toText(reader.bytes());
      } else if (
        field === W_WATCH_ID ||
        field === W_CREATED ||
        field === W_CANCELED ||
        field === W_COMPACT_REVISION ||
        field === W_FRAGMENT
      ) {
        expectWireType(wireType, WireType.Varint, `WatchResponse field ${field}`);
        const value = reader.int64(true);
        if (field === W_WATCH_ID) this.watchId = value;
        else if (field === W_COMPACT_REVISION) this.compactRevision = value;
        else if (field === W_CREATED) this.created = value !== 0n;
        else if (field === W_CANCELED) this.canceled = value !== 0n;
        else this.fragment = value !== 0n;
      } else reader.skip(wireType);
    }
    return this;
  }

  events(keyspace: Keyspace): WatchEvent[] {
    return new ResponseEvents(this.#buf, this.#bounds, keyspace).decode(0, this.eventCount);
  }

  /** Checks every event now (a malformed one throws here), and splits them by revision. */
  batches(keyspace: Keyspace): PendingBatch[] {
    const buf = this.#buf;
    const bounds = this.#bounds;
    const reader = this.#reader;
    const source = new ResponseEvents(buf, bounds, keyspace);
    const header = this.header;
    const batches: PendingBatch[] = [];
    let start = 0;
    let revision = -1n;
    const count = bounds.length >> 1;
    for (let i = 0; i < count; i++) {
      const rev = checkEvent(
        reader.reset(buf, bounds[2 * i] as number, bounds[2 * i + 1] as number),
      );
      if (rev !== revision) {
        if (i > start) batches.push(new PendingBatch(revision, header, i - start, source, start));
        start = i;
        revision = rev;
      }
    }
    if (count > start)
      batches.push(new PendingBatch(revision, header, count - start, source, start));
    return batches;
  }
}

/** The events of one response, decoded on demand. */
class ResponseEvents implements EncodedEvents {
  readonly #buf: Uint8Array;
  readonly #bounds: readonly number[];
  readonly #keyspace: Keyspace;

  constructor(buf: Uint8Array, bounds: readonly number[], keyspace: Keyspace) {
    this.#buf = buf;
    this.#bounds = bounds;
    this.#keyspace = keyspace;
  }

  decode(from: number, to: number): WatchEvent[] {
    const bounds = this.#bounds;
    const reader = new WireReader();
    const events: WatchEvent[] = new Array(to - from);
    for (let i = from; i < to; i++) {
      events[i - from] = decodeEvent(
        reader.reset(this.#buf, bounds[2 * i] as number, bounds[2 * i + 1] as number),
        this.#keyspace,
      );
    }
    return events;
  }
}

/**
 * Walks the mvccpb.Event in [reader.pos, reader.end) as `decodeEvent` would, building nothing:
 * throws where it would throw, so that decoding it later cannot. Returns the key's mod revision.
 */
function checkEvent(reader: WireReader): bigint {
  const end = reader.end;
  let modRevision: bigint | undefined;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === E_KV || field === E_PREV_KV) {
      expectWireType(wireType, WireType.LengthDelimited, `mvccpb.Event field ${field}`);
      reader.end = reader.lengthPrefixed();
      const revision = checkKeyValue(reader);
      reader.end = end;
      if (field === E_KV) modRevision = revision;
    } else if (field === E_TYPE) {
      expectWireType(wireType, WireType.Varint, "mvccpb.Event.type");
      reader.int64(true);
    } else reader.skip(wireType);
  }
  if (modRevision === undefined) throw new TypeError("etcd sent a watch event without a key");
  return modRevision;
}

/** Walks the mvccpb.KeyValue in [reader.pos, reader.end) as `decodeKeyValue` would. */
function checkKeyValue(reader: WireReader): bigint {
  let modRevision = 0n;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === KV_KEY || field === KV_VALUE) {
      expectWireType(wireType, WireType.LengthDelimited, `mvccpb.KeyValue field ${field}`);
      reader.pos = reader.lengthPrefixed();
    } else if (field === KV_MOD_REVISION) {
      expectWireType(wireType, WireType.Varint, `mvccpb.KeyValue field ${field}`);
      modRevision = reader.int64(true);
    } else if (field === KV_CREATE_REVISION || field === KV_VERSION || field === KV_LEASE) {
      expectWireType(wireType, WireType.Varint, `mvccpb.KeyValue field ${field}`);
      reader.skip(wireType);
    } else reader.skip(wireType);
  }
  return modRevision;
}

/** Decodes the mvccpb.Event in [reader.pos, reader.end). */
function decodeEvent(reader: WireReader, keyspace: Keyspace): WatchEvent {
  const end = reader.end;
  let type = 0;
  let kv: KeyValue | undefined;
  let prevKv: KeyValue | undefined;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === E_KV || field === E_PREV_KV) {
      expectWireType(wireType, WireType.LengthDelimited, `mvccpb.Event field ${field}`);
      reader.end = reader.lengthPrefixed();
      const decoded = decodeKeyValue(reader, keyspace);
      reader.end = end;
      if (field === E_KV) kv = decoded;
      else prevKv = decoded;
    } else if (field === E_TYPE) {
      expectWireType(wireType, WireType.Varint, "mvccpb.Event.type");
      // Always one byte from etcd (0 or 1); the general varint otherwise.
      const byte = reader.buf[reader.pos] as number;
      if (byte < 0x80 && reader.pos < end) {
        type = byte;
        reader.pos++;
      } else type = Number(BigInt.asIntN(32, reader.int64(true)));
    } else reader.skip(wireType);
  }
  if (!kv) throw new TypeError("etcd sent a watch event without a key");
  return { type: type === Event_EventType.DELETE ? "delete" : "put", kv, prevKv };
}
