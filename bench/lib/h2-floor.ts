/**
 * The floor under every client on node:http2: a hand-written unary gRPC call on one connection
 * that encodes its request with protobuf-es, sends it as one HTTP/2 stream, checks the status in
 * the trailers and does not decode the response (a range only reads its `count` field). Nothing
 * built on node:http2 can do a call with less client CPU, so the report shows how close the
 * lean transport comes to it.
 */
import { type ClientHttp2Session, connect } from "node:http2";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { PutRequestSchema, RangeRequestSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { prefixEnd } from "../../src/index.ts";
import type { BenchClient } from "./bench-client.ts";

const enc = new TextEncoder();

/** The floor client on the first endpoint. */
export function h2FloorClient(endpoint: string): BenchClient {
  let session: ClientHttp2Session | undefined;
  const open = (): ClientHttp2Session => {
    if (session === undefined || session.closed || session.destroyed) session = connect(endpoint);
    return session;
  };
  const call = <D extends DescMessage>(
    path: string,
    schema: D,
    init: MessageInitShape<D>,
  ): Promise<Uint8Array> => {
    const body = toBinary(schema, create(schema, init));
    const frame = Buffer.allocUnsafe(5 + body.byteLength);
    frame[0] = 0;
    frame.writeUInt32BE(body.byteLength, 1);
    frame.set(body, 5);
    return new Promise((resolve, reject) => {
      const stream = open().request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc+proto",
        te: "trailers",
      });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("trailers", (trailers) => {
        status = String(trailers["grpc-status"]);
      });
      stream.on("error", reject);
      stream.on("close", () => {
        if (status !== "0") reject(new Error(`${path}: grpc-status ${status}`));
        else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
      });
      stream.end(frame);
    });
  };
  return {
    name: "h2.floor",
    put: (k, v) =>
      call("/etcdserverpb.KV/Put", PutRequestSchema, { key: enc.encode(k), value: enc.encode(v) }),
    get: (k) => call("/etcdserverpb.KV/Range", RangeRequestSchema, { key: enc.encode(k) }),
    rangePrefix: async (p) => {
      const key = enc.encode(p);
      const frame = await call("/etcdserverpb.KV/Range", RangeRequestSchema, {
        key,
        rangeEnd: prefixEnd(key),
      });
      return Number(countField(frame.subarray(5)));
    },
    close: async () => {
      session?.close();
    },
  };
}

/**
 * RangeResponse.count (field 4) read by skipping the other top-level fields, so the floor does
 * not decode the key-values it received.
 */
function countField(payload: Uint8Array): number {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = payload[pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
  };
  let count = 0;
  while (pos < payload.byteLength) {
    const tag = varint();
    if ((tag & 7) === 2) {
      const length = varint();
      pos += length;
    } else if ((tag & 7) === 0) {
      const value = varint();
      if (tag >>> 3 === 4) count = value;
    } else throw new Error(`unexpected wire type ${tag & 7} in RangeResponse`);
  }
  return count;
}
