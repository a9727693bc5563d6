import type { EtcdOptions } from "../../src/client/options.ts";

type TestClientOptions = Pick<EtcdOptions, "transport">;

/**
 * Options every test's `Etcd` should spread in, so that the whole suite runs on either transport
 * (and, optionally, with read coalescing on). Read from the environment in this one place:
 * `ETCD_CONNECT_TRANSPORT=lean|connect|gateway` (default: the client's default, lean) and
 * `ETCD_CONNECT_COALESCE_READS=1`.
 *
 * @example
 * const etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
 */
export function testClientOptions(): TestClientOptions {
  const options: TestClientOptions = {};
  const transport = process.env.ETCD_CONNECT_TRANSPORT;
  if (transport) {
    if (transport !== "lean" && transport !== "connect" && transport !== "gateway") {
      throw new Error(
        `ETCD_CONNECT_TRANSPORT must be "lean", "connect" or "gateway", got "${transport}"`,
      );
    }
    options.transport = transport;
  }
  return options;
}

/** The transport the suite runs on, for messages and for tests specific to one transport. */
export function testTransport(): "lean" | "connect" | "gateway" {
  const transport = process.env.ETCD_CONNECT_TRANSPORT;
  return transport === "connect" || transport === "gateway" ? transport : "lean";
}
