/**
 * A tour of the KV API. With ETCD_ENDPOINTS set it uses that etcd; otherwise it starts a
 * throwaway local etcd (installing one with scripts/install-etcd.sh if needed) and stops it after.
 *
 *   npm start
 *   ETCD_ENDPOINTS=http://127.0.0.1:2379 npm start
 */
import { all, compare, Etcd, op, prefix } from "../src/index.ts";
import { Cluster } from "../test/support/cluster.ts";

const given = process.env.ETCD_ENDPOINTS?.split(",").filter(Boolean);
const cluster = given ? undefined : await Cluster.start();
const endpoints = given ?? cluster?.endpoints ?? [];
console.log(
  cluster
    ? `started a local etcd at ${endpoints.join(", ")}`
    : `using etcd at ${endpoints.join(", ")}`,
);

try {
  await using etcd = new Etcd({ endpoints, timeoutMs: 5_000 });
  const root = `demo/${Date.now().toString(36)}/`;

  const put = await etcd.put(`${root}config/color`, "blue");
  console.log(`put ${root}config/color = blue (revision ${put.revision})`);
  await etcd.put(`${root}config/size`, "42");
  await etcd.put(`${root}config/owner`, JSON.stringify({ name: "ada" }));

  const color = await etcd.get(`${root}config/color`);
  console.log(`get ${color?.keyText} -> ${color?.text}  (version ${color?.version})`);

  const page = await etcd.range(prefix(`${root}config/`), {
    sortOrder: "descend",
    sortTarget: "key",
  });
  console.log(
    `range prefix ${root}config/ -> ${page.count} keys: ${page.kvs.map((kv) => kv.keyText).join(", ")}`,
  );

  const owner = await etcd.get(`${root}config/owner`);
  console.log(`json value -> ${JSON.stringify(owner?.json())}`);

  // Compare-and-swap: only change the color if nobody else changed it since we read it.
  const cas = await etcd.txn({
    compare: [compare.modRevision(`${root}config/color`, "=", color?.modRevision ?? 0n)],
    success: [op.put(`${root}config/color`, "green", { prevKv: true })],
    failure: [op.get(`${root}config/color`)],
  });
  console.log(`txn CAS blue -> green: ${cas.succeeded ? "applied" : "lost the race"}`);
  const again = await etcd.txn({
    compare: [compare.value(`${root}config/color`, "=", "blue")],
    success: [op.put(`${root}config/color`, "red")],
  });
  console.log(
    `txn CAS blue -> red (stale): ${again.succeeded ? "applied" : "refused, value is no longer blue"}`,
  );

  for (let i = 0; i < 25; i++)
    await etcd.put(`${root}items/${String(i).padStart(3, "0")}`, `item ${i}`);
  let seen = 0;
  for await (const kv of etcd.list(prefix(`${root}items/`), { pageSize: 10 })) {
    if (seen++ === 0) console.log(`list pages of 10, first key ${kv.keyText}`);
  }
  console.log(`list prefix ${root}items/ -> ${seen} keys in pages of 10, all at one revision`);

  const { deleted } = await etcd.delete(prefix(root));
  console.log(`delete prefix ${root} -> ${deleted} keys`);
  const { count } = await etcd.range(all(), { countOnly: true });
  console.log(`keys left in etcd: ${count}`);
} finally {
  if (cluster) {
    await cluster.stop();
    console.log("stopped the local etcd");
  }
}
