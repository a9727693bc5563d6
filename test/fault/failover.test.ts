/**
 * Failover under faults, on a 3-member cluster, checked for linearizability.
 *
 * Several clients (each its own `Etcd` with all three endpoints, pings on) run a mixed workload
 * on a few keys: linearizable get, put of a value unique to the run, compare-and-set (a txn
 * comparing the value, then putting a unique value) and delete, recording every operation with
 * invocation and response times and its result. Beside them a watcher follows the key prefix
 * and a lease is kept alive with a key attached. Meanwhile faults are injected one after another,
 * in rotation: kill and restart a follower; kill the leader (restart it later); hang a member
 * (SIGSTOP) longer than the clients' ping interval plus ping timeout; lose quorum (kill or hang
 * two members) and regain it.
 *
 * Afterwards, from etcd's own history (a watch from the first revision, once the cluster is
 * healthy): every put value was applied at most once; a write the client reported as never sent
 * was never applied; the history settles writes whose outcome the client could not know (applied
 * or not). The linearizability checker then validates every key's history: 0 violations. The
 * watcher saw exactly that history, in order, across every fault. The lease is never lost
 * silently: while the client holds it alive, etcd has it and its key (etcd itself can end a
 * lease around a hung leader, etcd#15247: then the client must say so). And with
 * one of three members down or hung, reads and writes kept succeeding: the test prints the
 * success rate and the longest stall per fault phase. The process itself surviving members
 * killed and hung with pings on is the check for connect-es #1795.
 *
 * Every other fault is a network partition (isolate the leader or a follower, a member cut from
 * everyone, its answers to the client lost, the client cut from two members) or a slow link
 * (latency, a bandwidth limit, a stall, resets mid-stream) through the relays the clients use;
 * partitions need the network lab (root), else slow links take their turn. The run prints the
 * count per fault kind and the longest stall per kind.
 *
 * FAULTS (default 16, `long`: 48) sets the number of faults; CLIENTS (default 8) and KEYS (default 8) the
 * workload; OP_GAP_MS (default 0) each client's pause between operations. The load matters: with
 * writes wrongly retried after Unavailable, 8 clients without pauses saw values applied twice
 * within 8 faults; 4 clients pausing 4 ms did not.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { neverLeft } from "../../src/connection/retry-policy.ts";
import { compare, Etcd, type Lease, op, prefix, type WatchEvent } from "../../src/index.ts";
import { type Member, testClientOptions, uniquePrefix } from "../support/index.ts";
import {
  checkHistory,
  describeViolation,
  type Operation,
  type RegisterValue,
} from "../support/linearizability.ts";
import { faultCount, Nemesis, startFaultCluster } from "../support/nemesis.ts";

const FAULTS = faultCount(16, 48);
const CLIENTS = Number(process.env.CLIENTS ?? 8);
const KEYS = Number(process.env.KEYS ?? 8);
const OP_GAP_MS = Number(process.env.OP_GAP_MS ?? 0);
const CALL_TIMEOUT_MS = 2_000;
const DIAL_TIMEOUT_MS = 1_000;
const KEEPALIVE_INTERVAL_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 3_000;
/** A hang outlasts a ping interval plus its timeout: pings, not only deadlines, must find it. */
const HANG_MS = KEEPALIVE_INTERVAL_MS + KEEPALIVE_TIMEOUT_MS + 2_000;
const DOWN_MS = 3_000;
const NO_QUORUM_MS = 3_000;
const SETTLE_MS = 1_000;
/**
 * Long enough that renewals can wait out a hung leader's replacement (election, then the stream
 * moved off the hung member) on a loaded machine: with 10 s, one run of 40 faults (load average
 * near 10) saw the lease's client-side deadline pass during a hang.
 */
const LEASE_TTL = 30;

type FaultKind = "kill-follower" | "kill-leader" | "hang-member" | "lose-quorum";
const rotation: FaultKind[] = ["kill-follower", "kill-leader", "hang-member", "lose-quorum"];

/** What the cluster looks like while an operation runs: one member out, or quorum lost. */
type Phase =
  | "healthy"
  | "one-down"
  | "one-hung"
  | "no-quorum"
  | "partitioned"
  | "slow-link"
  | "recovering";

