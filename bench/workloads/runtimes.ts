/**
 * Our client on each runtime against the same etcd: Node (the one running the bench), Bun and
 * Deno (the devDependencies), each in a child process running `bench/lib/runtime-calls.ts`:
 * puts and gets one in flight, puts 200 in flight; throughput and client CPU per call. A runtime
 * that does not start here is left out with the reason printed.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Sample } from "../lib/measure.ts";
import type { Workload } from "../lib/workload.ts";

const root = join(import.meta.dirname, "..", "..");
const script = join(root, "bench", "lib", "runtime-calls.ts");

/** The runtimes, in the order of the table, with the command that runs a script on each. */
export const RUNTIMES = {
  node: [process.execPath, []],
  bun: [join(root, "node_modules", ".bin", "bun"), []],
  deno: [
    join(root, "node_modules", ".bin", "deno"),
    ["run", "-A", "--no-check", "--node-modules-dir=manual"],
  ],
} as const satisfies Record<string, readonly [string, readonly string[]]>;

export type RuntimeName = keyof typeof RUNTIMES;
const CALLS = ["put1", "get1", "put200"] as const;

export const runtimeCalls: Workload = {
  id: "runtimes",
  title: "Our client on Node, Bun and Deno: put 1 in flight",
  headline: { unit: "ops/s", higherIsBetter: true, value: (s) => s.extra?.nodePut1 ?? Number.NaN },
  clients: ["ours"],
  detailOnly: true,
  async run(_client, ctx) {
    const extra: Record<string, number> = {};
    const ops = ctx.scale(3000, 100);
    let wallMs = 0;
    for (const [name, [command, args]] of Object.entries(RUNTIMES)) {
      const t0 = performance.now();
      const result = spawnSync(
        command,
        [...args, script, ctx.endpoints.join(","), `${ctx.prefix}runtime/${name}/`, String(ops)],
        { cwd: root, encoding: "utf8", timeout: 300_000 },
      );
      wallMs += performance.now() - t0;
      const line = result.stdout?.trim().split("\n").at(-1) ?? "";
      if (result.status !== 0 || !line.startsWith("{")) {
        const why =
          result.error?.message ?? result.stderr?.trim().split("\n").slice(-3).join(" | ");
        process.stdout.write(`runtimes: ${name} left out (exit ${result.status}): ${why}\n`);
        continue;
      }
      const samples = JSON.parse(line) as Record<(typeof CALLS)[number], Sample>;
      for (const call of CALLS) {
        const key = `${name}${call[0]?.toUpperCase()}${call.slice(1)}`;
        extra[key] = samples[call].opsPerSec;
        extra[`${key}CpuUs`] = samples[call].cpuUsPerOp;
      }
    }
    return { ops, wallMs, opsPerSec: extra.nodePut1 ?? Number.NaN, cpuUsPerOp: Number.NaN, extra };
  },
};
