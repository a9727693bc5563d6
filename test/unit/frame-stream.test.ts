/**
 * FrameStream's reassembly of response messages from DATA chunks, on a fake HTTP/2 stream the
 * test feeds chunk by chunk: several messages per chunk, a message over many chunks (a watch
 * response of megabytes arrives in hundreds), the prefix itself cut, and a compressed or
 * oversized message announced in a later chunk. Cuts a real server makes only by chance.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, test } from "node:test";
import { Code, type ConnectError } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import { FrameStream } from "../../src/connection/frame-stream.ts";
import { encodeFrame } from "../../src/connection/grpc-frame.ts";

class FakeStream extends EventEmitter {
  rstCode: number | undefined;
  closed = false;
  destroyed = false;
  write(): void {}
  close(code = 0): void {
    if (this.closed) return;
    this.closed = true;
    this.rstCode = code;
    queueMicrotask(() => this.emit("close"));
  }
}

interface Heard {
  messages: number[][];
  ended: Promise<ConnectError | undefined>;
}

async function open(maxReceiveBytes = 1 << 20): Promise<{ stream: FakeStream; heard: Heard }> {
  const stream = new FakeStream();
  const session = {
    authority: "http://fake:2379",
    request: async () => stream,
    notifyResponseByteRead: () => {},
  } as unknown as Http2SessionManager;
  const messages: number[][] = [];
  let end!: (error: ConnectError | undefined) => void;
  const ended = new Promise<ConnectError | undefined>((resolve) => {
    end = resolve;
  });
  await FrameStream.open(
    session,
    "/etcdserverpb.Watch/Watch",
    {},
    { message: (payload) => messages.push([...payload]), end },
    maxReceiveBytes,
  );
  stream.emit("response", { ":status": 200, "content-type": "application/grpc" }, 0);
  return { stream, heard: { messages, ended } };
}

function finish(stream: FakeStream): void {
  stream.emit("trailers", { "grpc-status": "0" });
  stream.close(0);
}

const payloads = [
  Array.from({ length: 3000 }, (_, i) => i & 0xff),
  [],
  [42],
  Array.from({ length: 70 }, (_, i) => (i * 7) & 0xff),
];
const body = Buffer.concat(payloads.map((p) => encodeFrame(Uint8Array.from(p))));

function chunks(bytes: Uint8Array, size: number, offset = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (offset > 0) out.push(bytes.subarray(0, offset));
  for (let at = offset; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

describe("FrameStream", () => {
  test("messages cut into chunks of every size from 1 to 9 bytes, and larger, arrive whole and in order", async () => {
    for (const size of [1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 1000, 4096, body.length]) {
      for (const offset of [0, 1, 4, 5, 6]) {
        const { stream, heard } = await open();
        for (const chunk of chunks(body, size, offset)) stream.emit("data", Buffer.from(chunk));
        finish(stream);
        assert.equal(await heard.ended, undefined, `size ${size} offset ${offset}`);
        assert.deepEqual(heard.messages, payloads, `size ${size} offset ${offset}`);
      }
    }
  });

  test("a stream that ends inside a message is a truncated message", async () => {
    const { stream, heard } = await open();
    for (const chunk of chunks(body.subarray(0, 2000), 100))
      stream.emit("data", Buffer.from(chunk));
    finish(stream);
    const error = await heard.ended;
    assert.equal(error?.code, Code.Internal);
    assert.match(error?.rawMessage ?? "", /truncated/);
  });

  test("a compressed or oversized message whose prefix arrives cut fails the stream, nothing delivered", async () => {
    const compressed = Buffer.from(encodeFrame(Uint8Array.of(1, 2, 3)));
    compressed[0] = 1;
    const oversized = encodeFrame(new Uint8Array(200));
    for (const [frame, code, pattern] of [
      [compressed, Code.Internal, /compress/],
      [oversized, Code.ResourceExhausted, /maxReceiveBytes/],
    ] as const) {
      const { stream, heard } = await open(100);
      const bytes = Buffer.concat([encodeFrame(Uint8Array.of(5)), frame]);
      for (const chunk of chunks(bytes, 2)) stream.emit("data", Buffer.from(chunk));
      const error = await heard.ended;
      assert.equal(error?.code, code);
      assert.match(error?.rawMessage ?? "", pattern);
      assert.deepEqual(heard.messages, [[5]]);
      assert.equal(stream.rstCode, 8, "RST_STREAM CANCEL");
    }
  });
});
