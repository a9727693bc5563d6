import { EtcdClient } from "./etcd-client.ts";
import type { EtcdOptions } from "./options.ts";
import { webPlatform } from "./web-platform.ts";

/**
 * An etcd v3 client for fetch-only runtimes (browsers, workers, Deno): every call goes through
 * etcd's JSON gateway on the members' client URLs, the same API as on Node. Create one per
 * application and share it; `close()` (or `await using`) ends every stream.
 *
 * @example
 * import { Etcd } from "etcd-connect/web";
 * await using etcd = new Etcd({ endpoints: ["http://127.0.0.1:2379"] });
 * await etcd.put("greeting", "hello");
 * console.log((await etcd.get("greeting"))?.text);
 */
export class Etcd extends EtcdClient {
  constructor(options: EtcdOptions) {
    super(options, webPlatform);
  }
}
