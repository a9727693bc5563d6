/**
 * The CLI's one HTTP/1.1 exchange with etcd's gateway, against local TCP servers that answer in
 * ways a real etcd cannot be made to on demand: chunk boundaries anywhere, answers cut short,
 * silence, bytes that are not HTTP/1.1. Every such answer must read as "no answer", never as a
 * wrong body.
 */
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { test } from "node:test";
import { type GatewayLimits, gatewayPost } from "../../src/cli/gateway-post.ts";

/** A server that hands each connection's first request bytes to `answer`. */
async function server(answer: (socket: Socket, request: string) => void) {
  const sockets = new Set<Socket>();
  const srv = createServer((socket) => {
    sockets.add(socket);
    socket.once("data", (chunk) => answer(socket, chunk.toString("latin1")));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  return {
    address: { host: "127.0.0.1", port, hostHeader: `127.0.0.1:${port}` },
    [Symbol.asyncDispose]: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => srv.close(resolve));
    },
  };
}

function limits(overrides: Partial<GatewayLimits> = {}): GatewayLimits {
  return {
    connectTimeoutMs: 2000,
    timeoutMs: 2000,
    maxBytes: 1024 * 1024,
    signal: new AbortController().signal,
    ...overrides,
  };
}

const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";

test("sends one POST with the JSON and its length, and reads a Content-Length body", async () => {
  let request = "";
  await using srv = await server((socket, text) => {
    request = text;
    socket.end(`${HEAD}Content-Length: 11\r\n\r\n{"a":"b"}\r\nextra`);
  });
  const answer = await gatewayPost(srv.address, "/v3/kv/range", '{"key":"aw=="}', limits());
  assert.equal(answer?.status, 200);
  assert.equal(answer?.contentType, "application/json");
  assert.equal(answer?.body.toString(), '{"a":"b"}\r\n');
  assert.match(request, /^POST \/v3\/kv\/range HTTP\/1\.1\r\n/);
  assert.match(request, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  assert.match(request, /\r\nContent-Length: 14\r\n/);
  assert.match(request, /\r\nConnection: close\r\n\r\n\{"key":"aw=="\}$/);
});

test("joins a chunked body, whatever the chunk sizes and extensions", async () => {
  await using srv = await server((socket) => {
    socket.write(`${HEAD}Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n`);
    setTimeout(() => socket.end('A;ext=1\r\n"bcdefghi"\r\n1\r\n}\r\n0\r\n\r\n'), 20);
  });
  const answer = await gatewayPost(srv.address, "/v3/kv/range", "{}", limits());
  assert.equal(answer?.body.toString(), '{"a":"bcdefghi"}');
});

test("an answer cut short is no answer", async () => {
  const cut = [
    `${HEAD}Content-Length: 50\r\n\r\n{"a":`,
    `${HEAD}Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n`,
    `${HEAD}Transfer-Encoding: chunked\r\n\r\nff\r\n{"a":1}\r\n`,
    `${HEAD}Transfer-Encoding: chunked\r\n\r\nzz\r\n{"a":1}\r\n0\r\n\r\n`,
    "HTTP/1.1 200 OK\r\nContent-Type: application/json",
  ];
  for (const text of cut) {
    await using srv = await server((socket) => socket.end(text));
    assert.equal(await gatewayPost(srv.address, "/", "{}", limits()), undefined, text);
  }
});

test("bytes that are not HTTP/1.1 (a gRPC-only listener) are no answer", async () => {
  // HTTP/2 SETTINGS then GOAWAY, as a server that speaks only HTTP/2 sends them.
  const frames = Buffer.from("000000040000000000000008070000000000000000000001", "hex");
  await using srv = await server((socket) => socket.end(frames));
  assert.equal(await gatewayPost(srv.address, "/", "{}", limits()), undefined);
});

test("other statuses come back as they are, for the caller to judge", async () => {
  await using srv = await server((socket) =>
    socket.end(
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found",
    ),
  );
  const answer = await gatewayPost(srv.address, "/", "{}", limits());
  assert.equal(answer?.status, 404);
  assert.equal(answer?.body.toString(), "not found");
});

test("silence, a refused connection, an abort and a too-long answer are no answer", async () => {
  await using silent = await server(() => {});
  const started = performance.now();
  assert.equal(await gatewayPost(silent.address, "/", "{}", limits({ timeoutMs: 200 })), undefined);
  assert.ok(performance.now() - started >= 190, "waited for the timeout");

  const refused = await server(() => {});
  const { address } = refused;
  await refused[Symbol.asyncDispose]();
  assert.equal(await gatewayPost(address, "/", "{}", limits()), undefined);

  const abort = new AbortController();
  setTimeout(() => abort.abort(), 50);
  assert.equal(
    await gatewayPost(silent.address, "/", "{}", limits({ signal: abort.signal })),
    undefined,
  );

  await using long = await server((socket) =>
    socket.end(`${HEAD}Content-Length: 2000\r\n\r\n${"x".repeat(2000)}`),
  );
  assert.equal(await gatewayPost(long.address, "/", "{}", limits({ maxBytes: 1000 })), undefined);
  assert.equal(
    (await gatewayPost(long.address, "/", "{}", limits({ maxBytes: 4000 })))?.body.length,
    2000,
  );
});