interface Recorded {
  op: Operation;
  phase: Phase;
  /** Which stretch of that phase (one per fault), for stalls. Both when the result came. */
  stretch: number;
  /** For a success: the revision in etcd's response header. */
  revision?: bigint;
  error?: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

test(`linearizable, at-most-once KV through ${FAULTS} faults`, {
  timeout: 60 * 60_000,
}, async (t) => {
  const { cluster, partitionsOff } = await startFaultCluster();
  const nemesis = await Nemesis.start(cluster);
  if (partitionsOff) t.diagnostic(`partitions left out: ${partitionsOff}`);
  const clients: Etcd[] = [];
  // The workload, the watcher and the lease go through the relays (slow links); the admin that
  // reads etcd's history afterwards goes straight to the members.
  const newClient = (endpoints = nemesis.endpoints) => {
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
  };
  try {
    const root = uniquePrefix("fault");
    const keys = Array.from({ length: KEYS }, (_, i) => `${root}k${i}`);
    const admin = newClient(cluster.endpoints);
    const startRevision = (await admin.put(`${root}start`, "")).revision + 1n;

    // The watcher and the lease, on a client of their own.
    const observer = newClient();
    const watched: WatchEvent[] = [];
    const watcher = observer.watch(prefix(root), { startRevision });
    // When each fault ran, to tell in which one the leased key went away, if it does.
    const faultTimes: Array<{ name: string; start: number; end: number }> = [];
    const during = (time: number) =>
      faultTimes.find((f) => f.start <= time && time <= f.end + SETTLE_MS)?.name ?? "no fault";
    let leasedKeyDeleted: { at: number; revision: bigint } | undefined;
    const watching = (async () => {
      for await (const batch of watcher) {
        watched.push(...batch.events);
        for (const e of batch.events) {
          if (e.type === "delete" && e.kv.keyText === `${root}leased`) {
            leasedKeyDeleted ??= { at: now(), revision: e.kv.modRevision };
          }
        }
      }
    })();
    const lease: Lease = await observer.lease.grant(LEASE_TTL, { keepAlive: true });
    let leaseLost: { at: number; error: unknown } | undefined;
    lease.lost.then((error) => {
      leaseLost = { at: now(), error };
    });
    await observer.put(`${root}leased`, "alive", { lease: lease.id });

    // The workload.
    let current = { phase: "healthy" as Phase, stretch: 0 };
    const enter = (phase: Phase) => {
      current = { phase, stretch: current.stretch + 1 };
    };
    let stop = false;
    const history: Recorded[] = [];
    const workers = Array.from({ length: CLIENTS }, (_, c) =>
      runWorker(
        c,
        newClient(),
        keys,
        () => current,
        () => stop,
        history,
      ),
    );

    // The faults.
    const faults: string[] = [];
    const members = cluster.members;
    const pick = (list: Member[]) => list[Math.floor(Math.random() * list.length)] as Member;
    const leaderOrAny = async () => (await cluster.leader()) ?? pick(members);
    const followers = async () => {
      const leader = await cluster.leader();
      const list = members.filter((m) => m !== leader && m.running && !m.paused);
      return list.length > 0 ? list : members.filter((m) => m !== leader);
    };
    await sleep(SETTLE_MS);
    for (let f = 0; f < FAULTS; f++) {
      const kind = Nemesis.interleave(rotation, f);
      const started = Date.now();
      const startedAt = now();
      switch (kind) {
        case "kill-follower": {
          const victim = pick(await followers());
          enter("one-down");
          await victim.kill();
          await sleep(DOWN_MS);
          enter("recovering");
          victim.start();
          faults.push(`kill+restart follower ${victim.name}`);
          nemesis.record("kill", "follower", startedAt);
          break;
        }
        case "kill-leader": {
          const victim = await leaderOrAny();
          enter("one-down");
          await victim.kill();
          await sleep(DOWN_MS);
          enter("recovering");
          victim.start();
          faults.push(`kill leader ${victim.name}`);
          nemesis.record("kill", "leader", startedAt);
          break;
        }
        case "hang-member": {
          // Alternate between hanging the leader and a follower.
          const victim = Math.floor(f / 2) % 8 < 4 ? await leaderOrAny() : pick(await followers());
          enter("one-hung");
          victim.pause();
          await sleep(HANG_MS);
          enter("recovering");
          victim.resume();
          faults.push(`hang ${victim.name} for ${HANG_MS} ms`);
          nemesis.record("pause", "member", startedAt);
          break;
        }
        case "lose-quorum": {
          const [a, b] = (await followers()).concat(members).filter(unique);
          const hang = Math.floor(f / 2) % 8 >= 4;
          enter("no-quorum");
          if (hang) {
            a?.pause();
            b?.pause();
          } else {
            await a?.kill();
            await b?.kill();
          }
          await sleep(NO_QUORUM_MS);
          enter("recovering");
          for (const m of [a, b]) {
            if (!m) continue;
            if (hang) m.resume();
            else m.start();
          }
          faults.push(
            `lose quorum (${hang ? "hang" : "kill"} ${a?.name}, ${b?.name}) and regain it`,
          );
          nemesis.record(hang ? "pause" : "kill", "two members", startedAt);
          break;
        }
        case "partition":
        case "slow-link": {
          enter(kind === "partition" ? "partitioned" : "slow-link");
          faults.push(await nemesis.inject(kind, () => enter("recovering")));
          break;
        }
      }
      await cluster.waitHealthy(60_000);
      enter("healthy");
      faultTimes.push({ name: `fault ${f + 1} (${faults.at(-1)})`, start: startedAt, end: now() });
      t.diagnostic(`fault ${f + 1}/${FAULTS}: ${faults.at(-1)} (${Date.now() - started} ms)`);
      await sleep(SETTLE_MS);
    }
    stop = true;
    await Promise.all(workers);

    // etcd's own history of the keys, from a client that saw no fault.
    const endRevision = (await admin.put(`${root}end`, "")).revision;
    const replay = await readHistory(admin, root, startRevision, endRevision);

    // The watcher, across every fault, saw exactly that history.
    await waitFor("the watcher to catch up", () => watcher.nextRevision > endRevision, 30_000);
    await watcher.close();
    await watching;
    assert.deepEqual(
      watched.map(describeEvent),
      replay.map(describeEvent),
      "the watcher saw every event once, in order",
    );

    // Writes at most once, and never-sent writes never applied.
    const applied = new Map<string, number>();
    const appliedAt = new Map<string, bigint>();
    const deletesOf = new Map<string, bigint[]>();
    for (const event of replay) {
      if (event.type === "put" && event.kv.keyText !== `${root}end`) {
        applied.set(event.kv.text, (applied.get(event.kv.text) ?? 0) + 1);
        appliedAt.set(event.kv.text, event.kv.modRevision);
      } else if (event.type === "delete") {
        const list = deletesOf.get(event.kv.keyText) ?? [];
        list.push(event.kv.modRevision);
        deletesOf.set(event.kv.keyText, list);
      }
    }
    const twice = [...applied].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], "no value was applied twice");

    // Settling what the client could not know, from etcd's history. A write applied at revision
    // R took effect before any operation whose response carried a revision >= R completed.
    const byRevision = history
      .filter((r) => r.revision !== undefined)
      .map((r) => ({ revision: r.revision as bigint, complete: r.op.complete }))
      .sort((a, b) => (a.revision < b.revision ? -1 : a.revision > b.revision ? 1 : 0));
    const earliestFrom = new Float64Array(byRevision.length + 1).fill(Number.POSITIVE_INFINITY);
    for (let i = byRevision.length - 1; i >= 0; i--) {
      earliestFrom[i] = Math.min(earliestFrom[i + 1] as number, byRevision[i]?.complete as number);
    }
    const end = now();
    const appliedBefore = (revision: bigint): number => {
      let lo = 0;
      let hi = byRevision.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((byRevision[mid]?.revision as bigint) < revision) lo = mid + 1;
        else hi = mid;
      }
      return Math.min(earliestFrom[lo] as number, end);
    };
    let resolvedUnknown = 0;
    const acknowledgedDeletes = new Map<string, Set<bigint>>();
    for (const record of history) {
      const op = record.op;
      if (op.kind === "delete") {
        if (op.outcome === "ok" && op.result?.deleted) {
          const set = acknowledgedDeletes.get(op.key) ?? new Set();
          set.add(record.revision as bigint);
          acknowledgedDeletes.set(op.key, set);
        }
        continue;
      }
      if (op.kind === "get") continue;
      const times = applied.get(op.value) ?? 0;
      if (op.outcome === "fail") {
        assert.equal(
          times,
          0,
          `write reported never sent was applied: ${op.value} (${record.error})`,
        );
      } else if (op.outcome === "ok") {
        const expected = op.kind === "put" || op.result?.succeeded ? 1 : 0;
        assert.equal(times, expected, `acknowledged write ${op.value} applied ${times} times`);
        if (expected) assert.equal(appliedAt.get(op.value), record.revision, op.value);
      } else {
        resolvedUnknown++;
        const revision = appliedAt.get(op.value);
        record.op =
          revision === undefined
            ? { ...op, outcome: "fail" }
            : op.kind === "cas"
              ? {
                  ...op,
                  outcome: "ok",
                  complete: appliedBefore(revision),
                  result: { succeeded: true },
                }
              : { ...op, outcome: "ok", complete: appliedBefore(revision) };
      }
    }
    // Deletes carry no value: the deletions etcd applied that no acknowledged delete explains
    // came from deletes whose outcome the client did not learn. Each becomes a delete known to
    // have happened, between the earliest such call and the first response that saw it.
    const settledDeletes: Recorded[] = [];
    for (const key of keys) {
      const unknown = history.filter(
        (r) => r.op.key === key && r.op.kind === "delete" && r.op.outcome === "unknown",
      );
      const acknowledged = acknowledgedDeletes.get(key) ?? new Set();
      for (const revision of acknowledged) {
        assert.ok(
          deletesOf.get(key)?.includes(revision),
          `acknowledged delete @${revision} applied`,
        );
      }
      const unexplained = (deletesOf.get(key) ?? []).filter((r) => !acknowledged.has(r));
      assert.ok(
        unexplained.length <= unknown.length,
        `${key}: ${unexplained.length} deletions in etcd's history, ${unknown.length} deletes of unknown outcome`,
      );
      for (const revision of unexplained) {
        const complete = appliedBefore(revision);
        const invoke = Math.min(
          ...unknown.filter((r) => r.op.invoke < complete).map((r) => r.op.invoke),
        );
        assert.ok(Number.isFinite(invoke), `${key}: deletion @${revision} that no call explains`);
        settledDeletes.push({
          phase: "recovering",
          stretch: -1,
          op: { kind: "delete", key, invoke, complete, outcome: "ok", result: { deleted: true } },
        });
      }
      // Deletes that left no trace changed nothing (not applied, or the key was absent).
      for (const r of unknown) r.op = { ...r.op, outcome: "fail" };
      resolvedUnknown += unknown.length;
    }

