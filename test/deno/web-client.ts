// Run by test/integration/deno.test.ts under Deno (fetch and WebSocket only, no node: modules
// asked for): etcd-connect/web against a real etcd whose URL is the first argument. Prints one
// JSON line with what it saw; the test checks it.
import { compare, Etcd, LeaseNotFoundError, op, prefix } from "../../src/web.ts";

/** What this program uses of Deno's global (the project type-checks with Node's types). */
declare const Deno: { args: string[]; version: { deno: string } };

const endpoint = Deno.args[0];
if (!endpoint) throw new Error("usage: web-client.ts <etcd client URL>");
const P = `deno/${Date.now().toString(36)}/`;

await using etcd = new Etcd({ endpoints: [endpoint] });
const seen: Record<string, unknown> = {};

await etcd.put(`${P}a`, "1");
seen.get = (await etcd.get(`${P}a`))?.text;
await etcd.put(`${P}b`, "2");
seen.range = (await etcd.range(prefix(P))).kvs.map((kv) => `${kv.keyText}=${kv.text}`);
const txn = await etcd.txn({
  compare: [compare.value(`${P}a`, "=", "1")],
  success: [op.put(`${P}c`, "3")],
  failure: [],
});
seen.txn = txn.succeeded;

const watcher = etcd.watch(prefix(P), { prevKv: true });
await watcher.ready();
await etcd.put(`${P}a`, "10");
await etcd.delete(`${P}b`);
const events: string[] = [];
for await (const batch of watcher) {
  for (const e of batch.events) events.push(`${e.type} ${e.kv.keyText} ${e.prevKv?.text ?? ""}`);
  if (events.length >= 2) break;
}
seen.watch = events;

const lease = await etcd.lease.grant(2, { keepAlive: true });
await new Promise((r) => setTimeout(r, 3_000));
seen.leaseAlive = lease.state === "alive" && (await lease.timeToLive()).ttl > 0n;
await lease.revoke();
try {
  await etcd.lease.revoke(lease.id);
  seen.revokedTwice = "no error";
} catch (error) {
  seen.revokedTwice = error instanceof LeaseNotFoundError ? "LeaseNotFoundError" : String(error);
}
seen.runtime = `deno ${Deno.version.deno}`;
console.log(JSON.stringify(seen));
