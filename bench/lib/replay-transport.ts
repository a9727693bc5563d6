/**
 * A Connect transport for measuring the facade alone: it does the lean transport's CPU work
 * around a call (the request built and encoded, the response decoded, through a piece decoder
 * when the caller passes one) but, instead of the network, answers with response bytes
 * recorded from the real etcd earlier in the run. The facade and the raw generated client on
 * it differ only by the facade's own code, with no network and no server to add noise.
 */
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { ContextValues, Transport, UnaryResponse } from "@connectrpc/connect";
import { pieceDecoderKey } from "../../src/connection/piece-decoder.ts";

/** Recorded response payloads by method name ("Put", "Range"). */
export type Recordings = Map<string, Uint8Array>;

/** The replaying transport (streams are not supported). */
export function createReplayTransport(recordings: Recordings): Transport {
  return {
    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      _signal: AbortSignal | undefined,
      _timeoutMs: number | undefined,
      _header: HeadersInit | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const request = create(method.input, input);
      toBinary(method.input, request);
      const payload = recordings.get(method.name);
      if (payload === undefined) throw new Error(`no recording for ${method.name}`);
      const decoder = contextValues?.get(pieceDecoderKey)?.();
      let message: MessageShape<O>;
      if (decoder) {
        decoder.push(payload);
        message = decoder.finish() as MessageShape<O>;
      } else message = fromBinary(method.output, payload);
      return {
        stream: false,
        service: method.parent,
        method,
        header: EMPTY_HEADERS,
        trailer: EMPTY_HEADERS,
        message,
      };
    },
    stream() {
      return Promise.reject(new Error("the replay transport has no streams"));
    },
  };
}

const EMPTY_HEADERS = new Headers();
