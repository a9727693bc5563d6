/**
 * Start-up of the `etcd-connect` command as a script sees it: whole processes of
 * `etcd-connect get <key>` (the built, bundled CLI, as installed; one plain endpoint, so the read
 * goes over etcd's JSON gateway), the same get through the client over gRPC (the endpoint named
 * twice: with several endpoints reads go through the client) and `etcd-connect --help`, beside
 * bare `node -e 0`, Node opening and closing an HTTP/2 connection to the endpoint (the floor of
 * any Node command that speaks gRPC) and, when ETCDCTL_BIN is set, `etcdctl get <key>`;
 * wall time and peak resident memory, medians of 10 runs each, all interleaved. Peak memory
 * comes from `/usr/bin/time` where it exists.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { median } from "../lib/measure.ts";
import type { Workload } from "../lib/workload.ts";

const root = join(import.meta.dirname, "..", "..");
const cli = join(root, "dist", "src", "bin", "etcd-connect.js");
const TIME = "/usr/bin/time";

interface Run {
  wallMs: number;
  rssMb: number;
}

/** One whole process: wall time, and peak RSS when /usr/bin/time is there (else NaN). */
function measure(command: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const timed = existsSync(TIME);
  const t0 = performance.now();
  const result = timed
    ? spawnSync(TIME, ["-f", "%M", command, ...args], { env, encoding: "utf8" })
    : spawnSync(command, args, { env, encoding: "utf8" });
  const wallMs = performance.now() - t0;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  const kb = timed ? Number(result.stderr.trim().split("\n").at(-1)) : Number.NaN;
  return { wallMs, rssMb: kb / 1024 };
}

export const cliStart: Workload = {
  id: "cli-start",
  title: "CLI start-up: `etcd-connect get k`, whole process",
  headline: { unit: "ms", higherIsBetter: false, value: (s) => s.extra?.getMs ?? Number.NaN },
  clients: ["ours"],
  detailOnly: true,
  async prepare(ctx) {
    // The CLI ships bundled (scripts/bundle-cli.ts): measure what users run.
    const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "ignore" });
    if (build.status !== 0 || !existsSync(cli)) throw new Error("npm run build failed");
    await ctx.admin.put(`${ctx.prefix}cli`, "v");
  },
  async run(_client, ctx) {
    const env = { ...process.env, ETCDCTL_API: "3" };
    const key = `${ctx.prefix}cli`;
    const endpoints = ctx.endpoints.join(",");
    const etcdctl = process.env.ETCDCTL_BIN;
    const kinds: Record<string, [string, string[]]> = {
      get: [process.execPath, [cli, `--endpoints=${endpoints}`, "get", key]],
      getGrpc: [process.execPath, [cli, `--endpoints=${endpoints},${endpoints}`, "get", key]],
      help: [process.execPath, [cli, "--help"]],
      node: [process.execPath, ["-e", "0"]],
      h2Connect: [
        process.execPath,
        [
          "-e",
          `const s = require("node:http2").connect(${JSON.stringify(ctx.endpoints[0])}); s.on("connect", () => s.close());`,
        ],
      ],
      ...(etcdctl ? { etcdctl: [etcdctl, [`--endpoints=${endpoints}`, "get", key]] } : {}),
    };
    const runs = ctx.scale(10, 2);
    const seen: Record<string, Run[]> = {};
    // One warm-up each (fills Node's compile cache and the page cache), then interleaved runs.
    for (const [command, args] of Object.values(kinds)) measure(command, args, env);
    for (let i = 0; i < runs; i++) {
      for (const [name, [command, args]] of Object.entries(kinds)) {
        const list = seen[name] ?? [];
        list.push(measure(command, args, env));
        seen[name] = list;
      }
    }
    const extra: Record<string, number> = {};
    for (const [name, list] of Object.entries(seen)) {
      extra[`${name}Ms`] = median(list.map((r) => r.wallMs));
      extra[`${name}RssMb`] = median(list.map((r) => r.rssMb));
    }
    const wallMs = Object.values(seen)
      .flat()
      .reduce((sum, r) => sum + r.wallMs, 0);
    return { ops: runs, wallMs, opsPerSec: Number.NaN, cpuUsPerOp: Number.NaN, extra };
  },
};
