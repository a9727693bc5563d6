/**
 * The LeaseKeepAlive call's bytes for a raw frame stream: renewal requests written in place,
 * answers read in place. Brought by the Node entry's platform (`keepAliveFrames`), so that the
 * web entry, whose transports have no frame stream, does not bundle them.
 *
 * @example
 * const codec: KeepAliveFrameCodec = keepAliveFrames;
 * const out = new Uint8Array(codec.maxRequestBytes);
 * frames.write(out.subarray(0, codec.encode(out, 0, lease.id)));
 */
export interface KeepAliveFrameCodec {
  /** The most bytes one length-prefixed request takes. */
  readonly maxRequestBytes: number;
  /** Writes one length-prefixed request for `id` at `pos` of a zeroed `out`; returns its end. */
  encode(out: Uint8Array, pos: number, id: bigint): number;
  /** The lease ID and TTL of one response message. */
  decode(payload: Uint8Array): { id: bigint; ttl: bigint };
}
