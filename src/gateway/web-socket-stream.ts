import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { canceledError } from "../connection/signals.ts";
import type { BidiOpen } from "./bidi-open.ts";
import { toGatewayJson } from "./gateway-codec.ts";
import { streamMessage } from "./gateway-json.ts";
import { Inbox } from "./inbox.ts";

const OPEN = 1;

/**
 * A bidi stream over etcd's WebSocket mode of the gateway: the socket at the RPC's route
 * carries one JSON request per message out and one `{"result"}`/`{"error"}` line per message
 * in, exactly one gRPC stream on the server. The token goes as the `Bearer, <token>`
 * subprotocol, which etcd turns into the Authorization header (honoured from etcd 3.6.13 and
 * 3.7.0; older members see no token on a WebSocket).
 *
 * @example
 * for await (const response of webSocketStream({ url, method: Watch.method.watch, token, requests, signal })) {}
 */
export function webSocketStream<I extends DescMessage, O extends DescMessage>(
  open: BidiOpen<I, O>,
): AsyncIterable<MessageShape<O>> {
  const inbox = new Inbox<MessageShape<O>>();
  const { method, signal } = open;
  let socket: WebSocket;
  try {
    socket = new WebSocket(
      open.url.replace(/^http/, "ws"),
      open.token === undefined ? [] : ["Bearer", open.token],
    );
  } catch (error) {
    inbox.end(new ConnectError(String(error), Code.Unavailable, undefined, undefined, error));
    return inbox;
  }
  const close = () => {
    signal.removeEventListener("abort", onAbort);
    if (socket.readyState <= OPEN) socket.close(1000);
  };
  const onAbort = () => {
    inbox.end(canceledError(signal));
    close();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  inbox.onReturn = close;
  socket.onopen = async () => {
    try {
      for await (const request of open.requests) {
        if (socket.readyState !== OPEN) return;
        socket.send(toGatewayJson(method.input, request));
      }
    } catch {
      // The request side failed: the call is being torn down already.
    }
  };
  socket.onmessage = (event: MessageEvent) => {
    try {
      inbox.push(streamMessage(method, String(event.data), open.maxReceiveBytes));
    } catch (error) {
      inbox.end(ConnectError.from(error));
      close();
    }
  };
  socket.onclose = (event: CloseEvent) => {
    signal.removeEventListener("abort", onAbort);
    const reason = event.reason ? `: ${event.reason}` : "";
    inbox.end(
      new ConnectError(
        `the gateway's WebSocket for ${method.name} closed (${event.code}${reason})`,
        Code.Unavailable,
      ),
    );
  };
  return inbox;
}
