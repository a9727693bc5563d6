import { EtcdClient } from "./etcd-client.ts";
import { nodePlatform } from "./node-platform.ts";
import type { EtcdOptions } from "./options.ts";

/**
 * An etcd v3 client. Create one per application and share it; `close()` (or `await using`)
 * ends every stream and connection. On Node it speaks gRPC over HTTP/2 (`transport: "lean"`,
 * the default, or "connect"), or etcd's JSON gateway with `transport: "gateway"`.
 *
 * @example
 * await using etcd = new Etcd({ endpoints: ["http://127.0.0.1:2379"] });
 * await etcd.put("greeting", "hello");
 * console.log((await etcd.get("greeting"))?.text);
 */
export class Etcd extends EtcdClient {
  constructor(options: EtcdOptions) {
    super(options, nodePlatform);
  }
}
