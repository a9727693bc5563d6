/**
 * Measures how long a kept-alive lease goes without a renewal when the member its keep-alive
 * stream is on is killed (SIGKILL) or hung (SIGSTOP), on a 3-member cluster with default client
 * options: the gap from the last renewal etcd confirmed before the fault to the first one after,
 * and whether the lease was lost (its key gone, or `LeaseLostError`). The fault comes right after
 * a renewal, or right after the grant (the stream's first renewal still in flight). With auth on
 * the client is a non-admin user with simple tokens. Not a test: prints what it saw.
 *
 *   ETCD_BIN=.cache/etcd/3.4/usr/bin/etcd node bench/keepalive-gap.ts --runs 10 [--ttl 2]
 *     [--auth on,off] [--faults kill,pause] [--after renewal,grant] [--on follower,leader] [--verbose]
 *
 * `--on` is where the keep-alive stream goes: the client's endpoints are ordered so that its
 * third pick (after a read and the grant) is a follower or the leader; the table says where it was.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { parseArgs } from "node:util";
import {
  diagnosticsChannels,
  Etcd,
  type Lease,
  type LeaseRenewedMessage,
  prefix,
} from "../src/index.ts";
import { TestCluster, type TestMember } from "../src/testing.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    ttl: { type: "string", default: "2" },
    auth: { type: "string", default: "off,on" },
    faults: { type: "string", default: "kill,pause" },
    after: { type: "string", default: "renewal,grant" },
    on: { type: "string", default: "follower,leader" },
    verbose: { type: "boolean", default: false },
  },
});
const runs = Number(args.runs);
const ttl = Number(args.ttl);
const list = (value: string | undefined) => String(value).split(",").filter(Boolean);

type Fault = "kill" | "pause";
type Moment = "renewal" | "grant";
interface Run {
  gapMs: number;
  lost: boolean;
  leader: boolean;
  detail: string;
}

const renewals = new Map<bigint, number[]>();
const onRenewed = (message: unknown) => {
  const { id } = message as LeaseRenewedMessage;
  renewals.get(id)?.push(performance.now());
};
subscribe(diagnosticsChannels.leaseRenewed, onRenewed);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oneRun(
  cluster: TestCluster,
  auth: boolean,
  fault: Fault,
  moment: Moment,
  on: string,
): Promise<Run> {
  const leader = await cluster.waitLeader();
  const times: number[] = [];
  const target = on === "leader" ? leader : cluster.members.find((m) => m !== leader);
  const urls = cluster.members.map((m) => m.clientUrl);
  // Rotate the endpoints until the keep-alive stream lands on the target member.
  let etcd: Etcd | undefined;
  let lease: Lease | undefined;
  let grantedAt = 0;
  for (let rotation = 0; rotation < 6 && lease === undefined; rotation++) {
    const client = new Etcd({
      ...cluster.clientOptions(auth ? "app" : undefined),
      endpoints: [...urls.slice(rotation % 3), ...urls.slice(0, rotation % 3)],
    });
    await client.get("gap/warm"); // connected (and authenticated) like a running application
    const granted = await client.lease.grant(ttl);
    grantedAt = performance.now();
    renewals.set(granted.id, times);
    granted.keepAlive();
    if (client.lease.keepAliveStats().endpoint === target?.clientUrl) {
      etcd = client;
      lease = granted;
    } else {
      await granted.revoke();
      await client.close();
    }
  }
  if (!etcd || !lease) throw new Error(`the keep-alive stream never went to the ${on}`);
  await using _client = etcd;
  const key = `gap/${lease.hex}`;
  let firstRenewal: () => void = () => {};
  const renewedTwice = new Promise<void>((resolve) => {
    firstRenewal = resolve;
  });
  if (moment === "renewal") {
    await etcd.put(key, "x", { lease: lease.id });
    // Fault right after the second renewal etcd confirms (the first comes with the stream).
    const poll = setInterval(() => {
      if (times.length >= 2) firstRenewal();
    }, 1);
    await renewedTwice;
    clearInterval(poll);
  }
  const url = etcd.lease.keepAliveStats().endpoint;
  const member = cluster.members.find((m) => m.clientUrl === url) as TestMember;
  const faultAt = performance.now();
  if (fault === "kill") await member.kill();
  else member.pause();
  const elected =
    member === leader
      ? (async () => {
          for (;;) {
            const next = await cluster.leader();
            if (next && next !== member) return performance.now() - faultAt;
            await sleep(10);
          }
        })()
      : Promise.resolve(Number.NaN);
  const lastBefore = times.filter((t) => t <= faultAt).at(-1) ?? grantedAt;
  let detail = "";
  if (moment === "grant") {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await etcd.put(key, "x", { lease: lease.id });
        break;
      } catch (error) {
        detail += `put: ${(error as Error).name}; `;
      }
    }
  }
  const giveUpAt = faultAt + 10_000;
  while (
    performance.now() < giveUpAt &&
    !times.some((t) => t > faultAt) &&
    lease.state !== "lost"
  ) {
    await sleep(5);
  }
  const firstAfter = times.find((t) => t > faultAt);
  // Past a whole TTL after that renewal: had etcd expired the lease, the key would be gone now.
  await sleep(ttl * 1000 + 500);
  const electionMs = await elected;
  if (Number.isFinite(electionMs)) detail += `new leader after ${Math.round(electionMs)} ms; `;
  const present = (await etcd.get(key).catch(() => undefined)) !== undefined;
  const lost = lease.state === "lost" || !present || firstAfter === undefined;
  if (lease.state === "lost") {
    const error = await lease.lost;
    detail += `lease lost (${error.message}${error.cause ? `; cause ${(error.cause as Error).message}` : ""}); `;
  }
  if (!present) detail += "key gone; ";
  if (fault === "kill") member.start();
  else member.resume();
  await cluster.waitHealthy(60_000);
  await lease.revoke().catch(() => {});
  renewals.delete(lease.id);
  return {
    gapMs: firstAfter === undefined ? Number.NaN : firstAfter - lastBefore,
    lost,
    leader: member === leader,
    detail,
  };
}

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const rows: string[] = [];
let version = "";
for (const authMode of list(args.auth)) {
  const auth = authMode === "on";
  const cluster = await TestCluster.start({
    size: 3,
    ...(auth
      ? {
          auth: {
            roles: [
              { name: "app", permissions: [{ keys: prefix("gap/"), type: "readwrite" as const }] },
            ],
            users: [{ name: "app", password: "app-pw", roles: ["app"] }],
          },
        }
      : {}),
  });
  try {
    {
      await using admin = new Etcd(cluster.clientOptions());
      version = (await admin.maintenance.status()).version;
    }
    for (const fault of list(args.faults) as Fault[]) {
      for (const moment of list(args.after) as Moment[]) {
        for (const on of list(args.on)) {
          const results: Run[] = [];
          for (let i = 0; i < runs; i++) {
            const run = await oneRun(cluster, auth, fault, moment, on);
            results.push(run);
            if (args.verbose || run.lost) {
              console.error(
                `${version} auth ${authMode} ${fault} after ${moment} on ${on} #${i + 1}: gap ${Math.round(run.gapMs)} ms${run.leader ? " (leader)" : ""}${run.lost ? " LOST" : ""} ${run.detail}`,
              );
            }
          }
          const gaps = results.map((r) => r.gapMs);
          const worst = Math.max(
            ...gaps.map((g) => (Number.isFinite(g) ? g : Number.POSITIVE_INFINITY)),
          );
          const row = `| ${version} | ${fault} | after ${moment} | ${on} | ${authMode} | ${runs} | ${Math.round(median(gaps))} | ${Math.round(worst)} | ${results.filter((r) => r.leader).length} | ${results.filter((r) => r.lost).length} |`;
          rows.push(row);
          console.error(row);
        }
      }
    }
  } finally {
    for (const member of cluster.members) if (member.paused) member.resume();
    await cluster.stop();
  }
}
unsubscribe(diagnosticsChannels.leaseRenewed, onRenewed);
console.log(
  `TTL ${ttl} s, gap from the last confirmed renewal before the fault to the first after (ms)`,
);
console.log(
  "| etcd | fault | when | stream on | auth | runs | median gap | worst gap | on leader | lost |",
);
console.log("|---|---|---|---|---|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
