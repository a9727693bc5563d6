import { WatchResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Event_EventType, EventSchema } from "../../gen/mvccpb/kv_pb.ts";
import { toText } from "../core/keys.ts";
import { WireReader, WireType } from "../core/wire.ts";
import type { KeyValue, ResponseHeader } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import { decodeHeader, decodeKeyValue, expectWireType } from "../kv/range-result-decoder.ts";
import type { WatchEvent } from "./events.ts";
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

/**
 * Reads etcd's WatchResponse from its bytes without building the generated message objects: the
 * fields at once, the events only when `events(keyspace)` asks, straight into `WatchEvent`s
 * whose keys and values are views of the bytes. One decoder is reused for every message of a
 * stream: what `read` returns is valid until the next `read`.
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
  /** Start and end of each event's bytes in `#buf`, in pairs. */
  readonly #bounds: number[] = [];
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
    this.#buf = payload;
    this.#bounds.length = 0;
    this.header = NO_HEADER;
    this.watchId = 0n;
    this.created = false;
    this.canceled = false;
    this.compactRevision = 0n;
    this.cancelReason = "";
    this.fragment = false;
    const reader = this.#reader.reset(payload);
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
    const bounds = this.#bounds;
    const reader = this.#reader;
    const events: WatchEvent[] = new Array(bounds.length >> 1);
    for (let i = 0; i < bounds.length; i += 2) {
      events[i >> 1] = decodeEvent(
        reader.reset(this.#buf, bounds[i] as number, bounds[i + 1] as number),
        keyspace,
      );
    }
    return events;
  }
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
