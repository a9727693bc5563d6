import { WatchResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType, EventSchema } from "../../gen/mvccpb/kv_pb.ts";
import { toText } from "../core/keys.ts";
import { WireReader, WireType } from "../core/wire.ts";
import type { KeyValue, ResponseHeader } from "../kv/key-value.ts";
import {
  decodeHeader,
  decodeKeyValue,
  expectWireType,
  int64Varint,
  NO_MOD_REVISION,
  walkKeyValue,
} from "../kv/key-value-wire.ts";
import type { Keyspace } from "../kv/keyspace.ts";
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

const NO_HEADER: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Reads etcd's WatchResponse from its bytes without building the generated message objects.
 * `read` reads the fields and walks every event as decoding it would (so a malformed one throws
 * there), noting where each revision starts; the events become `WatchEvent`s, whose keys and
 * values are views of the bytes, when `events(keyspace)` asks, or with `batches(keyspace)`
 * only when the consumer takes each revision's batch (`PendingBatch`). One decoder is reused
 * for every message of a stream: what `read` returns is valid until the next `read`.
 *
 * Field numbers come from the generated schemas (WatchResponse, mvccpb.Event, mvccpb.KeyValue),
 * so a regenerated API cannot drift from this decoder. Unknown fields are skipped.
 *
 * @example
 * const reply = decoder.read(payload);
 * if (!reply.created) deliver(reply.batches(keyspace));
 */
export class WatchResponseDecoder implements WatchReply {
  readonly #reader = new WireReader();
  readonly #peek = new WireReader();
  #buf: Uint8Array = EMPTY;
  /** Start and end of each event's bytes in `#buf`, in pairs; new arrays per message. */
  #bounds: number[] = [];
  /** The index of each revision's first event, and that revision. */
  #starts: number[] = [];
  #revisions: bigint[] = [];
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
    const buf =
      payload.constructor === Uint8Array
        ? payload
        : new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    this.#buf = buf;
    this.#bounds = [];
    this.#starts = [];
    this.#revisions = [];
    this.header = NO_HEADER;
    this.watchId = 0n;
    this.created = false;
    this.canceled = false;
    this.compactRevision = 0n;
    this.cancelReason = "";
    this.fragment = false;
    const reader = this.#reader.reset(buf);
    const end = reader.end;
    /** Where the previous event's mod_revision varint is, to compare bytes rather than values. */
    let previousAt = NO_MOD_REVISION;
    let revision = 0n;
    while (!reader.done) {
      const tag = reader.uint32();
      const wireType = tag & 7;
      const field = tag >>> 3;
      if (field === W_EVENTS) {
        expectWireType(wireType, WireType.LengthDelimited, "WatchResponse.events");
        const stop = reader.lengthPrefixed();
        const start = reader.pos;
        reader.end = stop;
        const at = checkEvent(reader);
        reader.end = end;
        const index = this.#bounds.length >> 1;
        if (index === 0 || !sameVarint(buf, at, previousAt)) {
          const value = at === NO_MOD_REVISION ? 0n : this.#peek.reset(buf, at, stop).int64(true);
          if (index === 0 || value !== revision) {
            this.#starts.push(index);
            this.#revisions.push(value);
            revision = value;
          }
        }
        previousAt = at;
        this.#bounds.push(start, stop);
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
        // Watch IDs count from 0 on each stream: most fit in one byte, read without a new bigint.
        const value = int64Varint(reader);
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

  /** The events in one batch per revision, each decoded when the consumer takes it. */
  batches(keyspace: Keyspace): PendingBatch[] {
    const source = new ResponseEvents(this.#buf, this.#bounds, keyspace);
    const starts = this.#starts;
    const count = this.eventCount;
    const batches: PendingBatch[] = new Array(starts.length);
    for (let i = 0; i < starts.length; i++) {
      const from = starts[i] as number;
      const to = i + 1 < starts.length ? (starts[i + 1] as number) : count;
      const revision = this.#revisions[i] as bigint;
      batches[i] = new PendingBatch(revision, this.header, to - from, source, from);
    }
    return batches;
  }
}

/** The events of one response, decoded on demand; `read` checked them all. */
class ResponseEvents implements EncodedEvents {
  readonly #buf: Uint8Array;
  readonly #bounds: readonly number[];
  readonly #keyspace: Keyspace;

  constructor(buf: Uint8Array, bounds: readonly number[], keyspace: Keyspace) {
    this.#buf = buf;
    this.#bounds = bounds;
    this.#keyspace = keyspace;
  }

  decode(from: number, to: number, revision?: bigint): WatchEvent[] {
    const bounds = this.#bounds;
    const reader = new WireReader();
    const events: WatchEvent[] = new Array(to - from);
    for (let i = from; i < to; i++) {
      events[i - from] = decodeEvent(
        reader.reset(this.#buf, bounds[2 * i] as number, bounds[2 * i + 1] as number),
        this.#keyspace,
        revision,
      );
    }
    return events;
  }
}

/**
 * Walks the mvccpb.Event in [reader.pos, reader.end) as `decodeEvent` will, building nothing:
 * throws where it would throw, so that decoding it later cannot. Returns where its key's
 * mod_revision varint starts, or NO_MOD_REVISION.
 */
function checkEvent(reader: WireReader): number {
  const end = reader.end;
  let modRevisionAt = NO_MOD_REVISION;
  let hasKv = false;
  while (!reader.done) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    const field = tag >>> 3;
    if (field === E_KV || field === E_PREV_KV) {
      expectWireType(wireType, WireType.LengthDelimited, `mvccpb.Event field ${field}`);
      reader.end = reader.lengthPrefixed();
      const at = walkKeyValue(reader);
      reader.end = end;
      if (field === E_KV) {
        hasKv = true;
        modRevisionAt = at;
      }
    } else if (field === E_TYPE) {
      expectWireType(wireType, WireType.Varint, "mvccpb.Event.type");
      reader.skip(wireType);
    } else reader.skip(wireType);
  }
  if (!hasKv) throw new TypeError("etcd sent a watch event without a key");
  return modRevisionAt;
}

/** Whether the varints at `a` and `b` (or NO_MOD_REVISION) are the same bytes. */
function sameVarint(buf: Uint8Array, a: number, b: number): boolean {
  if (a === NO_MOD_REVISION || b === NO_MOD_REVISION) return a === b;
  for (;;) {
    const byte = buf[a++] as number;
    if (byte !== buf[b++]) return false;
    if (byte < 0x80) return true;
  }
}

/**
 * Decodes the mvccpb.Event in [reader.pos, reader.end). `revision`, when given, is its key's
 * mod revision as the batch already has it (no new bigint per event).
 */
function decodeEvent(reader: WireReader, keyspace: Keyspace, revision?: bigint): WatchEvent {
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
      if (field === E_KV) kv = decodeKeyValue(reader, keyspace, revision);
      else prevKv = decodeKeyValue(reader, keyspace);
      reader.end = end;
    } else if (field === E_TYPE) {
      expectWireType(wireType, WireType.Varint, "mvccpb.Event.type");
      type = Number(BigInt.asIntN(32, int64Varint(reader)));
    } else reader.skip(wireType);
  }
  if (!kv) throw new TypeError("etcd sent a watch event without a key");
  return { type: type === Event_EventType.DELETE ? "delete" : "put", kv, prevKv };
}
