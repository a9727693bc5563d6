import type { TransportFactory } from "../connection/endpoint-transport.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { createGatewayEndpointTransport } from "../gateway/gateway-endpoint.ts";
import { Sha256 } from "../maintenance/sha256.ts";
import { webSink } from "../maintenance/web-sink.ts";
import type { EtcdOptions } from "./options.ts";
import type { Platform } from "./platform.ts";

/** @internal Fetch-only runtimes: the JSON gateway; snapshots into a `WritableStream`. */
export const webPlatform: Platform = {
  transportFactory(choice: EtcdOptions["transport"]): TransportFactory {
    if (typeof choice === "function") return choice;
    if (choice === undefined || choice === "gateway") return createGatewayEndpointTransport;
    throw new InvalidArgumentError(
      `transport "${String(choice)}" needs node:http2; etcd-connect/web has "gateway" only`,
    );
  },
  snapshotIo: {
    openSink(target, end) {
      if (typeof WritableStream !== "undefined" && target instanceof WritableStream) {
        return webSink(target, end);
      }
      throw new InvalidArgumentError(
        "etcd-connect/web writes snapshots into a WritableStream only",
      );
    },
    sha256: () => new Sha256(),
  },
};
