import { createClient, createContextValues } from "@connectrpc/connect";
import {
  LeaseKeepAliveRequestSchema,
  LeaseKeepAliveResponseSchema,
  Lease as LeaseService,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import type { FrameStream } from "../connection/frame-stream.ts";
import { FRAME_HEADER_BYTES } from "../connection/grpc-frame.ts";
import type { PooledEndpoint } from "../connection/pool.ts";
import { endpointKey, type PoolTransport } from "../connection/pool-transport.ts";
import { PushQueue } from "../connection/push-queue.ts";
import { WireReader } from "../core/wire.ts";

/**
 * What one keep-alive stream reports: each renewal etcd answered, then at most once, the end of
 * the stream (an error, or etcd ending it). Neither is called from inside `openKeepAliveWire`
 * or `send`.
 */
export interface KeepAliveWireHandler {
  renewed(id: bigint, ttl: bigint): void;
  failed(error: unknown): void;
}

/**
 * One LeaseKeepAlive stream as the keep-alive machine uses it: renewal requests in, answers out.
 *
 * @example
 * const wire = openKeepAliveWire(transport, endpoint, { renewed, failed });
 * wire.send(lease.id);
 */
export interface KeepAliveWire {
  /** Asks etcd to renew `id`; requests sent in one go leave together. */
  send(id: bigint): void;
  /** Ends the stream; the handler hears nothing more. */
  end(): void;
}

const STREAM_HEADERS = { hasleader: "true" } as const;
const ID_TAG = LeaseKeepAliveRequestSchema.field.ID.number << 3;
const RESPONSE_ID = LeaseKeepAliveResponseSchema.field.ID.number;
const RESPONSE_TTL = LeaseKeepAliveResponseSchema.field.TTL.number;
/** A request at its largest: prefix, tag and a 10-byte varint. */
export const MAX_REQUEST_BYTES = FRAME_HEADER_BYTES + 11;

/**
 * Opens the keep-alive stream to `endpoint`, carrying `hasleader: true` and no deadline. On the
 * lean transport it is a `FrameStream`: requests encoded here, those of one tick in one write,
 * answers read in place, with no promise per message; on any other transport it is Connect's
 * bidi call.
 *
 * @example
 * const wire = openKeepAliveWire(etcd.transport, endpoint, { renewed: (id, ttl) => {}, failed: (e) => {} });
 */
export function openKeepAliveWire(
  transport: PoolTransport,
  endpoint: PooledEndpoint,
  handler: KeepAliveWireHandler,
): KeepAliveWire {
  return new Wire(transport, endpoint, handler);
}

class Wire implements KeepAliveWire {
  readonly #transport: PoolTransport;
  readonly #endpoint: PooledEndpoint;
  readonly #handler: KeepAliveWireHandler;
  readonly #reader = new WireReader();
  #pending: bigint[] = [];
  #flushing = false;
  #ended = false;
  #frames: FrameStream | undefined;
  #queue: PushQueue<{ ID: bigint }> | undefined;
  /** Aborts the opening (and Connect's call) when the wire ends. */
  readonly #controller = new AbortController();

  constructor(transport: PoolTransport, endpoint: PooledEndpoint, handler: KeepAliveWireHandler) {
    this.#transport = transport;
    this.#endpoint = endpoint;
    this.#handler = handler;
    transport
      .frameStream(
        LeaseService.method.leaseKeepAlive,
        STREAM_HEADERS,
        {
          message: (payload) => this.#onMessage(payload),
          end: (error) => this.#fail(error ?? new Error("etcd ended the keep-alive stream")),
        },
        this.#context(),
        this.#controller.signal,
      )
      .then(
        (frames) => {
          if (frames === undefined) this.#openConnect();
          else if (this.#ended) frames.cancel();
          else {
            this.#frames = frames;
            this.#flush();
          }
        },
        (error: unknown) => this.#fail(error),
      );
  }

  send(id: bigint): void {
    if (this.#ended) return;
    this.#pending.push(id);
    if (this.#flushing) return;
    this.#flushing = true;
    queueMicrotask(() => {
      this.#flushing = false;
      this.#flush();
    });
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#pending = [];
    this.#frames?.cancel();
    this.#queue?.close();
    this.#controller.abort();
  }

  #context() {
    return createContextValues().set(endpointKey, this.#endpoint.url);
  }

  #flush(): void {
    const ids = this.#pending;
    if (this.#ended || ids.length === 0) return;
    if (this.#queue) {
      this.#pending = [];
      for (const ID of ids) this.#queue.push({ ID });
      return;
    }
    const frames = this.#frames;
    if (frames === undefined) return;
    this.#pending = [];
    const out = new Uint8Array(ids.length * MAX_REQUEST_BYTES);
    let pos = 0;
    for (const id of ids) pos = encodeKeepAliveRequest(out, pos, id);
    frames.write(out.subarray(0, pos));
  }

  #onMessage(payload: Uint8Array): void {
    const { id, ttl } = decodeKeepAliveResponse(this.#reader.reset(payload));
    this.#handler.renewed(id, ttl);
  }

  #fail(error: unknown): void {
    if (this.#ended) return;
    this.end();
    this.#handler.failed(error);
  }

  /** Connect's bidi call, for transports that have no `FrameStream`. */
  #openConnect(): void {
    if (this.#ended) return;
    const queue = new PushQueue<{ ID: bigint }>();
    this.#queue = queue;
    const responses = createClient(LeaseService, this.#transport).leaseKeepAlive(queue, {
      signal: this.#controller.signal,
      timeoutMs: 0,
      headers: STREAM_HEADERS,
      contextValues: this.#context(),
    });
    this.#flush();
    void (async () => {
      let failure: unknown;
      try {
        for await (const response of responses) {
          if (this.#ended) return;
          this.#handler.renewed(response.ID, response.TTL);
        }
        failure = new Error("etcd ended the keep-alive stream");
      } catch (error) {
        failure = error;
      }
      this.#fail(failure);
    })();
  }
}

/**
 * The ID and TTL of a LeaseKeepAliveResponse, read in place (the header is skipped); 0 for a
 * field that is absent, as protobuf decodes it.
 *
 * @example
 * const { id, ttl } = decodeKeepAliveResponse(new WireReader(payload));
 */
export function decodeKeepAliveResponse(reader: WireReader): { id: bigint; ttl: bigint } {
  let id = 0n;
  let ttl = 0n;
  while (!reader.done) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === RESPONSE_ID && (tag & 7) === 0) id = reader.int64(true);
    else if (field === RESPONSE_TTL && (tag & 7) === 0) ttl = reader.int64(true);
    else reader.skip(tag & 7);
  }
  return { id, ttl };
}

/**
 * Writes one length-prefixed LeaseKeepAliveRequest at `pos` of a zeroed `out` with room for
 * `MAX_REQUEST_BYTES`; returns where it ends. ID 0 is left out, as protobuf leaves out a field
 * at its default.
 *
 * @example
 * const end = encodeKeepAliveRequest(new Uint8Array(16), 0, 0x694d9a0f2b6c3e01n);
 */
export function encodeKeepAliveRequest(out: Uint8Array, pos: number, id: bigint): number {
  const start = pos;
  pos += FRAME_HEADER_BYTES;
  if (id !== 0n) {
    out[pos++] = ID_TAG;
    // int64 goes on the wire as its 64-bit two's complement, in 7-bit groups from the low end.
    const value = BigInt.asUintN(64, id);
    let low = Number(value & 0xffffffffn);
    let high = Number(value >> 32n);
    while (high !== 0 || low > 0x7f) {
      out[pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    out[pos++] = low;
  }
  // The prefix: no compression flag, then the length in 32-bit big-endian (at most 11 here).
  out[start + 4] = pos - start - FRAME_HEADER_BYTES;
  return pos;
}
