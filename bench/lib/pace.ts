/**
 * The machine's own pace, read the same way before every round of every row, so that what a row's
 * numbers owe to the machine shows apart from what they owe to the clients. Two readings:
 *
 * - compute: how long a fixed piece of CPU and memory work takes this process;
 * - round trip: how long one byte takes to go to another process and back through pipes, which
 *   is two wakeups of sleeping processes, as every put-to-event hop is.
 *
 * On the shared 2-core machine of the README's table whole rows slowed by half within a run with
 * no steal time to show for it, both clients alike. The readings show whether the machine moved
 * with a row; often it did not (the 1-watcher latency row moved 17-50 % across rounds while the
 * compute reading stayed within 10 %), and pinning the benchmark and etcd to CPUs of their own
 * did not steady it either (README, the tenth and twelfth passes).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { median } from "./measure.ts";

/** 4 MiB: past a core's own caches, so the probe also waits on the shared cache and memory. */
const WORDS = 1 << 20;
const PASSES = 8;
const REPEATS = 5;
const ROUND_TRIPS = 200;

const data = new Uint32Array(WORDS);
for (let i = 0; i < WORDS; i++) data[i] = Math.imul(i, 0x9e3779b1) >>> 0;
/** The probe's result, kept where the engine cannot prove it unused. */
const sink = new Uint32Array(1);

function work(): number {
  let hash = 0x811c9dc5;
  for (let pass = 0; pass < PASSES; pass++) {
    for (let i = 0; i < WORDS; i++) {
      hash = Math.imul(hash ^ (data[i] as number), 0x01000193);
    }
  }
  return hash;
}

// Compiled and warm before the first reading.
sink[0] = work();

/** One reading of the machine's pace; higher is slower for both. */
export interface Pace {
  /** Milliseconds the fixed work took (the median of a few repeats). */
  computeMs: number;
  /** Microseconds a byte took to another process and back (the median of 200). */
  roundTripUs: number;
}

let echo: ChildProcessWithoutNullStreams | undefined;

/**
 * Reads the machine's pace now. The first call starts the echo process the round trips go
 * through; `stopPaceProbe()` ends it.
 *
 * @example
 * const { computeMs, roundTripUs } = await measurePace();
 * await runRound();
 * await stopPaceProbe();
 */
export async function measurePace(): Promise<Pace> {
  const times: number[] = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const start = performance.now();
    sink[0] = work();
    times.push(performance.now() - start);
  }
  return { computeMs: median(times), roundTripUs: await roundTrip() };
}

/** Ends the echo process of the round trips (a no-op when none was started). */
export async function stopPaceProbe(): Promise<void> {
  const child = echo;
  echo = undefined;
  if (!child || child.exitCode !== null) return;
  child.stdin.end();
  await once(child, "exit");
}

async function roundTrip(): Promise<number> {
  if (!echo) {
    echo = spawn(process.execPath, [
      "-e",
      "process.stdin.on('data', (bytes) => process.stdout.write(bytes))",
    ]);
    // Its start-up is not a round trip.
    await exchange(echo);
    await exchange(echo);
  }
  const times: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = performance.now();
    await exchange(echo);
    times.push((performance.now() - start) * 1000);
  }
  return median(times);
}

async function exchange(child: ChildProcessWithoutNullStreams): Promise<void> {
  const back = once(child.stdout, "data");
  child.stdin.write("x");
  await back;
}
