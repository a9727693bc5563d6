/**
 * Locks and keep-alive under faults, on a 3-member cluster.
 *
 * Mutual exclusion: several clients (each its own `Etcd` with all three endpoints and its own
 * session) take turns on one mutex; inside the lock each increments a counter with a
 * transaction guarded by the fencing token: the owner key must still have the token as create
 * revision, the fence key must hold no larger token, and the counter must be unchanged since it
 * was read. Meanwhile members are killed and paused in rotation (leader and follower). A section
 * whose transaction failed in a way that leaves the outcome unknown is settled afterwards from
 * the log key it wrote. Checks: the final counter equals the number of completed critical
 * sections; every completed section wrote the next value with a token larger than the one
 * before; no transaction ever found the counter changed under its lock; and the hold intervals
 * each client recorded (from `lock()` resolving to `unlock()` being called, or to the moment the
 * client was told its session was lost, whichever came first) never overlap.
 *
 * One client now and then stalls inside the lock until etcd has expired its session's lease (it
 * stops renewing): the lock passes to another client, and the stalled holder's late write must
 * be refused by the fence.
 *
 * Keep-alive: a lease kept alive on the leader (leadership moved there) survives the leader
 * being killed, and then its new member being hung: the stream moves to another member each
 * time and the lease is never reported lost.
 *
 * Every other fault is a partition or a slow link from the shared nemesis (`test/support/nemesis.ts`),
 * on the lockers' links; the run prints the count per fault kind and the longest time without a
 * lock taken per kind.
 *
 * FAULTS (default 8, `long`: 24) sets the number of faults, LOCKERS (default 4) the number of clients.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  compare,
  Etcd,
  type Mutex,
  op,
  prefix,
  type RangeResult,
  type Session,
} from "../../src/index.ts";
import { type Member, testClientOptions, uniquePrefix } from "../support/index.ts";
import { faultCount, Nemesis, startFaultCluster } from "../support/nemesis.ts";

const FAULTS = faultCount(8, 24);
const LOCKERS = Number(process.env.LOCKERS ?? 4);
const SESSION_TTL = 6;
const CALL_TIMEOUT_MS = 2_000;
const DIAL_TIMEOUT_MS = 1_000;
const KEEPALIVE_INTERVAL_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 3_000;
const DOWN_MS = 3_000;
const PAUSE_MS = 4_000;
const SETTLE_MS = 1_500;
const HOLD_MS = 20;
/** Locker 0 stalls past its session's TTL in every this many of its critical sections. */
const STALL_EVERY = 15;

type FaultKind = "kill-leader" | "pause-follower" | "pause-leader" | "kill-follower";
const rotation: FaultKind[] = ["kill-leader", "pause-follower", "pause-leader", "kill-follower"];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const pad = (n: bigint) => n.toString().padStart(20, "0");

function clientFor(
  cluster: { endpoints: string[] },
  clients: Etcd[],
  endpoints = cluster.endpoints,
): Etcd {
  const etcd = new Etcd({
    ...testClientOptions(),
    endpoints,
    timeoutMs: CALL_TIMEOUT_MS,
    dialTimeoutMs: DIAL_TIMEOUT_MS,
    pingIntervalMs: KEEPALIVE_INTERVAL_MS,
    pingTimeoutMs: KEEPALIVE_TIMEOUT_MS,
  });
  clients.push(etcd);
  return etcd;
}

interface Hold {
  locker: number;
  start: number;
  end: number;
  token: bigint;
}

interface Section {
  id: string;
  value: bigint;
  token: bigint;
}

