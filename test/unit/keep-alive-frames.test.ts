/**
 * The keep-alive stream's hand-written wire format and its frame stream, where etcd cannot be
 * made to produce the case on demand: every int64 lease ID (etcd hands out only positive ones),
 * responses with every field combination, and response messages cut at any byte across DATA
 * chunks (TCP decides that). The stream runs on a fake HTTP/2 stream scripted by the test; the
 * integration lease tests cover the same code against etcd.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import fc from "fast-check";
import {
  Lease,
  LeaseKeepAliveRequestSchema,
  LeaseKeepAliveResponseSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { FrameStream } from "../../src/connection/frame-stream.ts";
import { encodeFrame } from "../../src/connection/grpc-frame.ts";
import { WireReader } from "../../src/core/wire.ts";
import {
  decodeKeepAliveResponse,
  encodeKeepAliveRequest,
  MAX_REQUEST_BYTES,
} from "../../src/lease/keep-alive-frames.ts";

const int64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);

test("keep-alive requests encode as protobuf-es encodes them, one after another", () => {
  fc.assert(
    fc.property(fc.array(int64, { minLength: 1, maxLength: 8 }), (ids) => {
      const out = new Uint8Array(ids.length * MAX_REQUEST_BYTES);
      let end = 0;
      for (const id of ids) end = encodeKeepAliveRequest(out, end, id);
      const expected = Buffer.concat(
        ids.map((ID) =>
          encodeFrame(
            toBinary(LeaseKeepAliveRequestSchema, create(LeaseKeepAliveRequestSchema, { ID })),
          ),
        ),
      );
      assert.deepEqual(Buffer.from(out.subarray(0, end)), expected);
    }),
  );
});

test("keep-alive responses decode to the ID and TTL protobuf-es reads", () => {
  fc.assert(
    fc.property(int64, int64, fc.bigInt(0n, 2n ** 63n - 1n), (ID, TTL, revision) => {
      const bytes = toBinary(
        LeaseKeepAliveResponseSchema,
        create(LeaseKeepAliveResponseSchema, {
          ID,
          TTL,
          header: { clusterId: 1n, memberId: 2n, revision, raftTerm: 3n },
        }),
      );
      assert.deepEqual(decodeKeepAliveResponse(new WireReader(bytes)), { id: ID, ttl: TTL });
    }),
  );
});

class FakeStream extends EventEmitter {
  rstCode: number | undefined;
  closed = false;
  destroyed = false;
  readonly written: Uint8Array[] = [];

  write(bytes: Uint8Array): void {
    this.written.push(bytes);
  }

  close(code = 0): void {
    if (this.closed) return;
    this.closed = true;
    this.rstCode = code;
    queueMicrotask(() => this.emit("close"));
  }
}

function fakeSession(stream: FakeStream): Http2SessionManager {
  return {
    authority: "http://fake",
    request: async () => stream,
    notifyResponseByteRead: () => {},
  } as unknown as Http2SessionManager;
}

async function openOn(stream: FakeStream, max = 1 << 20) {
  const payloads: Buffer[] = [];
  let ended: (error: ConnectError | undefined) => void = () => {};
  const end = new Promise<ConnectError | undefined>((resolve) => {
    ended = resolve;
  });
  const frames = await FrameStream.open(
    fakeSession(stream),
    Lease.method.leaseKeepAlive.name,
    {},
    { message: (payload) => payloads.push(Buffer.from(payload)), end: (error) => ended(error) },
    max,
  );
  return { frames, payloads, end };
}

function responses(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(
      toBinary(
        LeaseKeepAliveResponseSchema,
        create(LeaseKeepAliveResponseSchema, { ID: BigInt(i + 1), TTL: 10n }),
      ),
    ),
  );
}

test("frame stream: messages cut anywhere across DATA chunks arrive whole and in order", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      async (count, cutSeeds) => {
        const messages = responses(count);
        const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
        const cuts = [...new Set(cutSeeds.map((c) => c % bytes.byteLength))].sort((a, b) => a - b);
        const stream = new FakeStream();
        const { payloads, end } = await openOn(stream);
        stream.emit("response", { ":status": 200, "content-type": "application/grpc" }, 0);
        let from = 0;
        for (const cut of [...cuts, bytes.byteLength]) {
          if (cut > from) stream.emit("data", bytes.subarray(from, cut));
          from = cut;
        }
        stream.emit("trailers", { "grpc-status": "0" });
        stream.close();
        assert.equal(await end, undefined);
        assert.deepEqual(payloads, messages);
      },
    ),
  );
});

test("frame stream: a gRPC error in the trailers ends it with that code and message", async () => {
  const stream = new FakeStream();
  const { end } = await openOn(stream);
  stream.emit("response", { ":status": 200, "content-type": "application/grpc" }, 0);
  stream.emit("trailers", {
    "grpc-status": String(Code.PermissionDenied),
    "grpc-message": "etcdserver: permission denied",
  });
  stream.close();
  const error = await end;
  assert.ok(error instanceof ConnectError);
  assert.equal(error.code, Code.PermissionDenied);
  assert.equal(error.rawMessage, "etcdserver: permission denied");
});

test("frame stream: a reset before any status ends it as Unavailable", async () => {
  const stream = new FakeStream();
  const { end } = await openOn(stream);
  stream.emit("response", { ":status": 200, "content-type": "application/grpc" }, 0);
  stream.emit("data", encodeFrame(responses(1)[0] as Buffer));
  stream.close(2);
  const error = await end;
  assert.ok(error instanceof ConnectError);
  assert.equal(error.code, Code.Unavailable);
});

test("frame stream: a message over the receive limit ends it as ResourceExhausted and resets it", async () => {
  const stream = new FakeStream();
  const { payloads, end } = await openOn(stream, 2);
  stream.emit("response", { ":status": 200, "content-type": "application/grpc" }, 0);
  stream.emit("data", encodeFrame(responses(1)[0] as Buffer));
  const error = await end;
  assert.ok(error instanceof ConnectError);
  assert.equal(error.code, Code.ResourceExhausted);
  assert.deepEqual(payloads, []);
  assert.equal(stream.rstCode, 8);
});

test("frame stream: writes go out until it is canceled, then nothing more is heard", async () => {
  const stream = new FakeStream();
  const { frames, payloads, end } = await openOn(stream);
  frames.write(new Uint8Array([1, 2, 3]));
  frames.cancel();
  frames.write(new Uint8Array([4]));
  stream.emit("data", encodeFrame(responses(1)[0] as Buffer));
  assert.deepEqual(stream.written, [new Uint8Array([1, 2, 3])]);
  assert.deepEqual(payloads, []);
  assert.equal(stream.rstCode, 8);
  const outcome = await Promise.race([end, new Promise((r) => setTimeout(() => r("silent"), 20))]);
  assert.equal(outcome, "silent");
});
