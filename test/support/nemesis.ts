import { TestCluster } from "../../src/testing/cluster.ts";
import type { TestMember } from "../../src/testing/member.ts";
import { LabCluster } from "./network/lab-cluster.ts";
import { CLIENT, networkLabUnavailable } from "./network/network-lab.ts";
import { TcpRelay } from "./tcp-relay.ts";

/** The fault kinds the suites mix. Kills and pauses are the suites' own; the rest are here. */
export type FaultKind = "kill" | "pause" | "partition" | "slow-link";

/** A cluster the fault suites can run on: in a network lab when the machine allows, else on loopback. */
export type FaultCluster = LabCluster | TestCluster;

/** How long a partition or a slow link lasts before it is healed. */
const HOLD_MS = 3_000;

const PARTITIONS = [
  "isolate-leader",
  "isolate-follower",
  "split-minority",
  "one-way-answers-lost",
  "client-cut-from-two",
] as const;
const SLOW_LINKS = ["latency", "bandwidth", "stall", "reset"] as const;

interface Window {
  kind: FaultKind;
  variant: string;
  start: number;
  end: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `FAULTS=long` (or a number) for a suite whose default is `short` faults: long mode runs
 * `long` of them.
 *
 * @example
 * const FAULTS = faultCount(12, 40);
 */
export function faultCount(short: number, long: number): number {
  const value = process.env.FAULTS;
  if (value === undefined || value === "" || value === "short") return short;
  if (value === "long") return long;
  return Number(value);
}

/**
 * Starts the 3-member cluster a fault suite runs on: in a network lab (members in namespaces of
 * their own, so partitions can be made) where the machine allows it, else on loopback, where
 * partitions are left out of the mix with the reason returned.
 *
 * @example
 * const { cluster, partitionsOff } = await startFaultCluster({ args: ["--experimental-..."] });
 */
export async function startFaultCluster(
  options: { args?: string[] } = {},
): Promise<{ cluster: FaultCluster; partitionsOff: string | undefined }> {
  const reason =
    process.env.FAULT_PARTITIONS === "0" ? "FAULT_PARTITIONS=0" : networkLabUnavailable();
  if (reason)
    return { cluster: await TestCluster.start({ size: 3, ...options }), partitionsOff: reason };
  return { cluster: await LabCluster.start({ size: 3, ...options }), partitionsOff: undefined };
}

/**
 * The partitions and slow links of a fault suite, and the tally of every fault it ran (its own
 * kills and pauses included): how many of each kind and variant, and when each ran, so the suite
 * can print the longest stall per kind.
 *
 * Clients that should suffer slow links connect to `endpoints` (one relay per member); checkers
 * use the members directly.
 *
 * @example
 * const nemesis = await Nemesis.start(cluster);
 * const etcd = new Etcd({ endpoints: nemesis.endpoints });
 * await nemesis.inject("partition");
 * console.log(nemesis.summary());
 */
export class Nemesis {
  readonly cluster: FaultCluster;
  readonly relays: TcpRelay[];
  readonly windows: Window[] = [];

  private constructor(cluster: FaultCluster, relays: TcpRelay[]) {
    this.cluster = cluster;
    this.relays = relays;
  }

  static async start(cluster: FaultCluster): Promise<Nemesis> {
    const relays = await Promise.all(cluster.members.map((m) => TcpRelay.start(m.clientUrl)));
    return new Nemesis(cluster, relays);
  }

  /** The relays' URLs, member for member. */
  get endpoints(): string[] {
    return this.relays.map((r) => r.url);
  }

  /** True when partitions can be made (the cluster runs in a network lab). */
  get partitions(): boolean {
    return this.cluster instanceof LabCluster;
  }

  /** The kind of the `f`-th fault when a suite interleaves its own kinds with the new ones. */
  static interleave<T>(own: readonly T[], f: number): T | "partition" | "slow-link" {
    // own, partition, own, slow-link, ...
    if (f % 2 === 0) return own[(f / 2) % own.length] as T;
    return f % 4 === 1 ? "partition" : "slow-link";
  }

  /** Records a fault the suite ran itself (a kill, a pause). */
  record(kind: FaultKind, variant: string, start: number, end = performance.now()): void {
    this.windows.push({ kind, variant, start, end });
  }

