import { createServer, type Http2Server, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { etcdAtLeast } from "./etcd-binary.ts";

/** One span as an OTLP exporter sent it: just what the tests look at. */
export interface ReceivedSpan {
  /** Hex, 32 digits. */
  traceId: string;
  /** Hex, 16 digits. */
  spanId: string;
  /** Hex, 16 digits; "" for a root span. */
  parentSpanId: string;
  name: string;
}

// Field numbers of OTLP's trace protos (opentelemetry/proto/collector/trace/v1 and trace/v1):
// ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.scope_spans = 2;
// ScopeSpans.spans = 2; Span.trace_id = 1, span_id = 2, parent_span_id = 4, name = 5.
const EXPORT_PATH = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/**
 * A minimal OTLP/gRPC trace receiver on node:http2 (h2c): decodes the trace and span ids and
 * names from each ExportTraceServiceRequest and answers an empty gRPC OK. Enough for an etcd
 * started with distributed tracing to export its server spans to a test.
 *
 * @example
 * const receiver = await OtlpReceiver.start();
 * // etcd ... --distributed-tracing-address=127.0.0.1:${receiver.port}
 * await receiver.waitFor((s) => s.traceId === traceId);
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly #server: Http2Server;
  #waiters: (() => void)[] = [];

  private constructor(server: Http2Server) {
    this.#server = server;
    server.on("stream", (stream, headers) => this.#onStream(stream, String(headers[":path"])));
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver(createServer());
    await new Promise<void>((resolve) => receiver.#server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Resolves with the first span (received so far or later) that matches. */
  async waitFor(match: (span: ReceivedSpan) => boolean, timeoutMs = 60_000): Promise<ReceivedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.spans.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.spans.map((s) => `${s.name} ${s.traceId}`).join("\n");
        throw new Error(`no matching span among ${this.spans.length} received:\n${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #onStream(stream: ServerHttp2Stream, path: string): void {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      if (path !== EXPORT_PATH) {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": "12" },
          {
            endStream: true,
          },
        );
        return;
      }
      const body = Buffer.concat(chunks);
      // gRPC frames: 1 byte compressed flag, 4 bytes length, the message.
      for (let at = 0; at + 5 <= body.length; ) {
        const length = body.readUInt32BE(at + 1);
        this.spans.push(...decodeExportRequest(body.subarray(at + 5, at + 5 + length)));
        at += 5 + length;
      }
      stream.respond(
        { ":status": 200, "content-type": "application/grpc" },
        {
          waitForTrailers: true,
        },
      );
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      // An empty ExportTraceServiceResponse.
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    });
  }
}

/** The flags that make the etcd under test export its spans to `address` (3.5 and newer). */
export function serverTracingFlags(address: string): string[] {
  const prefix = etcdAtLeast(3, 6) ? "--" : "--experimental-";
  return [`${prefix}enable-distributed-tracing`, `${prefix}distributed-tracing-address=${address}`];
}

function decodeExportRequest(bytes: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of fields(bytes, 1)) {
    for (const scopeSpans of fields(resourceSpans, 2)) {
      for (const span of fields(scopeSpans, 2)) spans.push(decodeSpan(span));
    }
  }
  return spans;
}

function decodeSpan(bytes: Uint8Array): ReceivedSpan {
  const span: ReceivedSpan = { traceId: "", spanId: "", parentSpanId: "", name: "" };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType !== WireType.LengthDelimited) {
      reader.skip(wireType);
      continue;
    }
    const value = reader.bytes();
    if (field === 1) span.traceId = Buffer.from(value).toString("hex");
    else if (field === 2) span.spanId = Buffer.from(value).toString("hex");
    else if (field === 4) span.parentSpanId = Buffer.from(value).toString("hex");
    else if (field === 5) span.name = Buffer.from(value).toString("utf8");
  }
  return span;
}

/** The length-delimited occurrences of field `number` in a message. */
function fields(bytes: Uint8Array, number: number): Uint8Array[] {
  const found: Uint8Array[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === number && wireType === WireType.LengthDelimited) found.push(reader.bytes());
    else reader.skip(wireType);
  }
  return found;
}
