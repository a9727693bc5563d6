/**
 * What the typed facade costs over the raw generated client on the same transport: one client,
 * `etcd.put`/`etcd.get` against `etcd.raw.kv.put`/`range`, 200 in flight, interleaved in short
 * slices so both see the same machine state; client CPU per call of each.
 */
import { closedLoop } from "../lib/measure.ts";
import { settleReads, type Workload } from "../lib/workload.ts";

const VALUE = "f".repeat(256);
const KEYS = 1000;

export const facadeCost: Workload = {
  id: "facade-cost",
  title: "facade minus raw client, 200 in flight",
  headline: {
    unit: "µs/call",
    higherIsBetter: false,
    value: (s) => ((s.extra?.putDiffUs ?? Number.NaN) + (s.extra?.getDiffUs ?? Number.NaN)) / 2,
  },
  clients: ["ours", "connect"],
  detailOnly: true,
  async prepare(ctx) {
    const base = `${ctx.prefix}facade/`;
    for (let i = 0; i < KEYS; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => ctx.admin.put(`${base}${i + j}`, VALUE)),
      );
    }
  },
  beforeEach: settleReads,
  async run(client, ctx) {
    const pair = client.facadeAndRaw;
    if (!pair) return undefined;
    const base = `${ctx.prefix}facade/`;
    const slice = ctx.scale(2_000, 100);
    const slices = ctx.scale(8, 1);
    const variants = {
      put: (i: number) => pair.put(`${base}${i % KEYS}`, VALUE),
      rawPut: (i: number) => pair.rawPut(`${base}${i % KEYS}`, VALUE),
      get: (i: number) => pair.get(`${base}${i % KEYS}`),
      rawGet: (i: number) => pair.rawGet(`${base}${i % KEYS}`),
    };
    const cpu = { put: 0, rawPut: 0, get: 0, rawGet: 0 };
    for (let s = 0; s < slices; s++) {
      const order = (
        s % 2 === 0 ? ["put", "rawPut", "get", "rawGet"] : ["rawPut", "put", "rawGet", "get"]
      ) as (keyof typeof variants)[];
      for (const name of order) {
        const sample = await closedLoop(variants[name], {
          total: slice,
          concurrency: 200,
          warmup: s === 0 ? slice : 200,
        });
        cpu[name] += sample.cpuUsPerOp / slices;
      }
    }
    return {
      ops: slice * slices * 4,
      wallMs: Number.NaN,
      opsPerSec: Number.NaN,
      cpuUsPerOp: (cpu.put + cpu.get) / 2,
      extra: {
        putUs: cpu.put,
        rawPutUs: cpu.rawPut,
        putDiffUs: cpu.put - cpu.rawPut,
        getUs: cpu.get,
        rawGetUs: cpu.rawGet,
        getDiffUs: cpu.get - cpu.rawGet,
      },
    };
  },
};
