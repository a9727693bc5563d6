/**
 * The lean transport's gRPC framing and status handling, on a fake HTTP/2 session whose streams
 * the test scripts event by event (response headers, DATA chunks cut anywhere, trailers, resets):
 * cuts etcd's server never makes on demand. grpc-status.test.ts covers the helper functions;
 * these go through a whole unary call.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, test } from "node:test";
import { create, equals, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { KV, RangeResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { encodeFrame } from "../../src/connection/grpc-frame.ts";
import { createLeanTransport } from "../../src/connection/lean-transport.ts";
import { neverLeft } from "../../src/connection/retry-policy.ts";

type Script = (stream: FakeStream) => void;

class FakeStream extends EventEmitter {
  rstCode: number | undefined;
  closed = false;
  destroyed = false;
  sent: Buffer | undefined;
  readonly #script: Script;

  constructor(script: Script) {
    super();
    this.#script = script;
  }

  end(frame: Buffer): void {
    this.sent = frame;
    queueMicrotask(() => this.#script(this));
  }

  close(code = 0): void {
    if (this.closed) return;
    this.closed = true;
    this.rstCode = code;
    queueMicrotask(() => this.emit("close"));
  }

  /** The server's side, in order. */
  respond(
    headers: Record<string, string | number>,
    chunks: Uint8Array[],
    trailers?: Record<string, string>,
  ): void {
    this.emit("response", { ":status": 200, "content-type": "application/grpc", ...headers }, 0);
    for (const chunk of chunks) {
      if (this.closed) return;
      this.emit("data", Buffer.from(chunk));
    }
    if (this.closed) return;
    if (trailers) this.emit("trailers", trailers);
    this.close(0);
  }
}

function transport(script: Script, maxReceiveBytes?: number) {
  const streams: FakeStream[] = [];
  const session = {
    authority: "http://fake:2379",
    request: async () => {
      const stream = new FakeStream(script);
      streams.push(stream);
      return stream;
    },
  } as unknown as Http2SessionManager;
  const t = createLeanTransport({
    baseUrl: "http://fake:2379",
    session,
    streams: {} as Transport,
    ...(maxReceiveBytes === undefined ? {} : { maxReceiveBytes }),
  });
  return { kv: createClient(KV, t), streams };
}

const OK = { "grpc-status": "0" };

const message = create(RangeResponseSchema, {
  header: { revision: 77n, memberId: 2n ** 63n + 5n },
  kvs: [
    { key: Uint8Array.of(1, 2, 3), value: new Uint8Array(40).fill(9), modRevision: 300n },
    { key: Uint8Array.of(4), value: Uint8Array.of(), modRevision: 2n ** 40n },
  ],
  count: 2n,
});
const frame = encodeFrame(toBinary(RangeResponseSchema, message));

function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const point of [...at, bytes.length]) {
    pieces.push(bytes.subarray(from, point));
    from = point;
  }
  return pieces;
}