    // The lease: kept alive through the faults, or, if etcd ended it, never lost silently.
    const leaseInEtcd = (await admin.lease.timeToLive(lease.id)).ttl;
    if (leaseInEtcd < 0n && !leaseLost) {
      // etcd ended it: the client must tell the owner, at the latest when its deadline passes.
      await waitFor(
        "the client to report the lease lost",
        () => leaseLost !== undefined,
        (LEASE_TTL + 10) * 1000,
      );
    }
    const keyGone = leasedKeyDeleted
      ? ` (its key deleted at revision ${leasedKeyDeleted.revision}, ${during(leasedKeyDeleted.at)})`
      : "";
    const leaseReport =
      leaseInEtcd >= 0n && !leaseLost
        ? `kept alive (${leaseInEtcd} s left in etcd)${keyGone}`
        : `${leaseInEtcd >= 0n ? "still in etcd" : "ended in etcd"}${keyGone}; client reported it lost${
            leaseLost ? ` ${during(leaseLost.at)}: ${leaseLost.error}` : " (no)"
          }`;

    // Linearizability of every key's history.
    const verdict = checkHistory([...history, ...settledDeletes].map((r) => r.op));
    const stats = summarize(history);
    const report = [
      `faults: ${faults.length} (${faults.map((f) => f.split(" ").slice(0, 2).join(" ")).join(", ")})`,
      `faults by kind: ${nemesis.summary()}${partitionsOff ? ` (partitions left out: ${partitionsOff})` : ""}`,
      `longest stall per fault kind: ${nemesis.describeStalls(history.filter((r) => r.error === undefined).map((r) => r.op.complete))}`,
      `operations: ${history.length} on ${KEYS} keys from ${CLIENTS} clients; checked ${verdict.operations}, ${resolvedUnknown} unknown outcomes settled from etcd's history`,
      `linearizability: ${verdict.violations.length} violations, ${verdict.inconclusive.length} inconclusive keys`,
      `writes applied: ${applied.size}, applied twice: ${twice.length}`,
      `watcher: ${watched.length} events, identical to etcd's history`,
      `lease: ${leaseReport}`,
      ...stats.lines,
    ];
    for (const line of report) t.diagnostic(line);
    console.log(`\n${report.join("\n")}\n`);

