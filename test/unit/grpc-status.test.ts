import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, equals, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { RangeResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import {
  decodeMessage,
  encodeFrame,
  frameLength,
  joinChunks,
  UnaryMessageReader,
} from "../../src/connection/grpc-frame.ts";
import {
  decodeStatusDetails,
  percentDecode,
  resetError,
  statusError,
  toHeaders,
} from "../../src/connection/grpc-status.ts";
import { neverLeft } from "../../src/connection/retry-policy.ts";
import { ResponseTooLargeError, toEtcdError } from "../../src/index.ts";

/** A google.rpc.Status with one packed detail, as gRPC servers put it in grpc-status-details-bin. */
function statusBin(code: number, message: string, detailType: string, detail: Uint8Array) {
  const any = new BinaryWriter()
    .tag(1, 2)
    .string(`type.googleapis.com/${detailType}`)
    .tag(2, 2)
    .bytes(detail)
    .finish();
  const status = new BinaryWriter()
    .tag(1, 0)
    .int32(code)
    .tag(2, 2)
    .string(message)
    .tag(3, 2)
    .bytes(any)
    .finish();
  // gRPC sends it base64 without padding.
  return Buffer.from(status).toString("base64").replace(/=+$/, "");
}

describe("grpc-message", () => {
  test("percent-decoding gives back the UTF-8 message", () => {
    assert.equal(percentDecode("etcdserver: no leader"), "etcdserver: no leader");
    assert.equal(percentDecode("caf%C3%A9 100%25"), "café 100%");
    assert.equal(percentDecode("%E2%82%AC"), "€");
  });

  test("malformed escapes stay, invalid UTF-8 becomes U+FFFD", () => {
    assert.equal(percentDecode("50% off"), "50% off");
    assert.equal(percentDecode("end %4"), "end %4");
    assert.equal(percentDecode("bad %FF byte"), "bad \uFFFD byte");
  });
});

describe("gRPC status", () => {
  test("grpc-status and grpc-message become a ConnectError with the fields as metadata", () => {
    const error = statusError({
      "grpc-status": "11",
      "grpc-message": "etcdserver: mvcc: required revision is a future revision",
      "x-extra": "1",
    });
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.OutOfRange);
    assert.equal(error.rawMessage, "etcdserver: mvcc: required revision is a future revision");
    assert.equal(error.metadata.get("x-extra"), "1");
    assert.equal(statusError({ "grpc-status": "0" }), undefined);
    assert.equal(statusError({}), undefined);
  });

  test("an unknown status code is Internal", () => {
    const error = statusError({ "grpc-status": "99" });
    assert.equal(error?.code, Code.Internal);
  });

  test("grpc-status-details-bin wins and carries the details", () => {
    const bin = statusBin(9, "precondition", "example.Detail", Uint8Array.of(1, 2, 3));
    const decoded = decodeStatusDetails(bin);
    assert.equal(decoded.code, 9);
    assert.equal(decoded.message, "precondition");
    assert.deepEqual(decoded.details, [{ type: "example.Detail", value: Uint8Array.of(1, 2, 3) }]);
    const error = statusError({
      "grpc-status": "9",
      "grpc-message": "other",
      "grpc-status-details-bin": bin,
    });
    assert.equal(error?.code, Code.FailedPrecondition);
    assert.equal(error?.rawMessage, "precondition");
    assert.equal(error?.details.length, 1);
  });

  test("a broken details field falls back to grpc-status", () => {
    const error = statusError({
      "grpc-status": "5",
      "grpc-message": "x",
      "grpc-status-details-bin": "!!!",
    });
    assert.equal(error?.code, Code.NotFound);
  });

  test("REFUSED_STREAM proves the request was not processed; other resets do not", () => {
    const refused = resetError(7);
    assert.equal(refused.code, Code.Unavailable);
    assert.ok(neverLeft(refused));
    const internal = resetError(2);
    assert.equal(internal.code, Code.Unavailable);
    assert.ok(!neverLeft(internal));
    assert.equal(resetError(11).code, Code.ResourceExhausted);
  });

  test("headers drop pseudo-headers and keep repeated values", () => {
    const headers = toHeaders({ ":status": 200 as unknown as string, a: ["1", "2"], b: "3" });
    assert.deepEqual([...headers.keys()], ["a", "b"]);
    assert.equal(headers.get("a"), "1, 2");
    assert.equal(headers.get("b"), "3");
  });

  test("responses over maxReceiveBytes map to ResponseTooLargeError", () => {
    for (const message of [
      "response message of 3000000 bytes exceeds maxReceiveBytes (2097152)",
      "message size 3000000 is larger than configured readMaxBytes 2097152",
    ]) {
      const error = toEtcdError(new ConnectError(message, Code.ResourceExhausted));
      assert.ok(error instanceof ResponseTooLargeError, message);
    }
  });
});