describe("lean transport framing", () => {
  test("a response frame split at every byte boundary decodes the same", async () => {
    for (let at = 0; at <= frame.length; at++) {
      const { kv } = transport((s) => s.respond({}, cut(frame, [at]), OK));
      const response = await kv.range({ key: Uint8Array.of(1) });
      assert.ok(equals(RangeResponseSchema, response, message), `cut at ${at}`);
    }
  });

  test("a frame in one-byte chunks, and with the prefix cut in three, decodes the same", async () => {
    const bytes = Array.from({ length: frame.length - 1 }, (_, i) => i + 1);
    for (const at of [bytes, [1, 3, 4], [2, 5, 6]]) {
      const { kv } = transport((s) => s.respond({}, cut(frame, at), OK));
      assert.ok(equals(RangeResponseSchema, await kv.range({}), message), String(at.length));
    }
  });

  test("two frames in one chunk, or a second frame later, are refused for a unary call", async () => {
    for (const chunks of [[Buffer.concat([frame, frame])], [frame, frame.subarray(0, 5)]]) {
      const { kv } = transport((s) => s.respond({}, chunks, OK));
      await assert.rejects(kv.range({}), (e: ConnectError) => {
        assert.equal(e.code, Code.Unimplemented);
        assert.match(e.rawMessage, /more than one message/);
        return true;
      });
    }
  });

  test("a compressed frame fails the call and cancels the stream", async () => {
    const compressed = Buffer.from(frame);
    compressed[0] = 1;
    const { kv, streams } = transport((s) => s.respond({}, [compressed], OK));
    await assert.rejects(kv.range({}), (e: ConnectError) => {
      assert.equal(e.code, Code.Internal);
      assert.match(e.rawMessage, /compress/);
      return true;
    });
    assert.equal(streams[0]?.rstCode, 8, "RST_STREAM CANCEL");
  });

  test("an oversize message is refused as soon as its prefix declares it", async () => {
    let chunksSent = 0;
    const big = encodeFrame(new Uint8Array(5000));
    const { kv, streams } = transport((s) => {
      s.emit("response", { ":status": 200, "content-type": "application/grpc" }, 0);
      for (const chunk of cut(big, [5, 1000, 2000])) {
        if (s.closed) break;
        chunksSent++;
        s.emit("data", Buffer.from(chunk));
      }
    }, 4096);
    await assert.rejects(kv.range({}), (e: ConnectError) => {
      assert.equal(e.code, Code.ResourceExhausted);
      assert.match(e.rawMessage, /5000 bytes exceeds maxReceiveBytes \(4096\)/);
      return true;
    });
    assert.equal(chunksSent, 1, "not a byte read after the prefix");
    assert.equal(streams[0]?.rstCode, 8);
    const { kv: fits } = transport((s) => s.respond({}, [frame], OK), frame.length - 5);
    assert.ok(equals(RangeResponseSchema, await fits.range({}), message), "exactly the limit");
  });

  test("trailers-only: the status in the response headers, percent-encoded message decoded", async () => {
    const { kv } = transport((s) => {
      s.emit(
        "response",
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": "5",
          "grpc-message": "etcdserver: caf%C3%A9 100%25 not found",
        },
        1, // END_STREAM on the headers
      );
      s.close(0);
    });
    await assert.rejects(kv.range({}), (e: ConnectError) => {
      assert.equal(e.code, Code.NotFound);
      assert.equal(e.rawMessage, "etcdserver: café 100% not found");
      return true;
    });
  });

  test("grpc-status in trailers wins over a message already received", async () => {
    const { kv } = transport((s) =>
      s.respond({}, [frame], {
        "grpc-status": "14",
        "grpc-message": "etcdserver: no leader",
      }),
    );
    await assert.rejects(kv.range({}), {
      code: Code.Unavailable,
      rawMessage: "etcdserver: no leader",
    });
  });

  test("grpc-status-details-bin carries code, message and details", async () => {
    const any = new BinaryWriter()
      .tag(1, 2)
      .string("type.googleapis.com/google.rpc.ErrorInfo")
      .tag(2, 2)
      .bytes(Uint8Array.of(7, 7))
      .finish();
    const status = new BinaryWriter()
      .tag(1, 0)
      .int32(Code.FailedPrecondition)
      .tag(2, 2)
      .string("etcdserver: détail")
      .tag(3, 2)
      .bytes(any)
      .finish();
    const bin = Buffer.from(status).toString("base64").replace(/=+$/, "");
    const { kv } = transport((s) =>
      s.respond({}, [], {
        "grpc-status": "9",
        "grpc-message": "ignored",
        "grpc-status-details-bin": bin,
      }),
    );
    await assert.rejects(kv.range({}), (e: ConnectError) => {
      assert.equal(e.code, Code.FailedPrecondition);
      assert.equal(e.rawMessage, "etcdserver: détail");
      assert.deepEqual(
        e.details.map((d) => ("type" in d ? [d.type, [...d.value]] : [])),
        [["google.rpc.ErrorInfo", [7, 7]]],
      );
      return true;
    });
  });

  test("an unknown grpc-status is Internal; a missing one, or no message, is an error", async () => {
    const cases: [Script, Code, RegExp][] = [
      [
        (s) => s.respond({}, [frame], { "grpc-status": "99" }),
        Code.Internal,
        /invalid grpc-status/,
      ],
      [(s) => s.respond({}, [frame], {}), Code.Internal, /status missing/],
      [(s) => s.respond({}, [frame]), Code.Internal, /before the gRPC status/],
      [(s) => s.respond({}, [], OK), Code.Unimplemented, /without a message/],
      [(s) => s.respond({}, [frame.subarray(0, 9)], OK), Code.Internal, /truncated/],
      [(s) => s.respond({ ":status": 503 }, [], OK), Code.Unavailable, /HTTP status 503/],
      [(s) => s.respond({ "content-type": "text/html" }, [], OK), Code.Unknown, /content-type/],
    ];
    for (const [script, code, pattern] of cases) {
      const { kv } = transport(script);
      await assert.rejects(kv.range({}), (e: ConnectError) => {
        assert.equal(e.code, code, e.message);
        assert.match(e.rawMessage, pattern);
        return true;
      });
    }
  });

  test("a reset before any headers: REFUSED_STREAM proves it never left, others do not", async () => {
    const refused = transport((s) => s.close(7));
    const error = await refused.kv.range({}).catch((e: unknown) => e);
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Unavailable);
    assert.ok(neverLeft(error), "may be sent again, even a write");
    const internal = transport((s) => s.close(2));
    const other = await internal.kv.put({}).catch((e: unknown) => e);
    assert.ok(other instanceof ConnectError);
    assert.equal(other.code, Code.Unavailable);
    assert.ok(!neverLeft(other), "a write reset mid-call may have been applied");
  });

  test("the request goes out as one uncompressed length-prefixed frame", async () => {
    const { kv, streams } = transport((s) => s.respond({}, [frame], OK));
    await kv.range({ key: Uint8Array.of(0xaa, 0xbb) });
    const sent = streams[0]?.sent;
    assert.ok(sent);
    assert.equal(sent[0], 0, "not compressed");
    assert.equal(sent.readUInt32BE(1), sent.length - 5);
    assert.deepEqual([...sent.subarray(5)], [0x0a, 2, 0xaa, 0xbb], "RangeRequest{key}");
  });
});
