/**
 * Recovery of many watchers: 10,000 watchers of one key on a client of a 3-member cluster (its
 * own, started for the row, fsync off like the main server), the member carrying their Watch
 * stream killed; the time from the kill until every watcher received the first write made after
 * it (written through a client of the surviving members, every 10 ms until one succeeds). The
 * client is given the two followers only, so the killed member is never the leader: killing the
 * leader adds etcd's election (1 to 2.5 s here) before any write, which is not the client's time.
 * The details give the time to the first write and whether a leader was killed all the same
 * (leadership moved during the set-up).
 */
import { Etcd } from "../../src/index.ts";
import { Cluster, etcdBinary } from "../../test/support/index.ts";
import { createClients } from "../lib/clients.ts";
import { sleep } from "../lib/measure.ts";
import { supportsNoFsync } from "../lib/server.ts";
import type { Workload } from "../lib/workload.ts";

const GIVE_UP_MS = 60_000;

export const watchRecovery: Workload = {
  id: "watch-recovery",
  title: "10,000 watchers back after their member is killed",
  headline: { unit: "ms", higherIsBetter: false, value: (s) => s.wallMs },
  clients: ["ours", "etcd3"],
  async run(benchClient, ctx) {
    if (!benchClient.watchersOnKey) return undefined;
    const n = ctx.scale(10_000, 200);
    const cluster = await Cluster.start({
      size: 3,
      args: supportsNoFsync(etcdBinary()) ? ["--unsafe-no-fsync"] : [],
    });
    const leader = await cluster.leader();
    const followers = cluster.members.filter((m) => m !== leader).map((m) => m.clientUrl);
    const [client] = createClients(followers, [benchClient.name]);
    let writer: Etcd | undefined;
    try {
      const key = `${ctx.prefix}recovery/${benchClient.name}`;
      const crowd = await client?.watchersOnKey?.(key, n);
      if (!client || !crowd) return undefined;
      // The member whose Watch stream holds the watchers.
      const counts = await Promise.all(
        cluster.members.map((m) => cluster.metric(m, "etcd_debugging_mvcc_watcher_total")),
      );
      const host = cluster.members[counts.indexOf(Math.max(...counts))];
      if (!host) throw new Error("no member holds the watchers");
      const hostLed = (await cluster.leader()) === host;
      writer = new Etcd({
        endpoints: cluster.members.filter((m) => m !== host).map((m) => m.clientUrl),
      });
      const before = await writer.put(key, "before");
      await crowd.reached(Number(before.revision));
      const cpu0 = process.cpuUsage();
      await host.kill();
      const t0 = performance.now();
      let revision: bigint | undefined;
      while (revision === undefined && performance.now() - t0 < GIVE_UP_MS) {
        try {
          revision = (await writer.put(key, "after", { timeoutMs: 1_000 })).revision;
        } catch {
          await sleep(10);
        }
      }
      if (revision === undefined) throw new Error("no write succeeded after the kill");
      const firstWriteMs = performance.now() - t0;
      const done = crowd.reached(Number(revision));
      let giveUp: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        done.then(() => "ok"),
        new Promise<string>((resolve) => {
          giveUp = setTimeout(resolve, GIVE_UP_MS, "");
        }),
      ]);
      // A pending give-up timer would hold the bench process for a minute after its last row.
      clearTimeout(giveUp);
      if (outcome !== "ok") throw new Error(`watchers not back within ${GIVE_UP_MS} ms`);
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      await crowd.close();
      return {
        ops: n,
        wallMs,
        opsPerSec: (n * 1000) / wallMs,
        cpuUsPerOp: (cpu.user + cpu.system) / n,
        // The first write after the kill includes a leader election when the killed member led.
        extra: { firstWriteMs, leaderKilled: hostLed ? 1 : 0 },
      };
    } finally {
      await client?.close();
      await writer?.close();
      await cluster.stop();
    }
  },
};
