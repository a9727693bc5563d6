/**
 * A distributed lock used safely. A lock alone is not mutual exclusion: a holder can stall (a
 * long GC pause, a stopped VM) past its lease while another process takes the lock. So each write
 * the holder makes is guarded twice:
 *   - writes to etcd go through `mutex.txn()`, which applies them only if this process still owns
 *     the lock;
 *   - anything outside etcd gets the fencing token (the lock key's create revision, larger at
 *     every acquisition) and refuses tokens older than the largest it has seen. Here the protected
 *     "resource" is a ledger key that records the token of each write.
 * Several workers can run this at once: the counter ends at workers x rounds, every increment
 * made under a larger token than the one before.
 *
 *   ETCD_ENDPOINTS=http://127.0.0.1:2379 node examples/lock-fencing.ts jobs/counter worker-1 5
 *
 * In your project, import from "etcd-connect" instead of "../src/index.ts".
 */
import { compare, Etcd, op } from "../src/index.ts";

const [lockName = "locks/counter", worker = `pid-${process.pid}`, roundsArg = "5"] =
  process.argv.slice(2);
const counterKey = `${lockName}.counter`;
const fenceKey = `${lockName}.fence`;

await using etcd = new Etcd({ endpoints: process.env.ETCD_ENDPOINTS ?? "127.0.0.1:2379" });
await using session = await etcd.session({ ttl: 10 });

for (let round = 1; round <= Number(roundsArg); round++) {
  const mutex = session.mutex(lockName);
  await mutex.lock({ timeoutMs: 30_000 });
  try {
    const token = mutex.fencingToken;
    const counter = Number((await etcd.get(counterKey))?.text ?? "0");
    const fence = await etcd.get(fenceKey);
    const lastToken = BigInt(fence?.text ?? "0");
    // The resource's own check: never accept a token older than one already seen.
    if (token <= lastToken) throw new Error(`stale fencing token ${token} <= ${lastToken}`);
    // Applied only while we still own the lock (mutex.txn adds that compare) and nobody moved
    // the fence since we read it (a missing key's mod revision compares as 0).
    const { succeeded } = await mutex.txn({
      compare: [compare.modRevision(fenceKey, "=", fence?.modRevision ?? 0n)],
      success: [op.put(counterKey, String(counter + 1)), op.put(fenceKey, String(token))],
    });
    if (!succeeded) throw new Error("the lock or the fence moved before writing");
    console.log(`${worker}: round ${round} token ${token} counter ${counter + 1}`);
  } finally {
    await mutex.unlock();
  }
}
console.log(`${worker}: done`);