    assert.equal(faults.length, FAULTS);
    assert.deepEqual(verdict.inconclusive, [], "the checker decided every key");
    assert.equal(verdict.violations.length, 0, describeViolation(verdict.violations[0]));
    // Never silently: while the client holds the lease as alive, etcd has it and its key.
    if (!leaseLost) {
      assert.ok(leaseInEtcd >= 0n, `lease ended in etcd, not reported: ${leaseReport}`);
      const leasedEvents = replay
        .filter((e) => e.kv.keyText === `${root}leased`)
        .map((e) => `${e.type}@${e.kv.modRevision} lease=${e.kv.lease.toString(16)}`);
      const attached = await admin.lease.timeToLive(lease.id, { keys: true });
      assert.equal(
        (await admin.get(`${root}leased`))?.text,
        "alive",
        `the leased key is gone while the lease lives: events ${leasedEvents.join(", ")}; lease ${lease.id.toString(16)} has ${attached.keys.length} keys, ttl ${attached.ttl}; ${leaseReport}`,
      );
    }
    // With one member of three down or hung, reads and writes keep succeeding.
    for (const phaseName of ["one-down", "one-hung"] as const) {
      const s = stats.byPhase.get(phaseName);
      if (!s) continue;
      assert.ok(s.readsOk > 0, `reads succeed while ${phaseName}`);
      assert.ok(s.writesOk > 0, `writes succeed while ${phaseName}`);
    }
    await lease.revoke().catch(() => {});
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await nemesis.close();
    await cluster.stop();
  }
});

