/**
 * Runs in a child process on Node, Bun or Deno (`bench/workloads/runtimes.ts` starts it): our
 * client on that runtime against the benchmark's etcd, puts and gets one in flight and puts 200
 * in flight, each through the closed-loop driver the other rows use. Prints one JSON line:
 * `{ "put1": Sample, "get1": Sample, "put200": Sample }`.
 *
 *   node bench/lib/runtime-calls.ts <endpoint,...> <prefix> <ops>
 */
import { Etcd } from "../../src/index.ts";
import { closedLoop } from "./measure.ts";

const [endpointList = "", prefix = "bench/runtime/", opsText = "2000"] = process.argv.slice(2);
const ops = Number(opsText);
const etcd = new Etcd({ endpoints: endpointList.split(",") });
try {
  const value = "x".repeat(256);
  const put1 = await closedLoop((i) => etcd.put(`${prefix}${i % 1000}`, value), {
    total: ops,
    concurrency: 1,
  });
  const get1 = await closedLoop((i) => etcd.get(`${prefix}${i % 1000}`), {
    total: ops,
    concurrency: 1,
  });
  const put200 = await closedLoop((i) => etcd.put(`${prefix}${i % 1000}`, value), {
    total: ops * 4,
    concurrency: 200,
  });
  process.stdout.write(`${JSON.stringify({ put1, get1, put200 })}\n`);
} finally {
  await etcd.close();
}
