import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import {
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

  test("a message in one chunk is a view; over several chunks it is copied once", () => {
    const payload = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const frame = encodeFrame(payload);
    const single = new UnaryMessageReader();
    single.push(frame);
    const view = single.message();
    assert.ok(view instanceof Uint8Array);
    assert.equal(view.buffer, frame.buffer);
    assert.deepEqual([...view], [...payload]);
    for (const cuts of [[1], [3, 5, 6], [5], [200, 201, 999]]) {
      const reader = new UnaryMessageReader();
      let at = 0;
      for (const cut of [...cuts, frame.length]) {
        reader.push(frame.subarray(at, cut));
        at = cut;
      }
      assert.equal(reader.declared, 1000);
      const message = reader.message();
      assert.ok(message instanceof Uint8Array, String(message));
      assert.equal(Object.getPrototypeOf(message), Uint8Array.prototype);
      assert.deepEqual([...message], [...payload], String(cuts));
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
});
