/**
 * Leader election: every process campaigns under one election prefix; exactly one leads at a
 * time, the others wait in line and take over when it goes away. Keys and protocol are Go's
 * concurrency.Election, so Go programs and `etcdctl elect` take part in the same election.
 * While it waits, a candidate also reports who leads. Ctrl-C resigns (the next candidate takes
 * over at once); a crashed leader is replaced when its session's lease expires.
 *
 *   ETCD_ENDPOINTS=http://127.0.0.1:2379 node examples/leader-election.ts scheduler node-1
 *
 * In your project, import from "etcd-connect" instead of "../src/index.ts".
 */
import { CanceledError, Etcd } from "../src/index.ts";

const [electionName = "scheduler", candidate = `pid-${process.pid}`, ttl = "10"] =
  process.argv.slice(2);
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

await using etcd = new Etcd({ endpoints: process.env.ETCD_ENDPOINTS ?? "127.0.0.1:2379" });
await using session = await etcd.session({ ttl: Number(ttl) });
const election = session.election(electionName);

// Report the leader while we wait (observe() yields the leader and every change).
const watching = new AbortController();
const observing = (async () => {
  try {
    for await (const leader of etcd.election(electionName).observe({ signal: watching.signal })) {
      if (leader.text !== candidate) console.log(`${candidate}: following ${leader.text}`);
    }
  } catch (error) {
    if (!(error instanceof CanceledError)) throw error;
  }
})();

try {
  await election.campaign(candidate, { signal: stop.signal });
  watching.abort();
  await observing;
  console.log(`${candidate}: elected (key ${election.keyText}, revision ${election.revision})`);
  // Lead until asked to stop, or until the session is lost (another candidate then leads).
  const outcome = await Promise.race([
    new Promise<"stopped">((resolve) =>
      stop.signal.addEventListener("abort", () => resolve("stopped"), { once: true }),
    ),
    session.lost.then(() => "lost" as const),
  ]);
  if (outcome === "lost") {
    console.log(`${candidate}: session lost, no longer leader`);
    process.exitCode = 1;
  } else {
    await election.resign();
    console.log(`${candidate}: resigned`);
  }
} catch (error) {
  watching.abort();
  await observing;
  if (!(error instanceof CanceledError && stop.signal.aborted)) throw error;
  console.log(`${candidate}: stopped before being elected`);
}