function unique<T>(value: T, index: number, list: T[]): boolean {
  return list.indexOf(value) === index;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One client's operations, one at a time, until `stopped()`. */
async function runWorker(
  client: number,
  etcd: Etcd,
  keys: string[],
  phase: () => { phase: Phase; stretch: number },
  stopped: () => boolean,
  history: Recorded[],
): Promise<void> {
  let seq = 0;
  const lastSeen = new Map<string, RegisterValue>();
  while (!stopped()) {
    const key = keys[Math.floor(Math.random() * keys.length)] as string;
    const roll = Math.random();
    const record = { op: undefined as unknown as Operation } as Recorded;
    const invoke = now();
    try {
      if (roll < 0.35) {
        const { kvs, revision } = await etcd.range(key);
        const value = kvs[0] ? kvs[0].text : null;
        lastSeen.set(key, value);
        record.revision = revision;
        record.op = {
          client,
          kind: "get",
          key,
          invoke,
          complete: now(),
          outcome: "ok",
          result: { value },
        };
      } else if (roll < 0.65) {
        const value = `c${client}-${++seq}`;
        record.op = { client, kind: "put", key, value, invoke, complete: 0, outcome: "unknown" };
        record.revision = (await etcd.put(key, value)).revision;
        lastSeen.set(key, value);
        record.op = { ...record.op, complete: now(), outcome: "ok" };
      } else if (roll < 0.85) {
        const expect = lastSeen.get(key) ?? null;
        const value = `c${client}-${++seq}`;
        record.op = {
          client,
          kind: "cas",
          key,
          expect,
          value,
          invoke,
          complete: 0,
          outcome: "unknown",
        };
        const { succeeded, revision } = await etcd.txn({
          compare: [
            expect === null ? compare.version(key, "=", 0) : compare.value(key, "=", expect),
          ],
          success: [op.put(key, value)],
          failure: [op.get(key)],
        });
        if (succeeded) lastSeen.set(key, value);
        record.revision = revision;
        record.op = { ...record.op, complete: now(), outcome: "ok", result: { succeeded } };
      } else {
        record.op = { client, kind: "delete", key, invoke, complete: 0, outcome: "unknown" };
        const { deleted, revision } = await etcd.delete(key);
        lastSeen.set(key, null);
        record.revision = revision;
        record.op = {
          ...record.op,
          complete: now(),
          outcome: "ok",
          result: { deleted: deleted > 0n },
        };
      }
    } catch (error) {
      record.error = error;
      if (record.op === undefined) {
        // A failed get constrains nothing.
        record.op = { client, kind: "get", key, invoke, complete: now(), outcome: "unknown" };
      } else {
        record.op = {
          ...record.op,
          complete: now(),
          outcome: neverLeft(error) ? "fail" : "unknown",
        };
      }
    }
    // The cluster's state when the result came: a call hanging on a fault counts in its phase.
    Object.assign(record, phase());
    history.push(record);
    if (OP_GAP_MS > 0) await sleep(OP_GAP_MS);
  }
}

/** Every event under `root` from `from` to `to`, through a watch on a healthy cluster. */
async function readHistory(
  etcd: Etcd,
  root: string,
  from: bigint,
  to: bigint,
): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  // A broken watch must fail the test, not hang it.
  const signal = AbortSignal.timeout(120_000);
  const watcher = etcd.watch(prefix(root), { startRevision: from, signal });
  try {
    for await (const batch of watcher) {
      events.push(...batch.events);
      if (batch.revision >= to) return events;
    }
  } finally {
    await watcher.close();
  }
  throw new Error(`the history watch ended at ${events.at(-1)?.kv.modRevision}, before ${to}`);
}

