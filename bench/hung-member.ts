/**
 * Measures the longest stall of a put and of a get, with default client options, while one of
 * three members hangs (SIGSTOP) or, with `partition`, is cut off from the other two while the
 * client still reaches it (members in network namespaces; needs root). Not a test: prints what
 * it saw.
 *
 *   ETCD_BIN=/path/to/etcd node_modules/.bin/node bench/hung-member.ts [follower|leader] [seconds] [hang|partition]
 */
import { Etcd } from "../src/index.ts";
import { TestCluster } from "../src/testing.ts";
import { LabCluster } from "../test/support/network/lab-cluster.ts";

/** The ETCD_MEMBER_* code among an error's causes (what the stall watchdog saw), as " (CODE)". */
function memberCode(error: unknown): string {
  for (let e: unknown = error; e !== null && typeof e === "object"; ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ETCD_MEMBER_")) return ` (${code})`;
    e = (e as { cause?: unknown }).cause;
  }
  return "";
}

const which = process.argv[2] === "leader" ? "leader" : "follower";
const seconds = Number(process.argv[3] ?? 15);
const mode = process.argv[4] === "partition" ? "partition" : "hang";
const cluster =
  mode === "partition" ? await LabCluster.start({ size: 3 }) : await TestCluster.start({ size: 3 });
try {
  const leader = await cluster.waitLeader();
  const hung = which === "leader" ? leader : cluster.members.find((m) => m !== leader);
  if (hung === undefined) throw new Error("no member to hang");
  await using etcd = new Etcd({ endpoints: cluster.endpoints });
  for (let i = 0; i < 6; i++) await etcd.put(`m/${i}`, "v"); // every connection up

  let pausedAt = 0;
  let stop = false;
  const worker = async (name: string, call: (i: number) => Promise<unknown>) => {
    const seen = { name, max: 0, maxOutcome: "ok", calls: 0, errors: new Map<string, number>() };
    for (let i = 0; !stop; i++) {
      const start = performance.now();
      let outcome = "ok";
      try {
        await call(i);
      } catch (error) {
        outcome = `${(error as Error).name}${memberCode(error)}`;
        seen.errors.set(outcome, (seen.errors.get(outcome) ?? 0) + 1);
      }
      const took = performance.now() - start;
      if (pausedAt !== 0 && start >= pausedAt - 1) {
        seen.calls++;
        if (took > seen.max) {
          seen.max = took;
          seen.maxOutcome = outcome;
        }
      }
    }
    return seen;
  };
  const workers = [
    worker("put", (i) => etcd.put(`m/${i % 6}`, String(i))),
    worker("get", (i) => etcd.get(`m/${i % 6}`)),
  ];
  await new Promise((r) => setTimeout(r, 500));
  pausedAt = performance.now();
  if (cluster instanceof LabCluster) await cluster.lab.isolate(hung.name);
  else hung.pause();
  // Give it 45 s to show the stall of 40 s that default options had before hang detection.
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  const results = await Promise.all(workers);
  if (cluster instanceof LabCluster) await cluster.lab.heal();
  else hung.resume();
  for (const r of results) {
    console.error(
      `${which} ${mode === "hang" ? "hung" : "partitioned"}: ${r.name}: longest stall ${Math.round(r.max)} ms (${r.maxOutcome}) over ${r.calls} calls; errors ${JSON.stringify(Object.fromEntries(r.errors))}`,
    );
  }
} finally {
  await cluster.stop();
}
