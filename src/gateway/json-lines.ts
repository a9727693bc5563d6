import { Code, ConnectError } from "@connectrpc/connect";

/**
 * The lines of a streamed response body: the gateway writes one `{"result": ...}` or
 * `{"error": ...}` object per line. Empty lines are skipped. A line that grows past
 * `maxLineChars` without ending fails with ResourceExhausted (a guard on memory; the exact
 * limit is checked on each message's protobuf size).
 *
 * @example
 * for await (const line of jsonLines(response.body)) console.log(JSON.parse(line));
 */
export async function* jsonLines(
  body: ReadableStream<Uint8Array>,
  maxLineChars = Number.POSITIVE_INFINITY,
): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line.length > 0) yield line;
        newline = pending.indexOf("\n");
      }
      if (pending.length > maxLineChars) throw tooLarge(pending.length, maxLineChars);
    }
    pending += decoder.decode();
    const last = pending.trim();
    if (last.length > 0) yield last;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * A response over the client's receive limit, worded as the gRPC transports word it (the
 * facade makes it a ResponseTooLargeError, and a watcher asks etcd to fragment).
 *
 * @example
 * throw tooLarge(3_000_000, 2_097_152);
 */
export function tooLarge(size: number, max: number): ConnectError {
  return new ConnectError(
    `response message of ${size} bytes exceeds maxReceiveBytes (${max})`,
    Code.ResourceExhausted,
  );
}