  /**
   * Runs the next partition or slow link: makes it, holds it, heals it, waits until the
   * cluster is healthy. `onHeal` runs once the fault is lifted (for a suite's phase bookkeeping).
   * Returns what it did. Without a network lab, a partition becomes a slow link.
   */
  async inject(kind: "partition" | "slow-link", onHeal: () => void = () => {}): Promise<string> {
    const start = performance.now();
    let variant: string;
    let what: string;
    if (kind === "partition" && this.cluster instanceof LabCluster) {
      variant = PARTITIONS[this.#count("partition") % PARTITIONS.length] as string;
      what = await this.#partition(this.cluster, variant);
    } else {
      kind = "slow-link";
      variant = SLOW_LINKS[this.#count("slow-link") % SLOW_LINKS.length] as string;
      what = await this.#slowLink(variant);
    }
    onHeal();
    await this.cluster.waitHealthy(60_000);
    this.record(kind, variant, start);
    return what;
  }

  /** "kill 3, pause 3, partition 4 (isolate-leader 1, ...), slow-link 2 (...)". */
  summary(): string {
    const parts: string[] = [];
    for (const kind of ["kill", "pause", "partition", "slow-link"] as const) {
      const of = this.windows.filter((w) => w.kind === kind);
      const variants = new Map<string, number>();
      for (const w of of) variants.set(w.variant, (variants.get(w.variant) ?? 0) + 1);
      const detail = [...variants].map(([v, n]) => `${v} ${n}`).join(", ");
      parts.push(`${kind} ${of.length}${detail ? ` (${detail})` : ""}`);
    }
    return parts.join(", ");
  }

  /**
   * The longest time without a successful operation inside any fault of each kind, given when
   * each successful operation completed (performance.now()).
   */
  longestStalls(okTimes: number[]): Map<FaultKind, number> {
    const sorted = [...okTimes].sort((a, b) => a - b);
    const stalls = new Map<FaultKind, number>();
    for (const w of this.windows) {
      let last = w.start;
      let longest = 0;
      for (const t of sorted) {
        if (t < w.start) continue;
        if (t > w.end) break;
        longest = Math.max(longest, t - last);
        last = t;
      }
      longest = Math.max(longest, w.end - last);
      stalls.set(w.kind, Math.max(stalls.get(w.kind) ?? 0, longest));
    }
    return stalls;
  }

  /** "kill 2100 ms, pause 3050 ms, ...". */
  describeStalls(okTimes: number[]): string {
    return [...this.longestStalls(okTimes)]
      .map(([kind, ms]) => `${kind} ${ms.toFixed(0)} ms`)
      .join(", ");
  }

  async close(): Promise<void> {
    await Promise.all(this.relays.map((r) => r[Symbol.asyncDispose]()));
  }

  #count(kind: FaultKind): number {
    return this.windows.filter((w) => w.kind === kind).length;
  }

  async #partition(cluster: LabCluster, variant: string): Promise<string> {
    const lab = cluster.lab;
    const leader = await cluster.leader();
    const followers = cluster.members.filter((m) => m !== leader && m.running && !m.paused);
    const follower = followers[Math.floor(Math.random() * followers.length)] ?? cluster.members[0];
    const victim = (variant === "isolate-leader" ? leader : follower) ?? (follower as TestMember);
    switch (variant) {
      case "isolate-leader":
      case "isolate-follower":
        await lab.isolate(victim.name);
        break;
      case "split-minority":
        await lab.isolate(victim.name, { client: true });
        break;
      case "one-way-answers-lost":
        await lab.cut(victim.name, CLIENT, "one-way");
        break;
      case "client-cut-from-two": {
        const cut = cluster.members.filter((m) => m !== victim);
        for (const m of cut) await lab.cut(CLIENT, m.name);
        break;
      }
    }
    await sleep(HOLD_MS);
    await lab.heal();
    const on = variant === "client-cut-from-two" ? `all but ${victim.name}` : victim.name;
    return `partition ${variant} ${on} for ${HOLD_MS} ms`;
  }

  async #slowLink(variant: string): Promise<string> {
    const index = Math.floor(Math.random() * this.relays.length);
    const relay = this.relays[index] as TcpRelay;
    const name = this.cluster.members[index]?.name;
    switch (variant) {
      case "latency":
        for (const r of this.relays) r.shape({ latencyMs: 150 });
        await sleep(HOLD_MS);
        for (const r of this.relays) r.shape({});
        return `slow-link latency 150 ms on every member for ${HOLD_MS} ms`;
      case "bandwidth":
        relay.shape({ bytesPerSecond: 16 * 1024 });
        await sleep(HOLD_MS);
        relay.shape({});
        return `slow-link bandwidth 16 KiB/s to ${name} for ${HOLD_MS} ms`;
      case "stall":
        relay.stall();
        await sleep(HOLD_MS);
        relay.unstall();
        return `slow-link stall of ${name} for ${HOLD_MS} ms`;
      default:
        for (let i = 0; i < 4; i++) {
          for (const r of this.relays) r.reset();
          await sleep(HOLD_MS / 4);
        }
        return `slow-link 4 resets of every connection over ${HOLD_MS} ms`;
    }
  }
}
