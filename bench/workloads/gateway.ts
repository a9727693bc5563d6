/**
 * The JSON gateway against gRPC on Node (informative: the gateway is for runtimes that have no
 * gRPC): single-key puts and gets, 200 in flight, through `transport: "gateway"` (fetch, JSON,
 * HTTP/1.1) and through the default lean gRPC transport, on the same etcd, alternating. The row's
 * number is the gateway's client CPU per call; `extra` has both transports' figures and ratios.
 */
import { Etcd } from "../../src/index.ts";
import { closedLoop } from "../lib/measure.ts";
import { settleReads, type Workload } from "../lib/workload.ts";

const VALUE = "g".repeat(256);
const KEYS = 1000;

export const gatewayCalls: Workload = {
  id: "gateway-calls",
  title: "gateway vs gRPC, put+get, 200 in flight",
  headline: { unit: "µs CPU/call", higherIsBetter: false, value: (s) => s.cpuUsPerOp },
  clients: ["ours"],
  detailOnly: true,
  async prepare(ctx) {
    const base = `${ctx.prefix}gateway/`;
    for (let i = 0; i < KEYS; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => ctx.admin.put(`${base}${i + j}`, VALUE)),
      );
    }
  },
  beforeEach: settleReads,
  async run(client, ctx) {
    if (client.name !== "ours") return undefined;
    const base = `${ctx.prefix}gateway/`;
    const total = ctx.scale(10_000, 200);
    const clients = {
      gateway: new Etcd({ endpoints: ctx.endpoints, transport: "gateway" }),
      grpc: new Etcd({ endpoints: ctx.endpoints }),
    };
    try {
      const figures: Record<string, number> = {};
      for (const [name, etcd] of Object.entries(clients)) {
        const put = await closedLoop((i) => etcd.put(`${base}${i % KEYS}`, VALUE), {
          total,
          concurrency: 200,
        });
        const get = await closedLoop((i) => etcd.get(`${base}${i % KEYS}`), {
          total,
          concurrency: 200,
        });
        figures[`${name}PutUs`] = put.cpuUsPerOp;
        figures[`${name}GetUs`] = get.cpuUsPerOp;
        figures[`${name}PutOpsPerSec`] = put.opsPerSec;
        figures[`${name}GetOpsPerSec`] = get.opsPerSec;
        figures[`${name}GetP50Ms`] = get.p50Ms ?? Number.NaN;
      }
      const gatewayUs = ((figures.gatewayPutUs ?? 0) + (figures.gatewayGetUs ?? 0)) / 2;
      const grpcUs = ((figures.grpcPutUs ?? 0) + (figures.grpcGetUs ?? 0)) / 2;
      return {
        ops: total * 4,
        wallMs: Number.NaN,
        opsPerSec: ((figures.gatewayPutOpsPerSec ?? 0) + (figures.gatewayGetOpsPerSec ?? 0)) / 2,
        cpuUsPerOp: gatewayUs,
        extra: { ...figures, grpcUs, cpuRatio: gatewayUs / grpcUs },
      };
    } finally {
      await Promise.all(Object.values(clients).map((c) => c.close()));
    }
  },
};
