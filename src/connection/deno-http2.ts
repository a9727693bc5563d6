import * as http2 from "node:http2";

let absorbing = false;

/**
 * On Deno, keeps an HTTP/2 connection's error that nobody listens to from ending the process.
 * Deno 2.9 emits a broken connection's write error (EPIPE) on the `ClientHttp2Session` when
 * connect-node has already taken its listener off (the connection broke right after "connect",
 * or after it closed). Node does not emit there, so nothing changes on Node (nor on Bun). The
 * connection is destroyed either way, and its calls fail as on any lost connection.
 *
 * @example
 * absorbUnheardSessionErrors(); // once, before the first connection
 */
export function absorbUnheardSessionErrors(): void {
  if (absorbing || !("Deno" in globalThis)) return;
  absorbing = true;
  const session: unknown = Reflect.get(http2, "ClientHttp2Session");
  const proto = typeof session === "function" ? (session.prototype as Emitter) : undefined;
  if (proto === undefined || typeof proto.emit !== "function") return;
  const emit = proto.emit;
  proto.emit = function (this: Emitter, name: string | symbol, ...args: unknown[]): boolean {
    if (name === "error" && this.listenerCount("error") === 0) return false;
    return emit.call(this, name, ...args);
  };
}

interface Emitter {
  emit(name: string | symbol, ...args: unknown[]): boolean;
  listenerCount(name: string | symbol): number;
}
