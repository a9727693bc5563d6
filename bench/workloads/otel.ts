/**
 * What tracing costs per call, without the network's noise: `etcd.put` and `etcd.get` on the
 * replay transport (the lean transport's encoding and decoding, responses recorded from this
 * etcd), 200 in flight, in pairs of slices: one with nobody subscribed to the diagnostics
 * channels, one with `etcd-connect/otel` on over the real SDK (every span sampled and batched to
 * a discarding exporter, metrics aggregated). The difference is the instrumentation's CPU per
 * call; the "off" figure is the client's own, to compare with earlier runs.
 */
import { toBinary } from "@bufbuild/protobuf";
import { PutResponseSchema, RangeResponseSchema } from "../../gen/etcdserverpb/rpc_pb.ts";
import { createSession } from "../../src/connection/endpoint.ts";
import { Etcd } from "../../src/index.ts";
import { closedLoop, median } from "../lib/measure.ts";
import { startOtel } from "../lib/otel.ts";
import { createReplayTransport } from "../lib/replay-transport.ts";
import type { Workload } from "../lib/workload.ts";

const VALUE = "v".repeat(256);

export const otelCost: Workload = {
  id: "otel-cost",
  title: "OpenTelemetry on minus off, replayed (no network), 200 in flight",
  headline: {
    unit: "µs/call",
    higherIsBetter: false,
    value: (s) => ((s.extra?.putDiffUs ?? Number.NaN) + (s.extra?.getDiffUs ?? Number.NaN)) / 2,
  },
  clients: ["ours"],
  detailOnly: true,
  async run(_client, ctx) {
    const key = `${ctx.prefix}otel-cost`;
    const put = await ctx.admin.raw.kv.put({ key: new TextEncoder().encode(key) });
    const got = await ctx.admin.raw.kv.range({ key: new TextEncoder().encode(key) });
    const recordings = new Map([
      ["Put", toBinary(PutResponseSchema, put)],
      ["Range", toBinary(RangeResponseSchema, got)],
    ]);
    const etcd = new Etcd({
      endpoints: ctx.endpoints,
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
    const slice = ctx.scale(10_000, 200);
    const slices = ctx.scale(12, 2);
    const per: Record<string, number[]> = { putOff: [], putOn: [], getOff: [], getOn: [] };
    const diffs: Record<string, number[]> = { put: [], get: [] };
    try {
      const calls = { put: () => etcd.put(key, VALUE), get: () => etcd.get(key) };
      for (let s = 0; s < slices; s++) {
        for (const op of ["put", "get"] as const) {
          const cpu: Record<string, number> = {};
          for (const on of s % 2 === 0 ? [false, true] : [true, false]) {
            const stop = on ? startOtel() : undefined;
            try {
              const sample = await closedLoop(calls[op], {
                total: slice,
                concurrency: 200,
                warmup: s === 0 ? slice : 200,
              });
              cpu[on ? "on" : "off"] = sample.cpuUsPerOp;
              per[`${op}${on ? "On" : "Off"}`]?.push(sample.cpuUsPerOp);
            } finally {
              await stop?.();
            }
          }
          diffs[op]?.push((cpu.on as number) - (cpu.off as number));
        }
      }
    } finally {
      await etcd.close();
    }
    const m = (values: number[] | undefined) => median(values ?? []);
    return {
      ops: slice * slices * 4,
      wallMs: Number.NaN,
      opsPerSec: Number.NaN,
      cpuUsPerOp: (m(per.putOff) + m(per.getOff)) / 2,
      extra: {
        putOffUs: m(per.putOff),
        putOnUs: m(per.putOn),
        putDiffUs: m(diffs.put),
        getOffUs: m(per.getOff),
        getOnUs: m(per.getOn),
        getDiffUs: m(diffs.get),
      },
    };
  },
};
