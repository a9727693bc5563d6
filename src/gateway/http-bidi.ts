import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import type { WatchRequest, WatchResponse } from "../../gen/etcdserverpb/rpc_pb.ts";
import { canceledError } from "../connection/signals.ts";
import type { BidiOpen } from "./bidi-open.ts";
import { toGatewayJson } from "./gateway-codec.ts";
import { Inbox } from "./inbox.ts";

/** POSTs one request to the route and gives the response's messages. */
export type PostStream<O extends DescMessage> = (
  url: string,
  body: string,
  signal: AbortSignal,
) => Promise<AsyncIterable<MessageShape<O>>>;

/**
 * A bidi stream without WebSocket, made of plain HTTP requests whose bodies are complete
 * before they are sent (what browsers' fetch allows): each Watch create request opens its own
 * HTTP stream, numbered here (etcd numbers the watchers of each stream from 0), and a cancel
 * request aborts it. The watch stream above matches `created` replies to its create requests in
 * the order it sent them, as etcd answers on one gRPC stream; separate HTTP streams answer in any
 * order, so each one's messages are held back until the streams opened before it have answered; each LeaseKeepAlive request is one POST answered by one response. A
 * progress request has no stream to go on and is dropped. Any HTTP stream failing fails the
 * whole stream, so that its owner opens it again elsewhere, as it does over gRPC.
 *
 * @example
 * const responses = httpBidiStream(open, post);
 */
export function httpBidiStream<I extends DescMessage, O extends DescMessage>(
  open: BidiOpen<I, O>,
  post: PostStream<O>,
): AsyncIterable<MessageShape<O>> {
  const inbox = new Inbox<MessageShape<O>>();
  const all = new AbortController();
  const fail = (error: unknown) => {
    if (inbox.ended) return;
    inbox.end(all.signal.aborted ? error : ConnectError.from(error));
    all.abort();
  };
  const onAbort = () => fail(canceledError(open.signal));
  if (open.signal.aborted) onAbort();
  else open.signal.addEventListener("abort", onAbort, { once: true });
  inbox.onReturn = () => {
    open.signal.removeEventListener("abort", onAbort);
    all.abort();
  };
  const watch = open.method.name === "Watch";
  const watchers = new Map<bigint, AbortController>();
  let nextId = 0n;
  // Create requests not yet answered, oldest first, each with what its stream said so far.
  const unanswered: { id: bigint; held: MessageShape<O>[]; answered: boolean }[] = [];
  const deliver = (id: bigint, message: MessageShape<O>) => {
    const waiting = unanswered.find((entry) => entry.id === id);
    if (!waiting) {
      inbox.push(message);
      return;
    }
    waiting.held.push(message);
    waiting.answered = true;
    while (unanswered[0]?.answered) {
      for (const held of (unanswered.shift() as (typeof unanswered)[number]).held) inbox.push(held);
    }
  };
  const send = async (
    body: string,
    signal: AbortSignal,
    onMessage: (m: MessageShape<O>) => boolean,
  ) => {
    try {
      for await (const message of await post(open.url, body, signal)) {
        if (!onMessage(message)) return;
      }
      if (!signal.aborted) fail(new ConnectError(`etcd ended the ${open.method.name} stream`, 14));
    } catch (error) {
      if (!signal.aborted) fail(error);
    }
  };
  void (async () => {
    try {
      for await (const request of open.requests) {
        if (inbox.ended) return;
        const body = toGatewayJson(open.method.input, request);
        if (!watch) {
          // One keep-alive request, one response: the request body ends, and so does the stream.
          void send(body, all.signal, (message) => {
            inbox.push(message);
            return false;
          });
          continue;
        }
        const union = (request as unknown as WatchRequest).requestUnion;
        if (union.case === "createRequest") {
          const id = nextId++;
          const controller = new AbortController();
          all.signal.addEventListener("abort", () => controller.abort(), { once: true });
          watchers.set(id, controller);
          unanswered.push({ id, held: [], answered: false });
          void send(body, controller.signal, (message) => {
            const response = message as unknown as WatchResponse;
            if (response.watchId !== -1n) response.watchId = id;
            deliver(id, message);
            if (response.canceled) {
              watchers.delete(id);
              controller.abort();
              return false;
            }
            return true;
          });
        } else if (union.case === "cancelRequest") {
          const id = union.value.watchId;
          const controller = watchers.get(id);
          if (controller) {
            watchers.delete(id);
            controller.abort();
            const entry = unanswered.find((waiting) => waiting.id === id);
            if (entry && !entry.answered) {
              // Canceled before etcd answered: answer the create first, as etcd would have.
              deliver(id, create(open.method.output, { watchId: id, created: true } as never));
            }
            deliver(id, create(open.method.output, { watchId: id, canceled: true } as never));
          }
        }
      }
    } catch {
      // The request side failed: the call is being torn down already.
    }
  })();
  return inbox;
}
