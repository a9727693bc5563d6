import type { ClientHttp2Session } from "node:http2";

/**
 * How much a member may send on one stream before the client acknowledges it
 * (SETTINGS_INITIAL_WINDOW_SIZE). HTTP/2's default of 64 KiB makes a 2.7 MB range response wait
 * for some forty WINDOW_UPDATE round trips through the client's event loop; with 1 MiB it
 * arrives in a few. Measured on a 10,000-key range (etcd 3.7.1, bench/range-ratio.ts): about a
 * third less client CPU per range, and more ranges per second. Go's gRPC client grows its
 * windows up to 16 MiB for the same reason.
 */
export const STREAM_WINDOW_BYTES = 1 << 20;

/** The window of the whole connection, shared by its streams: room for several large responses. */
export const CONNECTION_WINDOW_BYTES = 16 << 20;

/**
 * Opens the connection-level receive window to `CONNECTION_WINDOW_BYTES` once the connection is
 * up (a WINDOW_UPDATE on stream 0; node:http2 leaves it at 64 KiB). Runtimes whose node:http2
 * lacks `setLocalWindowSize` keep their default, and so does Bun: with its connection window
 * widened, a server stream cut by a killed member never ended there (the list-stream test hung;
 * the 1 MiB stream window alone is fine).
 *
 * @example
 * widenConnectionWindow(session);
 */
export function widenConnectionWindow(session: ClientHttp2Session): void {
  if (typeof session.setLocalWindowSize !== "function" || "Bun" in globalThis) return;
  const widen = () => {
    if (session.destroyed || session.closed) return;
    try {
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    } catch {
      // A session torn down between the check and the call: nothing to widen.
    }
  };
  if (session.connecting) session.once("connect", widen);
  else widen();
}
