/**
 * The clients the benchmark compares, behind one small interface: this project's `Etcd` on the
 * lean transport (with and without read coalescing), its raw generated client on the same
 * transport, the same facade on stock connect-node, stock connect-node alone (createGrpcTransport
 * and the generated client), the `etcd3` npm package, and the node:http2 floor (a hand-written
 * call that does not decode its response).
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Etcd3 } from "etcd3";
import { Compare_CompareResult, Compare_CompareTarget, KV } from "../../gen/etcdserverpb/rpc_pb.ts";
import { compare, Etcd, key, type ListOptions, op, prefix, prefixEnd } from "../../src/index.ts";
import { type BenchClient, type ClientName, crowdTracker } from "./bench-client.ts";
import { h2FloorClient } from "./h2-floor.ts";
import { startOtel } from "./otel.ts";

const enc = new TextEncoder();

/** One client of each kind, on the given endpoints. */
export function createClients(endpoints: string[], names: ClientName[]): BenchClient[] {
  return names.map((name) => createBenchClient(name, endpoints));
}

function createBenchClient(name: ClientName, endpoints: string[]): BenchClient {
  switch (name) {
    case "ours":
      return facade(name, new Etcd({ endpoints }));
    case "ours+coalesce":
      return facade(name, new Etcd({ endpoints, coalesceReads: true }));
    case "ours+paged":
      return facade(name, new Etcd({ endpoints }), { stream: false });
    case "ours+otel": {
      const stop = startOtel();
      const client = facade(name, new Etcd({ endpoints }));
      return {
        ...client,
        close: async () => {
          await client.close();
          await stop();
        },
      };
    }
    case "connect":
      return facade(name, new Etcd({ endpoints, transport: "connect" }));
    case "ours.raw": {
      const etcd = new Etcd({ endpoints });
      return { ...rawKv(name, etcd.raw.kv), close: () => etcd.close() };
    }
    case "connect.raw": {
      const transport = createGrpcTransport({ baseUrl: endpoints[0] as string });
      // Stock connect-node owns its HTTP/2 sessions and has no close(); they unref when idle.
      return { ...rawKv(name, createClient(KV, transport)), close: async () => {} };
    }
    case "h2.floor":
      return h2FloorClient(endpoints[0] as string);
    case "etcd3":
      // grpc-js refuses messages over 4 MiB by default; a watch replaying history can exceed it.
      return etcd3Client(
        new Etcd3({ hosts: endpoints, grpcOptions: { "grpc.max_receive_message_length": -1 } }),
      );
  }
}

function facade(name: ClientName, etcd: Etcd, list: ListOptions = {}): BenchClient {
  return {
    name,
    put: (k, v) => etcd.put(k, v),
    get: (k) => etcd.get(k),
    rangePrefix: async (p) => (await etcd.range(prefix(p))).kvs.length,
    listPrefix: async (p) => {
      let n = 0;
      for await (const _ of etcd.list(prefix(p), list)) n++;
      return n;
    },
    txn: (k, v, other) =>
      etcd.txn({
        compare: [compare.value(k, "=", v)],
        success: [op.put(k, v), op.get(other)],
        failure: [op.get(k)],
      }),
    watchEvents: async (p, fromRevision, count) => {
      let seen = 0;
      for await (const batch of etcd.watch(prefix(p), { startRevision: fromRevision })) {
        seen += batch.events.length;
        if (seen >= count) break;
      }
    },
    idleWatchers: async (p, n) => {
      const watchers = Array.from({ length: n }, (_, i) => etcd.watch(key(`${p}${i}`)));
      await Promise.all(watchers.map((w) => w.ready()));
      return async () => {
        await Promise.all(watchers.map((w) => w.close()));
      };
    },
    watchersOnKey: async (k, n, onEvent) => {
      const tracker = crowdTracker(n, onEvent);
      const watchers = Array.from({ length: n }, () => etcd.watch(key(k)));
      await Promise.all(watchers.map((w) => w.ready()));
      watchers.forEach(async (w, i) => {
        try {
          for await (const batch of w) {
            if (batch.kind === "events") tracker.saw(i, Number(batch.revision));
          }
        } catch {
          // Closed with the client.
        }
      });
      return {
        reached: tracker.reached,
        close: async () => {
          await Promise.all(watchers.map((w) => w.close()));
        },
      };
    },
    keepLeases: async (n, ttl) => {
      const leases = await Promise.all(
        Array.from({ length: n }, () => etcd.lease.grant(ttl, { keepAlive: true })),
      );
      return async () => {
        await Promise.all(leases.map((l) => l.revoke()));
      };
    },
    facadeAndRaw: {
      put: (k, v) => etcd.put(k, v),
      rawPut: (k, v) => etcd.raw.kv.put({ key: enc.encode(k), value: enc.encode(v) }),
      get: (k) => etcd.get(k),
      rawGet: (k) => etcd.raw.kv.range({ key: enc.encode(k) }),
    },
    close: () => etcd.close(),
  };
}