describe("gRPC frames", () => {
  test("encode and read back the length prefix", () => {
    const frame = encodeFrame(Uint8Array.of(9, 8, 7));
    assert.deepEqual([...frame], [0, 0, 0, 0, 3, 9, 8, 7]);
    assert.equal(frameLength(frame, 0), 3);
    assert.equal(frameLength(frame.subarray(0, 4), 0), -1);
    const big = Buffer.from([0, 0xff, 0, 0, 1]);
    assert.equal(frameLength(big, 0), 0xff000001);
  });

  test("a compressed frame is refused: the client offers no compression", () => {
    assert.throws(() => frameLength(Uint8Array.of(1, 0, 0, 0, 0), 0), /compress/);
  });

  test("chunks join into a plain Uint8Array", () => {
    const one = joinChunks([Buffer.from([1, 2])], 2);
    assert.equal(Object.getPrototypeOf(one), Uint8Array.prototype);
    assert.deepEqual([...one], [1, 2]);
    const many = joinChunks([Buffer.from([1]), Buffer.from([2, 3])], 3);
    assert.deepEqual([...many], [1, 2, 3]);
  });

  test("the payload stays views of the chunks, prefix cut off", () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const frame = encodeFrame(payload);
    for (const cuts of [[], [1], [3, 5, 6], [5], [200, 201, 999]]) {
      const reader = new UnaryMessageReader();
      let at = 0;
      for (const cut of [...cuts, frame.length]) {
        reader.push(frame.subarray(at, cut));
        at = cut;
      }
      assert.equal(reader.declared, 1000);
      const pieces = reader.message();
      assert.ok(Array.isArray(pieces), String(pieces));
      assert.ok(pieces.every((p) => Object.getPrototypeOf(p) === Uint8Array.prototype));
      if ((cuts[0] ?? frame.length) >= 5) {
        // Only a prefix split across chunks is joined (its first few bytes).
        assert.ok(
          pieces.every((p) => p.buffer === frame.buffer),
          "views, not copies",
        );
      }
      assert.deepEqual([...joinChunks(pieces, 1000)], [...payload], String(cuts));
    }
  });

  test("truncated and extra data are reported", () => {
    const frame = encodeFrame(Uint8Array.of(1, 2, 3));
    const short = new UnaryMessageReader();
    short.push(frame.subarray(0, 6));
    assert.equal(short.message(), "truncated gRPC message");
    const prefixOnly = new UnaryMessageReader();
    prefixOnly.push(frame.subarray(0, 2));
    assert.equal(prefixOnly.message(), "truncated gRPC message prefix");
    const two = new UnaryMessageReader();
    two.push(frame);
    two.push(frame);
    assert.match(String(two.message()), /more than one message/);
    const twoInOne = new UnaryMessageReader();
    twoInOne.push(Buffer.concat([frame, frame]));
    assert.match(String(twoInOne.message()), /more than one message/);
  });

  test("a message cut anywhere decodes the same as in one piece", () => {
    const bytes = fc.uint8Array({ maxLength: 40 });
    const kv = fc.record({
      key: bytes,
      value: fc.uint8Array({ maxLength: 300 }),
      createRevision: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
      modRevision: fc.bigInt({ min: 0n, max: 2n ** 40n }),
      version: fc.bigInt({ min: 0n, max: 1000n }),
      lease: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    });
    const response = fc.record({
      header: fc.option(
        fc.record({
          clusterId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          revision: fc.bigInt({ min: 0n, max: 2n ** 40n }),
        }),
        { nil: undefined },
      ),
      kvs: fc.array(kv, { maxLength: 20 }),
      more: fc.boolean(),
      count: fc.bigInt({ min: 0n, max: 2n ** 40n }),
    });
    fc.assert(
      fc.property(response, fc.array(fc.nat(), { maxLength: 12 }), (init, cutSeeds) => {
        const message = create(RangeResponseSchema, init);
        const encoded = toBinary(RangeResponseSchema, message);
        const cuts = [
          ...new Set(cutSeeds.map((c) => (encoded.length ? c % encoded.length : 0))),
        ].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let at = 0;
        for (const cut of [...cuts, encoded.length]) {
          pieces.push(encoded.subarray(at, cut));
          at = cut;
        }
        const decoded = decodeMessage(RangeResponseSchema, pieces);
        assert.ok(equals(RangeResponseSchema, decoded, message));
      }),
      { numRuns: 300 },
    );
  });

  test("every single-byte cut of a range response decodes the same", () => {
    const message = create(RangeResponseSchema, {
      header: { revision: 300n, memberId: 2n ** 63n },
      kvs: Array.from({ length: 5 }, (_, i) => ({
        key: Uint8Array.of(i, 200, 1),
        value: new Uint8Array(130 + i).fill(i),
        modRevision: 2n ** 35n + BigInt(i),
      })),
      count: 5n,
    });
    const encoded = toBinary(RangeResponseSchema, message);
    for (let cut = 0; cut <= encoded.length; cut++) {
      const decoded = decodeMessage(RangeResponseSchema, [
        encoded.subarray(0, cut),
        encoded.subarray(cut),
      ]);
      assert.ok(equals(RangeResponseSchema, decoded, message), `cut at ${cut}`);
    }
  });
});
