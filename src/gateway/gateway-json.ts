import type { DescMessage, DescMethod, JsonValue, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorText } from "../core/error-text.ts";
import { fromGatewayJson } from "./gateway-codec.ts";
import { gatewayError } from "./gateway-status.ts";
import { jsonLines, tooLarge } from "./json-lines.ts";
import { protobufSize } from "./protobuf-size.ts";

/**
 * How much longer a message's JSON can be than its protobuf: base64 adds a third to bytes, and
 * names, quotes and decimal strings add more. Only a memory guard for a line not yet ended.
 */
const JSON_EXPANSION = 8;

/** The messages of a server-streamed gateway response, one JSON line each. */
export async function* serverStream<O extends DescMessage>(
  method: DescMethod & { output: O },
  response: Response,
  maxReceiveBytes?: number,
): AsyncGenerator<MessageShape<O>> {
  if (!response.ok) throw gatewayError(response.status, await response.text(), method);
  if (!response.body) return;
  const max = maxReceiveBytes ?? Number.POSITIVE_INFINITY;
  const lines = jsonLines(response.body, max * JSON_EXPANSION);
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = await lines.next();
    } catch (error) {
      throw brokenOff(method, error);
    }
    if (next.done) return;
    yield streamMessage(method, next.value, max);
  }
}

/**
 * A response body that failed while being read (the member died, the connection reset) as
 * Unavailable, the way gRPC reports a lost transport, so that reads fail over and streams are
 * opened again; ConnectErrors (etcd's, the size limit) pass unchanged, and an abort stays a
 * cancel.
 *
 * @example
 * try { text = await response.text(); } catch (e) { throw brokenOff(method, e); }
 */
export function brokenOff(method: DescMethod, error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if ((error as { name?: unknown } | null)?.name === "AbortError") return ConnectError.from(error);
  const reason = errorText(error);
  return new ConnectError(
    `${method.name}: the gateway's response broke off: ${reason}`,
    Code.Unavailable,
    undefined,
    undefined,
    error,
  );
}

/**
 * One line of a gateway stream: its `result`, or its `error` thrown as a ConnectError. A
 * message over `maxReceiveBytes` (its protobuf size, as over gRPC) fails with ResourceExhausted.
 */
export function streamMessage<O extends DescMessage>(
  method: DescMethod & { output: O },
  line: string,
  maxReceiveBytes = Number.POSITIVE_INFINITY,
): MessageShape<O> {
  const fields = (JSON.parse(line) ?? {}) as { result?: JsonValue; error?: unknown };
  if (fields.error !== undefined) throw gatewayError(200, fields.error, method);
  return checkedSize(
    method.output,
    fromGatewayJson(method.output, fields.result ?? {}),
    line.length,
    maxReceiveBytes,
  );
}

/**
 * The message, unless its protobuf size is over `max`: measured only when its JSON (never
 * smaller than the protobuf) is over it, so that the limit means what it means over gRPC.
 */
export function checkedSize<O extends DescMessage>(
  schema: O,
  message: MessageShape<O>,
  jsonLength: number,
  max: number,
): MessageShape<O> {
  if (jsonLength > max) {
    const size = protobufSize(schema, message);
    if (size > max) throw tooLarge(size, max);
  }
  return message;
}
