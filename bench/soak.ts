/**
 * Soak: mixed load (KV puts and gets, compare-and-swap txns, 1,000 watchers, 1,000 kept-alive
 * leases, mutexes) on one client against a 3-member cluster, a member killed or hung every few
 * seconds, and the process and the cluster sampled every minute. Prints a table, writes an SVG
 * plot, and gives each figure's growth per hour (least squares over the second half of the run).
 * Not a test and not in CI: it reports what it saw.
 *
 *   ETCD_BIN=.cache/etcd/3.7.1/etcd npm run soak -- --minutes 30
 *
 * Options (defaults): --minutes 30, --sample-seconds 60, --fault-every-ms 5000,
 * --fault-hold-ms 3000, --faults kill,pause, --watchers 1000, --leases 1000, --lease-ttl 10,
 * --workers 2, --pause-ms 50, --svg bench/soak.svg, --md (a Markdown file for the table).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Etcd } from "../src/index.ts";
import { TestCluster } from "../src/testing.ts";
import { defaultFaultKinds, Nemesis } from "./soak/faults.ts";
import { MixedLoad } from "./soak/load.ts";
import { secondHalf, svg, table } from "./soak/report.ts";
import { type Sample, Sampler } from "./soak/sampler.ts";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    "sample-seconds": { type: "string", default: "60" },
    "fault-every-ms": { type: "string", default: "5000" },
    "fault-hold-ms": { type: "string", default: "3000" },
    faults: { type: "string", default: defaultFaultKinds.map((k) => k.name).join(",") },
    watchers: { type: "string", default: "1000" },
    leases: { type: "string", default: "1000" },
    "lease-ttl": { type: "string", default: "10" },
    workers: { type: "string", default: "2" },
    "pause-ms": { type: "string", default: "50" },
    svg: { type: "string", default: "bench/soak.svg" },
    md: { type: "string" },
  },
});
const num = (name: keyof typeof args) => Number(args[name]);
const kinds = String(args.faults)
  .split(",")
  .filter(Boolean)
  .map((name) => {
    const kind = defaultFaultKinds.find((k) => k.name === name);
    if (!kind) throw new Error(`unknown fault kind ${name}; known: kill, pause`);
    return kind;
  });

const cluster = await TestCluster.start({ size: 3 });
let load: MixedLoad | undefined;
const sampler = new Sampler(cluster, () => load?.leasesKept ?? 0);
const etcd = new Etcd({ endpoints: cluster.endpoints });
load = new MixedLoad(etcd, {
  watchers: num("watchers"),
  leases: num("leases"),
  workers: num("workers"),
  pauseMs: num("pause-ms"),
  leaseTtl: num("lease-ttl"),
});
const nemesis = new Nemesis(cluster, kinds, num("fault-every-ms"), num("fault-hold-ms"));
const samples: Sample[] = [];
try {
  const version = (await etcd.maintenance.status()).version;
  await load.start();
  console.error(`etcd ${version}; load running; faults: ${kinds.map((k) => k.name).join(", ")}`);
  nemesis.start();
  const endAt = performance.now() + num("minutes") * 60_000;
  for (;;) {
    const sample = await sampler.sample();
    samples.push(sample);
    console.error(
      `${(sample.t / 60).toFixed(1)} min ${JSON.stringify(sample.values, (_, v) => (typeof v === "number" ? Math.round(v * 100) / 100 : v))}`,
    );
    const wait = Math.min(num("sample-seconds") * 1000, endAt - performance.now());
    if (wait <= 0) break;
    await new Promise((r) => setTimeout(r, wait));
  }
  await nemesis.stop();
  const title = `soak: etcd ${version}, 3 members, ${num("minutes")} min, faults ${[...nemesis.counts].map(([k, n]) => `${k} ${n}`).join(", ")}`;
  const counts = load.counts;
  const summary = [
    title,
    "",
    table(samples),
    "",
    `growth per hour fitted over the samples from ${(secondHalf(samples)[0]?.t ?? 0) / 60} min on`,
    `ops: ${JSON.stringify(Object.fromEntries(counts.ops))}`,
    `errors: ${JSON.stringify(Object.fromEntries(counts.errors))}`,
    `watch events: ${counts.watchEvents}; leases lost (and granted again): ${counts.leasesLost}; sessions lost: ${counts.sessionsLost}`,
  ].join("\n");
  console.log(summary);
  writeFileSync(String(args.svg), svg(samples, title));
  if (args.md) writeFileSync(args.md, `${summary}\n`);
} finally {
  await nemesis.stop();
  for (const member of cluster.members) if (member.paused) member.resume();
  for (const member of cluster.members) if (!member.running) member.start();
  await load?.stop().catch(() => {});
  await etcd.close();
  await cluster.stop();
}
