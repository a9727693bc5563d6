import { type CallOptions as ConnectCallOptions, createContextValues } from "@connectrpc/connect";
import { noRetryKey } from "./connection/pool-transport.ts";
import type { CallOptions } from "./options.ts";

/**
 * The options Connect's generated clients take for a facade call: `signal` and `timeoutMs` as
 * given, and `retry: false` as the transport's no-retry context value. Returns `options` itself
 * when there is nothing to translate.
 *
 * @example
 * await client.put(request, connectOptions(options));
 */
export function connectOptions(options: CallOptions): ConnectCallOptions {
  if (options.retry !== false) return options;
  const translated: ConnectCallOptions = {
    contextValues: createContextValues().set(noRetryKey, true),
  };
  if (options.signal !== undefined) translated.signal = options.signal;
  if (options.timeoutMs !== undefined) translated.timeoutMs = options.timeoutMs;
  return translated;
}
