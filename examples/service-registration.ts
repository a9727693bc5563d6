/**
 * Registers a service instance under `services/<service>/<instance>` on a lease that the client
 * keeps alive, and keeps the list of all instances up to date with a watch. If the lease is lost
 * (expired while the process was stalled, or revoked), the instance registers again on a new
 * lease. Ctrl-C revokes the lease, which removes the registration at once.
 *
 *   ETCD_ENDPOINTS=http://127.0.0.1:2379 node examples/service-registration.ts api host-a:8080
 *
 * In your project, import from "etcd-connect" instead of "../src/index.ts".
 */
import { hostname } from "node:os";
import { CanceledError, Etcd, type Lease, prefix } from "../src/index.ts";

const [service = "api", address = `${hostname()}:8080`, ttlArg = "10"] = process.argv.slice(2);
const instance = address.replace(/[^a-zA-Z0-9_.-]/g, "_");
const root = `services/${service}/`;
const key = `${root}${instance}`;
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

await using etcd = new Etcd({ endpoints: process.env.ETCD_ENDPOINTS ?? "127.0.0.1:2379" });
let lease: Lease | undefined;

/** Grants a kept-alive lease and puts the instance on it; on loss, does it again. */
async function register(): Promise<void> {
  const current = await etcd.lease.grant(Number(ttlArg), { keepAlive: true });
  lease = current;
  await etcd.put(key, JSON.stringify({ address, since: new Date().toISOString() }), {
    lease: current.id,
  });
  console.log(`registered ${key} on lease ${current.hex} (ttl ${current.grantedTtl}s)`);
  current.onLost((error) => {
    if (stop.signal.aborted) return;
    console.log(`lease ${current.hex} lost (${error.message}): registering again`);
    register().catch((e) => {
      console.error(`could not register again: ${String(e)}`);
      stop.abort();
    });
  });
}

await register();

// Follow every instance of the service: list once, then apply changes from the next revision.
const { kvs, revision } = await etcd.range(prefix(root));
const instances = new Set(kvs.map((kv) => kv.keyText.slice(root.length)));
console.log(`instances: ${[...instances].sort().join(", ")}`);
try {
  for await (const batch of etcd.watch(prefix(root), {
    startRevision: revision + 1n,
    signal: stop.signal,
  })) {
    for (const { type, kv } of batch.events) {
      const name = kv.keyText.slice(root.length);
      if (type === "put") instances.add(name);
      else instances.delete(name);
    }
    console.log(`instances: ${[...instances].sort().join(", ")}`);
  }
} catch (error) {
  if (!(error instanceof CanceledError && stop.signal.aborted)) throw error;
}

await lease?.revoke();
console.log(`deregistered ${key}`);
