import { createHash } from "node:crypto";
import {
  createConnectEndpointTransport,
  createLeanEndpointTransport,
} from "../connection/endpoint.ts";
import type { TransportFactory } from "../connection/endpoint-transport.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { createGatewayEndpointTransport } from "../gateway/gateway-endpoint.ts";
import { PutResultDecoder } from "../kv/put-result-decoder.ts";
import { RangeResultDecoder } from "../kv/range-result-decoder.ts";
import { keepAliveFrames } from "../lease/keep-alive-frames.ts";
import { openSink } from "../maintenance/snapshot-sink.ts";
import { requestFrames } from "../watch/request-frames.ts";
import { WatchResponseDecoder } from "../watch/watch-response-decoder.ts";
import type { EtcdOptions } from "./options.ts";
import type { Platform } from "./platform.ts";

/** @internal Node (and Bun, Deno over npm): gRPC over node:http2 by default, the gateway on request. */
export const nodePlatform: Platform = {
  transportFactory(choice: EtcdOptions["transport"]): TransportFactory {
    if (typeof choice === "function") return choice;
    if (choice === undefined || choice === "lean") return createLeanEndpointTransport;
    if (choice === "connect") return createConnectEndpointTransport;
    if (choice === "gateway") return createGatewayEndpointTransport;
    throw new InvalidArgumentError(`unknown transport "${String(choice)}"`);
  },
  kvDecoders: {
    range: (keyspace) => new RangeResultDecoder(keyspace),
    put: (keyspace) => new PutResultDecoder(keyspace),
  },
  watchFrames: { decoder: () => new WatchResponseDecoder(), encode: requestFrames },
  keepAliveFrames,
  snapshotIo: {
    openSink,
    sha256() {
      const hash = createHash("sha256");
      return {
        update: (bytes) => void hash.update(bytes),
        hex: () => hash.digest("hex"),
      };
    },
  },
};
