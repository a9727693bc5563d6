import type { MessageInitShape } from "@bufbuild/protobuf";
import type { WatchRequestSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import type { WatchReply } from "./watch-reply.ts";

/**
 * The Watch call's bytes for a raw frame stream: requests encoded and length-prefixed, responses
 * read in place. Brought by the Node entry's platform (`WatchResponseDecoder`, `requestFrames`),
 * so that the web entry, whose transports have no frame stream, does not bundle them.
 *
 * @example
 * const codec: WatchFrameCodec = { decoder: () => new WatchResponseDecoder(), encode: requestFrames };
 */
export interface WatchFrameCodec {
  /** A decoder for one stream: what `read` returns is valid until its next `read`. */
  decoder(): { read(payload: Uint8Array): WatchReply };
  /** The requests as a gRPC stream's body bytes, to leave in one write. */
  encode(requests: readonly MessageInitShape<typeof WatchRequestSchema>[]): Uint8Array;
}