function rawKv(name: ClientName, kv: ReturnType<typeof createClient<typeof KV>>) {
  return {
    name,
    put: (k: string, v: string) => kv.put({ key: enc.encode(k), value: enc.encode(v) }),
    get: (k: string) => kv.range({ key: enc.encode(k) }),
    rangePrefix: async (p: string) => {
      const start = enc.encode(p);
      return (await kv.range({ key: start, rangeEnd: prefixEnd(start) })).kvs.length;
    },
    txn: (k: string, v: string, other: string) => {
      const kb = enc.encode(k);
      const vb = enc.encode(v);
      return kv.txn({
        compare: [
          {
            key: kb,
            result: Compare_CompareResult.EQUAL,
            target: Compare_CompareTarget.VALUE,
            targetUnion: { case: "value", value: vb },
          },
        ],
        success: [
          { request: { case: "requestPut", value: { key: kb, value: vb } } },
          { request: { case: "requestRange", value: { key: enc.encode(other) } } },
        ],
        failure: [{ request: { case: "requestRange", value: { key: kb } } }],
      });
    },
  } satisfies Partial<BenchClient>;
}

function etcd3Client(client: Etcd3): BenchClient {
  return {
    name: "etcd3",
    put: (k, v) => client.put(k).value(v).exec(),
    get: (k) => client.get(k).buffer(),
    rangePrefix: async (p) => (await client.getAll().prefix(p).exec()).kvs.length,
    txn: (k, v, other) =>
      client
        .if(k, "Value", "==", v)
        .then(client.put(k).value(v), client.get(other))
        .else(client.get(k))
        .commit(),
    watchEvents: async (p, fromRevision, count) => {
      const watcher = await client.watch().prefix(p).startRevision(String(fromRevision)).create();
      await new Promise<void>((resolve, reject) => {
        let seen = 0;
        watcher.on("put", () => {
          if (++seen === count) resolve();
        });
        watcher.on("error", reject);
      });
      await watcher.cancel();
    },
    idleWatchers: async (p, n) => {
      const watchers = await Promise.all(
        Array.from({ length: n }, (_, i) => client.watch().key(`${p}${i}`).create()),
      );
      return async () => {
        await Promise.all(watchers.map((w) => w.cancel()));
      };
    },
    watchersOnKey: async (k, n, onEvent) => {
      const tracker = crowdTracker(n, onEvent);
      const watchers = await Promise.all(
        Array.from({ length: n }, () => client.watch().key(k).create()),
      );
      watchers.forEach((w, i) => {
        w.on("put", (kv) => tracker.saw(i, Number(kv.mod_revision)));
      });
      return {
        reached: tracker.reached,
        close: async () => {
          await Promise.all(watchers.map((w) => w.cancel()));
        },
      };
    },
    keepLeases: async (n, ttl) => {
      const leases = Array.from({ length: n }, () => client.lease(ttl));
      await Promise.all(leases.map((l) => l.grant()));
      return async () => {
        await Promise.all(leases.map((l) => l.revoke()));
      };
    },
    close: async () => client.close(),
  };
}
