/**
 * Lists a large prefix page by page. `etcd.list()` reads every page at the revision of the first
 * one, so the listing is one consistent snapshot even while other processes write, and no
 * response grows past the size limits. The count comes first, cheaply (countOnly).
 *
 *   ETCD_ENDPOINTS=http://127.0.0.1:2379 node examples/paged-list.ts jobs/ 1000
 *
 * In your project, import from "etcd-connect" instead of "../src/index.ts".
 */
import { Etcd, prefix } from "../src/index.ts";

const [keyPrefix = "jobs/", pageSizeArg = "1000"] = process.argv.slice(2);
const pageSize = Number(pageSizeArg);

await using etcd = new Etcd({ endpoints: process.env.ETCD_ENDPOINTS ?? "127.0.0.1:2379" });

const { count, revision } = await etcd.range(prefix(keyPrefix), { countOnly: true });
console.log(`${keyPrefix} holds ${count} keys at revision ${revision}`);

let seen = 0;
let bytes = 0;
let first = "";
for await (const kv of etcd.list(prefix(keyPrefix), { pageSize, revision })) {
  if (seen % pageSize === 0) first = kv.keyText;
  seen++;
  bytes += kv.value.length;
  if (seen % pageSize === 0 || seen === Number(count)) {
    console.log(`page ${Math.ceil(seen / pageSize)}: ${first} .. ${kv.keyText}`);
  }
}
console.log(`listed ${seen} keys (${bytes} value bytes) at revision ${revision}`);
