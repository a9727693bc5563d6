import { connect } from "node:net";

/** Where a gateway request goes: a plain-HTTP member. */
export interface GatewayAddress {
  /** Host name or IP address, without brackets. */
  host: string;
  port: number;
  /** The `Host` header: host and port as the endpoint names them. */
  hostHeader: string;
}

/** Bounds of one gateway request. */
export interface GatewayLimits {
  connectTimeoutMs: number;
  timeoutMs: number;
  /** The most bytes of answer read; a longer one counts as no answer. */
  maxBytes: number;
  signal: AbortSignal;
}

/** A complete HTTP/1.1 answer. */
export interface GatewayAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/**
 * One JSON POST to etcd's gateway on a TCP connection of its own, closed after the answer
 * (HTTP/1.1, `Connection: close`). Resolves to the answer, or to undefined when no complete
 * HTTP/1.1 answer arrived: refused, reset, timed out, aborted, cut short, too long, or not
 * HTTP/1.1 at all (a listener that serves only gRPC). Never rejects.
 *
 * @example
 * const answer = await gatewayPost(address, "/v3/kv/range", '{"key":"aw=="}', limits);
 */
export function gatewayPost(
  address: GatewayAddress,
  path: string,
  json: string,
  limits: GatewayLimits,
): Promise<GatewayAnswer | undefined> {
  return new Promise((settle) => {
    if (limits.signal.aborted) return settle(undefined);
    const body = Buffer.from(json, "utf8");
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = connect({ host: address.host, port: address.port });
    const finish = (answer: GatewayAnswer | undefined) => {
      clearTimeout(connectTimer);
      clearTimeout(overallTimer);
      limits.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      settle(answer);
    };
    const onAbort = () => finish(undefined);
    const connectTimer = setTimeout(onAbort, limits.connectTimeoutMs);
    const overallTimer = setTimeout(onAbort, limits.timeoutMs);
    limits.signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      clearTimeout(connectTimer);
      // One write, sent at once: a request split in two could wait on Nagle's algorithm for
      // the server's delayed acknowledgement of the first part (tens of ms on a real network).
      socket.setNoDelay(true);
      const head =
        `POST ${path} HTTP/1.1\r\nHost: ${address.hostHeader}\r\n` +
        "Content-Type: application/json\r\nAccept: application/json\r\n" +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      socket.write(Buffer.concat([Buffer.from(head, "latin1"), body]));
    });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBytes) return finish(undefined);
      chunks.push(chunk);
    });
    socket.once("error", () => finish(undefined));
    socket.once("end", () => finish(parseAnswer(Buffer.concat(chunks))));
  });
}

/** The status, content type and body of a whole HTTP/1.1 response; undefined if it is not one. */
function parseAnswer(bytes: Buffer): GatewayAnswer | undefined {
  const headEnd = bytes.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const [statusLine = "", ...fields] = bytes.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (status === undefined) return undefined;
  const headers = new Map<string, string>();
  for (const field of fields) {
    const colon = field.indexOf(":");
    if (colon > 0)
      headers.set(field.slice(0, colon).trim().toLowerCase(), field.slice(colon + 1).trim());
  }
  const rest = bytes.subarray(headEnd + 4);
  let body: Buffer | undefined;
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") body = dechunk(rest);
  else if (headers.has("content-length")) {
    const length = Number(headers.get("content-length"));
    body =
      Number.isSafeInteger(length) && rest.length >= length ? rest.subarray(0, length) : undefined;
  } else body = rest;
  if (body === undefined) return undefined;
  return { status: Number(status), contentType: headers.get("content-type") ?? "", body };
}

/** The body of a chunked transfer, or undefined when it stops before its last chunk. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = /^[0-9a-fA-F]+/.exec(data.subarray(at, lineEnd).toString("latin1"))?.[0];
    if (size === undefined) return undefined;
    const length = Number.parseInt(size, 16);
    if (length === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (!Number.isSafeInteger(length) || data.length < start + length + 2) return undefined;
    parts.push(data.subarray(start, start + length));
    at = start + length + 2;
  }
}
