type NodeBuffer = {
  from(
    buffer: ArrayBufferLike,
    offset: number,
    length: number,
  ): { toString(encoding: "latin1"): string };
};
/** Node's Buffer where the runtime has one (fast and native); undefined in browsers. */
const NodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/**
 * The bytes as a string of one character per byte (latin1): compares like the bytes, so it can
 * key a map or a sorted index. Node's Buffer where there is one, a loop elsewhere.
 *
 * @example
 * latin1(new TextEncoder().encode("cfg/a")); // "cfg/a"
 */
export function latin1(bytes: Uint8Array): string {
  if (NodeBuffer)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}
