import { createClient, createContextValues } from "@connectrpc/connect";
import { Lease as LeaseService } from "../../gen/etcdserverpb/rpc_pb.ts";
import type { FrameStream } from "../connection/frame-stream.ts";
import type { PooledEndpoint } from "../connection/pool.ts";
import { endpointKey, type PoolTransport } from "../connection/pool-transport.ts";
import { PushQueue } from "../connection/push-queue.ts";
import type { KeepAliveFrameCodec } from "./keep-alive-frame-codec.ts";

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

/**
 * Opens the keep-alive stream to `endpoint`, carrying `hasleader: true` and no deadline. On the
 * lean transport, given the platform's `codec`, it is a `FrameStream`: requests encoded by the
 * codec, those of one tick in one write, answers read in place, with no promise per message;
 * otherwise it is Connect's bidi call.
 *
 * @example
 * const wire = openKeepAliveWire(etcd.transport, endpoint, { renewed: (id, ttl) => {}, failed: (e) => {} }, keepAliveFrames);
 */
export function openKeepAliveWire(
  transport: PoolTransport,
  endpoint: PooledEndpoint,
  handler: KeepAliveWireHandler,
  codec?: KeepAliveFrameCodec,
): KeepAliveWire {
  return new Wire(transport, endpoint, handler, codec);
}

class Wire implements KeepAliveWire {
  readonly #transport: PoolTransport;
  readonly #endpoint: PooledEndpoint;
  readonly #handler: KeepAliveWireHandler;
  readonly #codec: KeepAliveFrameCodec | undefined;
  #pending: bigint[] = [];
  #flushing = false;
  #ended = false;
  #frames: FrameStream | undefined;
  #queue: PushQueue<{ ID: bigint }> | undefined;
  /** Aborts the opening (and Connect's call) when the wire ends. */
  readonly #controller = new AbortController();

  constructor(
    transport: PoolTransport,
    endpoint: PooledEndpoint,
    handler: KeepAliveWireHandler,
    codec: KeepAliveFrameCodec | undefined,
  ) {
    this.#transport = transport;
    this.#endpoint = endpoint;
    this.#handler = handler;
    this.#codec = codec;
    if (codec === undefined) {
      this.#openConnect();
      return;
    }
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
    const codec = this.#codec;
    if (frames === undefined || codec === undefined) return;
    this.#pending = [];
    const out = new Uint8Array(ids.length * codec.maxRequestBytes);
    let pos = 0;
    for (const id of ids) pos = codec.encode(out, pos, id);
    frames.write(out.subarray(0, pos));
  }

  #onMessage(payload: Uint8Array): void {
    const { id, ttl } = (this.#codec as KeepAliveFrameCodec).decode(payload);
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