function describeEvent(event: WatchEvent): string {
  return `${event.kv.modRevision} ${event.type} ${event.kv.keyText} ${event.type === "put" ? event.kv.text : ""}`;
}

interface PhaseStats {
  ops: number;
  ok: number;
  readsOk: number;
  writesOk: number;
  /** The longest an operation took to succeed. */
  slowestOkMs: number;
  /** The longest time without any operation completing successfully. */
  longestGapMs: number;
}

function summarize(history: Recorded[]) {
  const byPhase = new Map<Phase, PhaseStats>();
  const lastOk = new Map<number, number>();
  const sorted = [...history].sort((a, b) => a.op.complete - b.op.complete);
  for (const r of sorted) {
    let s = byPhase.get(r.phase);
    if (!s) {
      s = { ops: 0, ok: 0, readsOk: 0, writesOk: 0, slowestOkMs: 0, longestGapMs: 0 };
      byPhase.set(r.phase, s);
    }
    s.ops++;
    const ok = r.error === undefined;
    if (!ok) continue;
    s.ok++;
    if (r.op.kind === "get") s.readsOk++;
    else s.writesOk++;
    s.slowestOkMs = Math.max(s.slowestOkMs, r.op.complete - r.op.invoke);
    const previous = lastOk.get(r.stretch);
    if (previous !== undefined) s.longestGapMs = Math.max(s.longestGapMs, r.op.complete - previous);
    lastOk.set(r.stretch, r.op.complete);
  }
  const lines: string[] = [];
  for (const [phase, s] of byPhase) {
    lines.push(
      `${phase}: ${s.ops} ops, success ${((100 * s.ok) / s.ops).toFixed(1)}% (reads ok ${s.readsOk}, writes ok ${s.writesOk}), slowest success ${s.slowestOkMs.toFixed(0)} ms, longest stall ${s.longestGapMs.toFixed(0)} ms`,
    );
  }
  return { byPhase, lines };
}
