import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { WatchRequestSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { FRAME_HEADER_BYTES } from "../connection/grpc-frame.ts";

/**
 * Watch requests as the body bytes of a gRPC stream: each serialized and length-prefixed, all in
 * one array so that they leave in one write. Requests are rare (creates, cancels, progress), so
 * protobuf-es encodes them.
 *
 * @example
 * frames.write(requestFrames([{ requestUnion: { case: "progressRequest", value: {} } }]));
 */
export function requestFrames(
  requests: readonly MessageInitShape<typeof WatchRequestSchema>[],
): Uint8Array {
  const messages = requests.map((request) =>
    toBinary(WatchRequestSchema, create(WatchRequestSchema, request)),
  );
  let size = 0;
  for (const message of messages) size += FRAME_HEADER_BYTES + message.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const message of messages) {
    // No compression flag, then the length as a 32-bit big-endian integer.
    view.setUint32(pos + 1, message.byteLength);
    out.set(message, pos + FRAME_HEADER_BYTES);
    pos += FRAME_HEADER_BYTES + message.byteLength;
  }
  return out;
}
