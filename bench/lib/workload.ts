/**
 * What a benchmark workload is: how to prepare the data once, how to run it on one client, and
 * which number heads its row.
 */
import type { Etcd } from "../../src/index.ts";
import type { BenchClient, ClientName } from "./bench-client.ts";
import type { Sample } from "./measure.ts";

/** Shared by every workload of one benchmark run. */
export interface BenchContext {
  /** Smoke mode: tiny counts, no conclusions. */
  quick: boolean;
  endpoints: string[];
  /** The etcd version under test, such as "3.7.1". */
  serverVersion: string;
  /** A client for preparing data, never measured. */
  admin: Etcd;
  /** A key prefix unique to this run. */
  prefix: string;
  /** `full` normally, `quick` in smoke mode. */
  scale(full: number, quick: number): number;
}

/** The number that heads a row, and how to read it. */
export interface Headline {
  /** Label of the number, such as "ops/s". */
  unit: string;
  higherIsBetter: boolean;
  value(sample: Sample): number;
}

/** One benchmark row. */
export interface Workload {
  id: string;
  title: string;
  headline: Headline;
  /** The clients that take part, in the order of the first round. */
  clients: ClientName[];
  /** Left out of the summary table and the chart (a measurement of one client alone). */
  detailOnly?: boolean;
  /**
   * Runs on an etcd of its own, started before `prepare` and stopped after the last round, so
   * that no other row's writes land in its store (a watch replaying history reads every later
   * revision too).
   */
  ownServer?: boolean;
  /** Runs once before the rounds. */
  prepare?(ctx: BenchContext): Promise<void>;
  /** Runs before each measured run (for example etcd 3.4's read warm-up). */
  beforeEach?(ctx: BenchContext): Promise<void>;
  /** One measured run; undefined when the client cannot do this workload. */
  run?(client: BenchClient, ctx: BenchContext): Promise<Sample | undefined>;
  /**
   * In place of `run`: one measured run of all the clients at once (in the round's order),
   * each measured in the same stretches of time as the others; a sample per client.
   */
  runTogether?(
    clients: BenchClient[],
    ctx: BenchContext,
  ): Promise<Partial<Record<ClientName, Sample>>>;
}

/** Throughput rows: operations per second. */
export const opsPerSecond: Headline = {
  unit: "ops/s",
  higherIsBetter: true,
  value: (s) => s.opsPerSec,
};

/**
 * etcd 3.4 keeps a buffer inflated after a burst of writes that slows the reads that follow;
 * granting and revoking a lease resets it. Harmless on 3.5.
 */
export async function settleReads(ctx: BenchContext): Promise<void> {
  const lease = await ctx.admin.lease.grant(60);
  await lease.revoke();
}
