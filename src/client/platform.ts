import type { TransportFactory } from "../connection/endpoint-transport.ts";
import type { KvDecoders } from "../kv/kv.ts";
import type { KeepAliveFrameCodec } from "../lease/keep-alive-frame-codec.ts";
import type { SnapshotIo } from "../maintenance/snapshot-io.ts";
import type { WatchFrameCodec } from "../watch/watch-frame-codec.ts";
import type { EtcdOptions } from "./options.ts";

/**
 * @internal What an entry point's `Etcd` brings from its runtime: the transports it offers
 * (Node: HTTP/2 gRPC and the gateway; the web entry: the gateway only) and where snapshots go.
 * Keeping them here keeps `node:` modules out of the web entry's module graph.
 */
export interface Platform {
  /** The factory for `options.transport`; throws `InvalidArgumentError` for one it lacks. */
  transportFactory(choice: EtcdOptions["transport"]): TransportFactory;
  readonly snapshotIo: SnapshotIo;
  /**
   * Decode a RangeResponse while its bytes arrive and a PutResponse without the generated
   * message, for the transports that read protobuf (the lean one); absent where no such
   * transport is offered, keeping the decoders out of the bundle.
   */
  readonly kvDecoders?: KvDecoders | undefined;
  /** The Watch call's bytes for the lean transport's frame stream; absent likewise. */
  readonly watchFrames?: WatchFrameCodec | undefined;
  /** The LeaseKeepAlive call's bytes for the same; absent likewise. */
  readonly keepAliveFrames?: KeepAliveFrameCodec | undefined;
}
