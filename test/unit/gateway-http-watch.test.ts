import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromJsonString } from "@bufbuild/protobuf";
import {
  Watch,
  type WatchRequest,
  WatchRequestSchema,
  type WatchResponse,
  WatchResponseSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { httpBidiStream } from "../../src/gateway/http-bidi.ts";

// Each watcher over the gateway's HTTP streams has its own HTTP stream, and those answer in any
// order; the watch stream above matches `created` replies to its creates oldest first, as etcd
// answers on one gRPC stream. Real etcd answers separate streams in an order no test can force.

function createRequest(key: string): WatchRequest {
  return create(WatchRequestSchema, {
    requestUnion: { case: "createRequest", value: { key: new TextEncoder().encode(key) } },
  });
}

function response(json: string): WatchResponse {
  return fromJsonString(WatchResponseSchema, json);
}

test("created replies of separate HTTP streams reach the watch stream in create order", async () => {
  const requests = [createRequest("a"), createRequest("b"), createRequest("c")];
  // The streams answer c, then b, then a, each with its created reply and then one event.
  const answerAfterMs: Record<string, number> = { YQ: 30, Yg: 15, Yw: 0 };
  const post = async (_url: string, body: string, signal: AbortSignal) => {
    const key = (
      JSON.parse(body) as { create_request: { key: string } }
    ).create_request.key.replace(/=+$/, "");
    return (async function* () {
      await new Promise((resolve) => setTimeout(resolve, answerAfterMs[key]));
      yield response(`{"created":true}`);
      yield response(`{"events":[{"kv":{"key":"${key}"}}]}`);
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    })();
  };
  const controller = new AbortController();
  const stream = httpBidiStream(
    {
      url: "http://127.0.0.1:1/v3/watch",
      method: Watch.method.watch,
      token: undefined,
      requests: (async function* () {
        yield* requests;
        await new Promise((resolve) =>
          controller.signal.addEventListener("abort", resolve, { once: true }),
        );
      })(),
      signal: controller.signal,
      maxReceiveBytes: 1 << 20,
    },
    post as never,
  );
  const seen: string[] = [];
  for await (const message of stream) {
    const reply = message as WatchResponse;
    seen.push(
      reply.created
        ? `created ${reply.watchId}`
        : `event ${reply.watchId} ${new TextDecoder().decode(reply.events[0]?.kv?.key)}`,
    );
    if (seen.length === 6) break;
  }
  controller.abort();
  // Each watcher's own messages in order, every created reply in create order, and no event of
  // a watcher before its created reply.
  assert.deepEqual(
    seen.filter((line) => line.startsWith("created")),
    ["created 0", "created 1", "created 2"],
  );
  for (const [id, key] of [
    [0, "a"],
    [1, "b"],
    [2, "c"],
  ] as const) {
    assert.ok(seen.indexOf(`created ${id}`) < seen.indexOf(`event ${id} ${key}`), seen.join(", "));
  }
});
