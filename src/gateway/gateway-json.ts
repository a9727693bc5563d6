import {
  type DescMessage,
  type DescMethod,
  fromJson,
  type JsonValue,
  type MessageShape,
} from "@bufbuild/protobuf";
import { gatewayError } from "./gateway-status.ts";
import { jsonLines } from "./json-lines.ts";

/** Protobuf JSON as etcd's gateway writes it: proto field names out; unknown fields ignored in. */
export const WRITE = { useProtoFieldName: true } as const;
export const READ = { ignoreUnknownFields: true } as const;

/** The messages of a server-streamed gateway response, one JSON line each. */
export async function* serverStream<O extends DescMessage>(
  method: DescMethod & { output: O },
  response: Response,
  maxReceiveBytes?: number,
): AsyncGenerator<MessageShape<O>> {
  if (!response.ok) throw gatewayError(response.status, await response.text(), method);
  if (!response.body) return;
  for await (const line of jsonLines(response.body, maxReceiveBytes)) {
    yield streamMessage(method, line);
  }
}

/** One line of a gateway stream: its `result`, or its `error` thrown as a ConnectError. */
export function streamMessage<O extends DescMessage>(
  method: DescMethod & { output: O },
  line: unknown,
): MessageShape<O> {
  const fields = (line ?? {}) as { result?: JsonValue; error?: unknown };
  if (fields.error !== undefined) throw gatewayError(200, fields.error, method);
  return fromJson(method.output, fields.result ?? {}, READ);
}
