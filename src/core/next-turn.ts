/**
 * Runs `callback` after the current turn of the event loop, once pending I/O had its chance:
 * `setImmediate` where the runtime has it (Node, Bun, Deno), a zero timeout elsewhere.
 *
 * @example
 * nextTurn(() => flush());
 */
export const nextTurn: (callback: () => void) => void =
  typeof globalThis.setImmediate === "function"
    ? (callback) => void globalThis.setImmediate(callback)
    : (callback) => void setTimeout(callback, 0);
