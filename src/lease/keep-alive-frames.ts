import {
  LeaseKeepAliveRequestSchema,
  LeaseKeepAliveResponseSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { FRAME_HEADER_BYTES } from "../connection/grpc-frame.ts";
import { WireReader } from "../core/wire.ts";
import { writeInt64Varint } from "../core/wire-writer.ts";
import type { KeepAliveFrameCodec } from "./keep-alive-frame-codec.ts";

const ID_TAG = LeaseKeepAliveRequestSchema.field.ID.number << 3;
const RESPONSE_ID = LeaseKeepAliveResponseSchema.field.ID.number;
const RESPONSE_TTL = LeaseKeepAliveResponseSchema.field.TTL.number;
/** A request at its largest: prefix, tag and a 10-byte varint. */
export const MAX_REQUEST_BYTES = FRAME_HEADER_BYTES + 11;

/**
 * The ID and TTL of a LeaseKeepAliveResponse, read in place (the header is skipped); 0 for a
 * field that is absent, as protobuf decodes it.
 *
 * @example
 * const { id, ttl } = decodeKeepAliveResponse(new WireReader(payload));
 */
export function decodeKeepAliveResponse(reader: WireReader): { id: bigint; ttl: bigint } {
  let id = 0n;
  let ttl = 0n;
  while (!reader.done) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === RESPONSE_ID && (tag & 7) === 0) id = reader.int64(true);
    else if (field === RESPONSE_TTL && (tag & 7) === 0) ttl = reader.int64(true);
    else reader.skip(tag & 7);
  }
  return { id, ttl };
}

/**
 * Writes one length-prefixed LeaseKeepAliveRequest at `pos` of a zeroed `out` with room for
 * `MAX_REQUEST_BYTES`; returns where it ends. ID 0 is left out, as protobuf leaves out a field
 * at its default.
 *
 * @example
 * const end = encodeKeepAliveRequest(new Uint8Array(16), 0, 0x694d9a0f2b6c3e01n);
 */
export function encodeKeepAliveRequest(out: Uint8Array, pos: number, id: bigint): number {
  const start = pos;
  pos += FRAME_HEADER_BYTES;
  if (id !== 0n) {
    out[pos++] = ID_TAG;
    pos = writeInt64Varint(out, pos, id);
  }
  // The prefix: no compression flag, then the length in 32-bit big-endian (at most 11 here).
  out[start + 4] = pos - start - FRAME_HEADER_BYTES;
  return pos;
}

/** One reader for every stream: each answer is read whole before the next arrives. */
const reader = new WireReader();

/**
 * The keep-alive frame codec of the Node entry's platform.
 *
 * @example
 * const { id, ttl } = keepAliveFrames.decode(payload);
 */
export const keepAliveFrames: KeepAliveFrameCodec = {
  maxRequestBytes: MAX_REQUEST_BYTES,
  encode: encodeKeepAliveRequest,
  decode: (payload) => decodeKeepAliveResponse(reader.reset(payload)),
};
