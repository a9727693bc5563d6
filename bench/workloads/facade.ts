/**
 * What the typed facade costs over the raw generated client on the same transport: one client,
 * `etcd.put`/`etcd.get` against `etcd.raw.kv.put`/`range`, 200 in flight, in 24 pairs of
 * 1,000-call slices run back to back; client CPU per call of each, and the median of the pairs'
 * differences.
 *
 * On the wire a slice's CPU moves by several µs with garbage collections and the server, so for
 * the lean transport the same pair is also measured on the replay transport (the lean
 * transport's encoding and decoding, responses recorded from this etcd, no network): there the
 * difference is the facade's own CPU, to a fraction of a µs.
 */
import { toBinary } from "@bufbuild/protobuf";
import {
  type PutResponse,
  PutResponseSchema,
  type RangeResponse,
  RangeResponseSchema,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { createSession } from "../../src/connection/endpoint.ts";
import { Etcd } from "../../src/index.ts";
import { closedLoop, median } from "../lib/measure.ts";
import { createReplayTransport, type Recordings } from "../lib/replay-transport.ts";
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
    const slice = ctx.scale(1_000, 100);
    const slices = ctx.scale(24, 2);
    const variants = {
      put: (i: number) => pair.put(`${base}${i % KEYS}`, VALUE),
      rawPut: (i: number) => pair.rawPut(`${base}${i % KEYS}`, VALUE),
      get: (i: number) => pair.get(`${base}${i % KEYS}`),
      rawGet: (i: number) => pair.rawGet(`${base}${i % KEYS}`),
    };
    const wire = await pairedSlices(variants, slice, slices, 100);
    const isolated =
      client.name === "ours"
        ? await replayed(
            new Map([
              [
                "Put",
                toBinary(PutResponseSchema, (await pair.rawPut(`${base}0`, VALUE)) as PutResponse),
              ],
              [
                "Range",
                toBinary(RangeResponseSchema, (await pair.rawGet(`${base}0`)) as RangeResponse),
              ],
            ]),
            ctx.endpoints,
            ctx.scale(10_000, 200),
            ctx.scale(15, 2),
          )
        : {};
    return {
      ops: slice * slices * 4,
      wallMs: Number.NaN,
      opsPerSec: Number.NaN,
      cpuUsPerOp: (wire.put + wire.get) / 2,
      extra: {
        putUs: wire.put,
        rawPutUs: wire.rawPut,
        putDiffUs: wire.putDiff,
        getUs: wire.get,
        rawGetUs: wire.rawGet,
        getDiffUs: wire.getDiff,
        ...isolated,
      },
    };
  },
};

/**
 * Facade against raw client on the replay transport: `slices` alternating pairs of `slice`
 * calls each, 200 in flight; the medians of CPU per call and of the pairs' differences.
 */
async function replayed(
  recordings: Recordings,
  endpoints: string[],
  slice: number,
  slices: number,
): Promise<Record<string, number>> {
  const enc = new TextEncoder();
  const etcd = new Etcd({
    endpoints,
    transport: (config) => {
      // The session only has to be up: the pool checks it before every call.
      const session = createSession(config);
      return {
        url: config.url,
        transport: createReplayTransport(recordings),
        session,
        close: () => session.abort(),
      };
    },
  });
  try {
    const key = "facade/replayed";
    const variants = {
      put: () => etcd.put(key, VALUE),
      // As on the wire: the raw call encodes its strings too, so the difference is the facade's.
      rawPut: () => etcd.raw.kv.put({ key: enc.encode(key), value: enc.encode(VALUE) }),
      get: () => etcd.get(key),
      rawGet: () => etcd.raw.kv.range({ key: enc.encode(key) }),
    };
    const replay = await pairedSlices(variants, slice, slices, 200);
    return {
      replayPutUs: replay.put,
      replayRawPutUs: replay.rawPut,
      replayPutDiffUs: replay.putDiff,
      replayGetUs: replay.get,
      replayRawGetUs: replay.rawGet,
      replayGetDiffUs: replay.getDiff,
    };
  } finally {
    await etcd.close();
  }
}

type Variant = "put" | "rawPut" | "get" | "rawGet";

/**
 * Facade and raw calls in `slices` pairs of `slice` calls each, 200 in flight, each pair back to
 * back in alternating order: the medians of client CPU per call and of the pairs' differences
 * (which shrug off the slices another process disturbed). The first slice of each variant warms
 * up with a whole slice, the others with `warmup` calls.
 */
async function pairedSlices(
  variants: Record<Variant, (i: number) => Promise<unknown>>,
  slice: number,
  slices: number,
  warmup: number,
): Promise<Record<Variant | "putDiff" | "getDiff", number>> {
  const per: Record<Variant | "putDiff" | "getDiff", number[]> = {
    put: [],
    rawPut: [],
    get: [],
    rawGet: [],
    putDiff: [],
    getDiff: [],
  };
  for (let s = 0; s < slices; s++) {
    for (const [facade, raw, diff] of [
      ["put", "rawPut", "putDiff"],
      ["get", "rawGet", "getDiff"],
    ] as const) {
      const cpu: Partial<Record<Variant, number>> = {};
      for (const name of s % 2 === 0 ? [facade, raw] : [raw, facade]) {
        const sample = await closedLoop(variants[name], {
          total: slice,
          concurrency: 200,
          warmup: s === 0 ? slice : warmup,
        });
        cpu[name] = sample.cpuUsPerOp;
        per[name].push(sample.cpuUsPerOp);
      }
      per[diff].push((cpu[facade] as number) - (cpu[raw] as number));
    }
  }
  return {
    put: median(per.put),
    rawPut: median(per.rawPut),
    get: median(per.get),
    rawGet: median(per.rawGet),
    putDiff: median(per.putDiff),
    getDiff: median(per.getDiff),
  };
}
