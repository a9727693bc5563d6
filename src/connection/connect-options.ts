import { type CallOptions as ConnectCallOptions, createContextValues } from "@connectrpc/connect";
import type { CallOptions } from "../core/call-options.ts";
import { type PieceDecoder, pieceDecoderKey } from "./piece-decoder.ts";
import { noRetryKey } from "./pool-transport.ts";

/**
 * The options Connect's generated clients take for a facade call: `signal` and `timeoutMs` as
 * given, `retry: false` as the transport's no-retry context value, and `decoder` as the lean
 * transport's piece decoder (the response is then either what it decodes or, on a transport
 * that ignores it, the generated message). Returns `options` itself when there is nothing to
 * translate.
 *
 * @example
 * await client.put(request, connectOptions(options));
 */
export function connectOptions(
  options: CallOptions,
  decoder?: () => PieceDecoder<unknown>,
): ConnectCallOptions {
  if (options.retry !== false && decoder === undefined) return options;
  const contextValues = createContextValues();
  if (options.retry === false) contextValues.set(noRetryKey, true);
  if (decoder !== undefined) contextValues.set(pieceDecoderKey, decoder);
  const translated: ConnectCallOptions = { contextValues };
  if (options.signal !== undefined) translated.signal = options.signal;
  if (options.timeoutMs !== undefined) translated.timeoutMs = options.timeoutMs;
  return translated;
}
