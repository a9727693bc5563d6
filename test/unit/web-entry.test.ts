/**
 * etcd-connect/web for fetch-only runtimes: its whole module graph, bundled for the browser,
 * imports nothing from `node:` (nor connect-node); the gateway's routes come from the
 * `google.api.http` options in the generated descriptors for every RPC etcd's gateway serves;
 * both error shapes etcd's gateways answer become the same ConnectError; the portable SHA-256
 * used for snapshots agrees with node:crypto.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { test } from "node:test";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { build } from "esbuild";
import { Auth, Cluster, KV, Lease, Maintenance, Watch } from "../../gen/etcdserverpb/rpc_pb.ts";
import { http } from "../../gen/google/api/annotations_pb.ts";
import { Election } from "../../gen/v3electionpb/v3election_pb.ts";
import { Lock } from "../../gen/v3lockpb/v3lock_pb.ts";
import { gatewayError } from "../../src/gateway/gateway-status.ts";
import { gatewayRoutes } from "../../src/gateway/routes.ts";
import { Sha256 } from "../../src/maintenance/sha256.ts";

const root = resolve(import.meta.dirname, "../..");

/** Every import path in the browser bundle of `entry`, `node:` and connect-node left unresolved. */
async function bundledImports(entry: string): Promise<{ inputs: string[]; imports: string[] }> {
  const result = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    // Left unresolved so that the metafile lists them instead of the build failing on the first.
    external: ["node:*", "@connectrpc/connect-node"],
  });
  const inputs = Object.values(result.metafile.inputs);
  return {
    inputs: Object.keys(result.metafile.inputs),
    imports: inputs.flatMap((input) => input.imports.map((i) => i.path)),
  };
}

test("the web entry's module graph imports nothing from node: or connect-node", async () => {
  const { inputs, imports } = await bundledImports("src/web.ts");
  const offending = imports.filter(
    (path) => path.startsWith("node:") || path.includes("connect-node"),
  );
  assert.deepEqual(offending, []);
  assert.ok(inputs.some((f) => f.endsWith("src/gateway/gateway-transport.ts")));
});

test("the Node entry's graph does import node: modules (the check above can fail)", async () => {
  const { imports } = await bundledImports("src/index.ts");
  assert.ok(imports.includes("node:http2"));
});

test("every RPC but RangeStream has a gateway route from its google.api.http option", () => {
  const services = [KV, Watch, Lease, Cluster, Maintenance, Auth, Lock, Election];
  const missing: string[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      const routes = gatewayRoutes(method);
      // The same routes as protobuf-es's own reading of the option.
      const rule = hasOption(method, http) ? getOption(method, http) : undefined;
      const expected = (rule ? [rule, ...rule.additionalBindings] : []).flatMap((b) =>
        b.pattern.case === "post" ? [b.pattern.value] : [],
      );
      assert.deepEqual(routes, expected, method.name);
      if (routes.length === 0) missing.push(`${service.typeName}/${method.name}`);
      for (const route of routes) assert.match(route, /^\/v3\/[a-z/-]+$/, route);
    }
  }
  assert.deepEqual(missing, ["etcdserverpb.KV/RangeStream"]);
  assert.deepEqual(gatewayRoutes(KV.method.range), ["/v3/kv/range"]);
  assert.deepEqual(gatewayRoutes(Watch.method.watch), ["/v3/watch"]);
  // etcd 3.4 to 3.7 keep the old lease paths as additional bindings.
  assert.deepEqual(gatewayRoutes(Lease.method.leaseRevoke), [
    "/v3/lease/revoke",
    "/v3/kv/lease/revoke",
  ]);
  assert.deepEqual(gatewayRoutes(Maintenance.method.moveLeader), [
    "/v3/maintenance/transfer-leadership",
  ]);
  assert.deepEqual(gatewayRoutes(Election.method.observe), ["/v3/election/observe"]);
});

test("both gateway error shapes give etcd's code and message", () => {
  const message = "etcdserver: mvcc: required revision has been compacted";
  // grpc-gateway v1 (etcd 3.4, 3.5), unary.
  const v1 = gatewayError(400, JSON.stringify({ error: message, code: 11, message }));
  // grpc-gateway v2 (etcd 3.6+): google.rpc.Status.
  const v2 = gatewayError(400, JSON.stringify({ code: 11, message, details: [] }));
  // grpc-gateway v1 inside a stream: {"error": {grpc_code, http_code, message, http_status}}.
  const inStream = gatewayError(200, {
    grpc_code: 11,
    http_code: 400,
    message,
    http_status: "Bad Request",
  });
  for (const error of [v1, v2, inStream]) {
    assert.equal(error.code, Code.OutOfRange);
    assert.equal(error.rawMessage, message);
  }
  // etcd's own NotFound is kept; the gateway's "Not Found" for a route it lacks is an unknown method.
  const lease = gatewayError(
    404,
    JSON.stringify({ code: 5, message: "etcdserver: requested lease not found" }),
  );
  assert.equal(lease.code, Code.NotFound);
  const route = gatewayError(
    404,
    JSON.stringify({ code: 5, message: "Not Found" }),
    Maintenance.method.downgrade,
  );
  assert.equal(route.code, Code.Unimplemented);
  assert.match(route.rawMessage, /^unknown method Downgrade for service etcdserverpb.Maintenance/);
  assert.equal(gatewayError(503, "upstream gone").code, Code.Unavailable);
});

test("the portable SHA-256 matches node:crypto, fed in any pieces", () => {
  for (const size of [0, 1, 55, 56, 63, 64, 65, 1000, 100_003]) {
    const data = randomBytes(size);
    const hash = new Sha256();
    let offset = 0;
    for (const piece of [1, 7, 64, 129, 5000]) {
      hash.update(data.subarray(offset, offset + piece));
      offset = Math.min(size, offset + piece);
    }
    hash.update(data.subarray(offset));
    assert.equal(hash.hex(), createHash("sha256").update(data).digest("hex"), `size ${size}`);
  }
});