test(`mutual exclusion through ${FAULTS} faults; keep-alive through a leader kill`, {
  timeout: 30 * 60_000,
}, async (t) => {
  const { cluster, partitionsOff } = await startFaultCluster();
  const nemesis = await Nemesis.start(cluster);
  if (partitionsOff) t.diagnostic(`partitions left out: ${partitionsOff}`);
  const clients: Etcd[] = [];
  try {
    const root = uniquePrefix("lockfault");
    const lockName = `${root}lock`;
    const counterKey = `${root}counter`;
    const fenceKey = `${root}fence`;
    const admin = clientFor(cluster, clients);
    await admin.put(counterKey, "0");
    await admin.put(fenceKey, pad(0n));

    let stop = false;
    const holds: Hold[] = [];
    const completed: Section[] = [];
    const unknown: Array<Section & { locker: number; stall: boolean }> = [];
    const stats = {
      lockFailures: 0,
      lostLocks: 0,
      sessionsLost: 0,
      violations: 0,
      stalls: 0,
      stallsFenced: 0,
    };

    const runLocker = async (locker: number) => {
      // Lockers go through the relays: slow links reach them.
      const etcd = clientFor(cluster, clients, nemesis.endpoints);
      let session: Session | undefined;
      let lostAt = Number.POSITIVE_INFINITY;
      let seq = 0;
      while (!stop) {
        if (!session || session.done) {
          try {
            session = await etcd.session({ ttl: SESSION_TTL, attemptTimeoutMs: CALL_TIMEOUT_MS });
          } catch {
            await sleep(200);
            continue;
          }
          lostAt = Number.POSITIVE_INFINITY;
          const current = session;
          current.signal.addEventListener("abort", () => {
            lostAt = now();
            if (!stop) stats.sessionsLost++;
          });
        }
        let mutex: Mutex;
        try {
          mutex = await session.mutex(lockName).lock({ timeoutMs: 20_000 });
        } catch {
          stats.lockFailures++;
          continue;
        }
        const start = now();
        const token = mutex.fencingToken;
        try {
          // Locker 0 now and then stalls past its lease inside the lock: its write must be refused.
          const stall = locker === 0 && seq % STALL_EVERY === STALL_EVERY - 1;
          await criticalSection(etcd, session, mutex, token, `${locker}.${++seq}`, locker, stall);
        } finally {
          holds.push({ locker, start, end: Math.min(now(), lostAt), token });
          await mutex.unlock({ timeoutMs: 10_000 }).catch(() => {});
        }
      }
      await session?.close().catch(() => {});
    };

    const criticalSection = async (
      etcd: Etcd,
      session: Session,
      mutex: Mutex,
      token: bigint,
      id: string,
      locker: number,
      stall: boolean,
    ) => {
      let read: RangeResult;
      try {
        read = await etcd.range(counterKey);
      } catch {
        return;
      }
      const counter = read.kvs[0];
      if (!counter) throw new Error("counter missing");
      const next = BigInt(counter.text) + 1n;
      const section = { id, value: next, token };
      await sleep(HOLD_MS);
      if (stall) {
        // Stop renewing and stay in the section until etcd has expired the lease (a leader
        // election in between extends leases, so wait for the fact rather than a fixed time).
        session.orphan();
        await sleep(SESSION_TTL * 1000);
        let expired = false;
        for (let i = 0; i < 300 && !expired; i++) {
          const ttl = await etcd.lease.timeToLive(session.id).then(
            (r) => r.ttl,
            () => 0n,
          );
          expired = ttl === -1n;
          if (!expired) await sleep(100);
        }
        if (!expired) stall = false;
        else stats.stalls++;
      }
      try {
        const result = await etcd.txn({
          compare: [
            mutex.isOwner(),
            compare.value(fenceKey, "<", pad(token + 1n)),
            compare.modRevision(counterKey, "=", counter.modRevision),
          ],
          success: [
            op.put(counterKey, String(next)),
            op.put(fenceKey, pad(token)),
            op.put(`${root}log/${pad(next)}`, id),
          ],
          failure: [op.get(mutex.keyText)],
        });
        if (result.succeeded) {
          if (stall) stats.violations++;
          completed.push(section);
          return;
        }
        if (stall) stats.stallsFenced++;
        const owner = (result.results[0] as RangeResult).kvs[0];
        if (owner && owner.createRevision === token) stats.violations++;
        else stats.lostLocks++;
      } catch {
        unknown.push({ ...section, locker, stall });
      }
    };

    const lockers = Array.from({ length: LOCKERS }, (_, i) => runLocker(i));

    const faults: string[] = [];
    const members = cluster.members;
    const leaderOrAny = async () => (await cluster.leader()) ?? (members[0] as Member);
    const follower = async () => {
      const leader = await cluster.leader();
      return members.find((m) => m !== leader && m.running && !m.paused) as Member;
    };
    await sleep(SETTLE_MS);
    for (let f = 0; f < FAULTS; f++) {
      const kind = Nemesis.interleave(rotation, f);
      if (kind === "partition" || kind === "slow-link") {
        const before = completed.length;
        faults.push(await nemesis.inject(kind));
        await sleep(SETTLE_MS);
        t.diagnostic(
          `fault ${f + 1}/${FAULTS}: ${faults.at(-1)}; sections completed meanwhile: ${completed.length - before}`,
        );
        continue;
      }
      const startedAt = now();
      const victim = kind.endsWith("leader") ? await leaderOrAny() : await follower();
      const before = completed.length;
      if (kind.startsWith("kill")) {
        await victim.kill();
        await sleep(DOWN_MS);
        victim.start();
      } else {
        victim.pause();
        await sleep(PAUSE_MS);
        victim.resume();
      }
      await cluster.waitHealthy(60_000);
      nemesis.record(kind.startsWith("kill") ? "kill" : "pause", kind, startedAt);
      await sleep(SETTLE_MS);
      faults.push(`${kind} ${victim.name}`);
      t.diagnostic(
        `fault ${f + 1}/${FAULTS}: ${kind} ${victim.name}; sections completed meanwhile: ${completed.length - before}`,
      );
    }
    stop = true;
    await Promise.all(lockers);

    // Settle the sections whose transaction outcome the client could not know.
    let settledApplied = 0;
    for (const section of unknown) {
      const logged = await admin.get(`${root}log/${pad(section.value)}`);
      if (logged?.text === section.id) {
        completed.push(section);
        settledApplied++;
        if (section.stall) stats.violations++;
      } else if (section.stall) stats.stallsFenced++;
    }

    const counter = BigInt((await admin.get(counterKey))?.text ?? "-1");
    const logged = await admin.range(prefix(`${root}log/`), { countOnly: true });

    // Hold intervals, per the clients' own clock, never overlap.
    const sorted = [...holds].sort((a, b) => a.start - b.start);
    let overlaps = 0;
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1] as Hold;
      const current = sorted[i] as Hold;
      if (current.start < previous.end) overlaps++;
    }
    const inOrder = [...completed].sort((a, b) => (a.value < b.value ? -1 : 1));
    const tokensIncrease = inOrder.every(
      (s, i) => i === 0 || s.token >= (inOrder[i - 1] as Section).token,
    );

    const report = [
      `faults: ${faults.join(", ")}`,
      `faults by kind: ${nemesis.summary()}${partitionsOff ? ` (partitions left out: ${partitionsOff})` : ""}`,
      `longest stall per fault kind (no lock taken): ${nemesis.describeStalls(holds.map((h) => h.start))}`,
      `critical sections completed: ${completed.length} (${settledApplied} of ${unknown.length} unknown outcomes applied); holds: ${holds.length}`,
      `final counter: ${counter}`,
      `lock waits given up: ${stats.lockFailures}; fenced txns refused (lock lost): ${stats.lostLocks}; sessions ended: ${stats.sessionsLost}`,
      `holders stalled past their lease: ${stats.stalls}, their writes refused by the fence: ${stats.stallsFenced}`,
      `overlapping holds: ${overlaps}; counter changed under a held lock: ${stats.violations}`,
    ];
    for (const line of report) t.diagnostic(line);

    assert.equal(faults.length, FAULTS);
    assert.ok(completed.length > 0, "critical sections completed");
    assert.equal(counter, BigInt(completed.length), "final counter == completed critical sections");
    assert.equal(logged.count, counter, "one log entry per increment");
    assert.deepEqual(
      inOrder.map((s) => s.value),
      inOrder.map((_, i) => BigInt(i + 1)),
      "each completed section wrote the next value",
    );
    assert.ok(tokensIncrease, "fencing tokens never go backwards");
    assert.equal(stats.violations, 0, "no one changed the counter under a held lock");
    assert.ok(stats.stalls > 0, "a holder stalled past its lease");
    assert.equal(stats.stallsFenced, stats.stalls, "every stalled holder's write was refused");
    assert.equal(overlaps, 0, "hold intervals never overlap");

    // Keep-alive through a leader kill: put the stream on the leader, kill the leader.
    const keeper = clientFor(cluster, clients);
    const lease = await keeper.lease.grant(SESSION_TTL, { keepAlive: true });
    await keeper.put(`${root}leased`, "alive", { lease: lease.id });
    for (let i = 0; !keeper.lease.keepAliveStats().endpoint && i < 50; i++) await sleep(100);
    const streamUrl = keeper.lease.keepAliveStats().endpoint;
    const host = members.find((m) => m.clientUrl === streamUrl) as Member;
    assert.ok(host, `keep-alive stream on ${streamUrl}`);
    const hostStatus = await keeper.maintenance.status({ endpoint: host.clientUrl });
    if (!hostStatus.isLeader) {
      await keeper.maintenance.moveLeader(hostStatus.memberId);
      for (let i = 0; (await cluster.leader()) !== host && i < 100; i++) await sleep(100);
    }
    assert.equal(await cluster.leader(), host, "the keep-alive stream's member leads");
    const renewalsBefore = keeper.lease.keepAliveStats().renewals;
    await host.kill();
    await sleep(3 * SESSION_TTL * 1000);
    const after = keeper.lease.keepAliveStats();
    t.diagnostic(
      `keep-alive after killing leader ${host.name}: stream on ${after.endpoint}, ${after.renewals - renewalsBefore} renewals in ${3 * SESSION_TTL} s, streams opened ${after.streamsOpened}`,
    );
    assert.equal(lease.state, "alive", "the lease was never reported lost");
    assert.ok(after.renewals - renewalsBefore >= 6, "renewals went on after the leader died");
    assert.notEqual(after.endpoint, host.clientUrl, "the stream moved to a live member");
    assert.equal((await keeper.get(`${root}leased`))?.text, "alive");
    assert.ok((await lease.timeToLive()).ttl > 0n);
    host.start();
    await cluster.waitHealthy(60_000);

    // And through a hang of the member it moved to: only unanswered renewals reveal it (no
    // error, no closed connection), and the stream must move again before the lease's deadline.
    const hungUrl = keeper.lease.keepAliveStats().endpoint;
    const hung = members.find((m) => m.clientUrl === hungUrl) as Member;
    assert.ok(hung);
    const renewalsBeforeHang = keeper.lease.keepAliveStats().renewals;
    hung.pause();
    await sleep(3 * SESSION_TTL * 1000);
    const afterHang = keeper.lease.keepAliveStats();
    hung.resume();
    t.diagnostic(
      `keep-alive after hanging ${hung.name}: stream on ${afterHang.endpoint}, ${afterHang.renewals - renewalsBeforeHang} renewals in ${3 * SESSION_TTL} s`,
    );
    assert.equal(lease.state, "alive", "the lease was never reported lost");
    assert.ok(afterHang.renewals - renewalsBeforeHang >= 6, "renewals went on during the hang");
    assert.notEqual(afterHang.endpoint, hung.clientUrl, "the stream left the hung member");
    await cluster.waitHealthy(60_000);
    await lease.revoke();
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await nemesis.close();
    await cluster.stop();
  }
});
