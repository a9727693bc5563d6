/**
 * The lines of a stream as they arrive (without the newline, a trailing "\r" dropped), so an
 * interactive prompt can answer each line before the input ends.
 *
 * @example
 * for await (const line of lines(process.stdin)) console.log(line);
 */
export async function* lines(
  stream: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<string, void, undefined> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      yield pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  }
  pending += decoder.decode();
  if (pending) yield pending.replace(/\r$/, "");
}
