import type { DescMessage, DescMethodStreaming, MessageShape } from "@bufbuild/protobuf";

/** @internal What a bidi stream over the gateway is opened with. */
export interface BidiOpen<I extends DescMessage, O extends DescMessage> {
  /** The route's full URL, such as "http://127.0.0.1:2379/v3/watch". */
  url: string;
  method: DescMethodStreaming<I, O>;
  /** The auth token, if any. */
  token: string | undefined;
  requests: AsyncIterable<MessageShape<I>>;
  signal: AbortSignal;
  /** Largest response message accepted (its JSON text). */
  maxReceiveBytes: number;
}
