/**
 * `etcd-connect get` over etcd's JSON gateway. With one plain-HTTP endpoint, a get is one
 * HTTP/1.1 exchange with the gateway (a relay in front of etcd sees how each connection begins)
 * and prints exactly what the same get through the client prints (two endpoints send it through
 * the client). What the gateway does not answer with a result (an etcd error, a member without
 * the gateway, a member that does not answer) goes through the client, within the command's
 * timeout.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { inspect } from "node:util";
import { gatewayAddress } from "../../src/cli/connect-options.ts";
import { gatewayRange } from "../../src/cli/gateway-range.ts";
import {
  Etcd,
  type KeyOrRange,
  prefix,
  type RangeOptions,
  type RangeResult,
  range,
} from "../../src/index.ts";
import { type CliResult, runCli } from "../support/cli.ts";
import {
  CLI_ON_DENO,
  testClientOptions,
  uniquePrefix,
  unsupportedOn,
  useEtcd,
} from "../support/index.ts";
import { TcpRelay } from "../support/tcp-relay.ts";

const skip = unsupportedOn({ deno: CLI_ON_DENO });
const OVER_GATEWAY = /^POST \/v3\/kv\/range HTTP\/1\.1\r\n/;
const OVER_GRPC = /^PRI \* HTTP\/2\.0\r\n/;

/** A range result with its bytes as hex, so the two paths' results compare field by field. */
function comparable(result: RangeResult | undefined) {
  assert.ok(result, "the gateway answered");
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  return {
    ...result,
    kvs: result.kvs.map((kv) => ({
      key: hex(kv.key),
      value: hex(kv.value),
      createRevision: kv.createRevision,
      modRevision: kv.modRevision,
      version: kv.version,
      lease: kv.lease,
    })),
  };
}

function limits(timeoutMs = 5000) {
  return {
    connectTimeoutMs: timeoutMs,
    timeoutMs,
    maxBytes: 64 * 1024 * 1024,
    signal: new AbortController().signal,
  };
}

/** The gateway address the command line would use for this endpoint. */
function address(endpoint: string) {
  const found = gatewayAddress({ endpoints: endpoint }, {});
  assert.ok(found, `${endpoint} is a plain-HTTP endpoint`);
  return found;
}

function printed(run: CliResult) {
  return { code: run.code, stdout: run.stdout.toString("utf8"), stderr: run.stderr };
}

describe("get over the gateway", { skip }, () => {
  const fx = useEtcd();
  const p = uniquePrefix("cli-gateway");
  let etcd: Etcd;
  let firstRevision = 0n;

  before(async () => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    firstRevision = (await etcd.put(`${p}a`, "1")).revision;
    // Over 2 KB: Go's HTTP server sends a body that long in chunks.
    await etcd.put(`${p}b`, "x".repeat(5000));
    const lease = await etcd.lease.grant(600);
    await etcd.put(`${p}c`, "\u00ff\u0000 three", { lease });
    await etcd.put(`${p}a`, "one");
  });
  after(() => etcd.close());

  test("a range read gives what the client's read gives, for every option get uses", async () => {
    const cases: Array<[KeyOrRange, RangeOptions]> = [
      [`${p}a`, {}],
      [`${p}missing`, {}],
      [prefix(p), {}],
      [prefix(p), { keysOnly: true }],
      [prefix(p), { countOnly: true }],
      [prefix(p), { limit: 2 }],
      [prefix(p), { sortOrder: "descend", sortTarget: "key" }],
      [prefix(p), { sortOrder: "ascend", sortTarget: "value" }],
      [prefix(p), { sortOrder: "descend", sortTarget: "createRevision" }],
      [prefix(p), { sortOrder: "descend", sortTarget: "modRevision" }],
      [prefix(p), { sortOrder: "ascend", sortTarget: "version" }],
      [range(`${p}a`, `${p}c`), {}],
      [prefix(p), { revision: firstRevision }],
      [prefix(p), { serializable: true }],
    ];
    for (const [target, options] of cases) {
      const overGateway = await gatewayRange(
        address(fx.endpoints[0] ?? ""),
        target,
        options,
        limits(),
      );
      const overClient = await etcd.range(target, options);
      assert.deepEqual(
        comparable(overGateway),
        comparable(overClient),
        inspect({ target, options }),
      );
    }
    const all = await gatewayRange(address(fx.endpoints[0] ?? ""), prefix(p), {}, limits());
    assert.equal(all?.kvs.length, 3);
    assert.equal(all?.kvs[1]?.value.length, 5000);
    assert.notEqual(all?.kvs[2]?.lease, 0n);
    assert.equal(
      (await gatewayRange(address(fx.endpoints[0] ?? ""), prefix(p), { limit: 1 }, limits()))?.more,
      true,
    );
  });

  test("the command reads over the gateway and prints what it prints through the client", async () => {
    await using relay = await TcpRelay.start(fx.endpoints[0] ?? "");
    const direct = fx.endpoints[0] ?? "";
    const cases = [
      ["get", `${p}a`],
      ["get", `${p}missing`],
      ["get", "--prefix", p],
      ["get", "--prefix", p, "-w", "json"],
      ["get", "--prefix", p, "--keys-only"],
      ["get", "--prefix", p, "--count-only"],
      ["get", "--prefix", p, "--limit", "1", "-w", "json"],
      ["get", "--prefix", p, "--order", "DESCEND", "--sort-by", "MODIFY"],
      ["get", "--prefix", p, "--print-value-only"],
      ["get", `${p}c`, "--hex"],
      ["get", `${p}a`, `${p}c`, "--consistency", "s"],
      ["get", "--prefix", p, "--rev", String(firstRevision), "-w", "json"],
    ];
    for (const args of cases) {
      const seen = relay.openings.length;
      const overGateway = await runCli([relay.url], args);
      assert.deepEqual(
        relay.openings.slice(seen).map((o) => OVER_GATEWAY.test(o)),
        [true],
        args.join(" "),
      );
      const overClient = await runCli([direct, direct], args);
      assert.equal(overClient.code, 0, overClient.stderr);
      assert.deepEqual(printed(overGateway), printed(overClient), args.join(" "));
    }
  });

  test("an etcd error goes through the client, which reports it", async () => {
    await using relay = await TcpRelay.start(fx.endpoints[0] ?? "");
    const direct = fx.endpoints[0] ?? "";
    const args = ["get", `${p}a`, "--rev", "999999999"];
    const overGateway = await runCli([relay.url], args);
    assert.equal(relay.openings.length, 2);
    assert.match(relay.openings[0] ?? "", OVER_GATEWAY);
    assert.match(relay.openings[1] ?? "", OVER_GRPC);
    const overClient = await runCli([direct, direct], args);
    assert.match(
      overClient.stderr,
      /^Error: FutureRevisionError \(OutOfRange\): .*future revision/,
    );
    assert.deepEqual(printed(overGateway), printed(overClient));
  });

  test("a member that never answers costs the command its timeout once, not twice", async () => {
    await using relay = await TcpRelay.start(fx.endpoints[0] ?? "");
    relay.stall();
    const started = performance.now();
    const run = await runCli([relay.url], ["get", `${p}a`, "--command-timeout", "3s"]);
    const took = performance.now() - started;
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /^Error: \w+Error \((Unavailable|DeadlineExceeded)\): /);
    assert.match(relay.openings[0] ?? "", OVER_GATEWAY);
    // Both waits in full would take over 6 s; the gateway's wait plus starting up stays near 3.
    assert.ok(took < 5000, `the command took ${Math.round(took)} ms`);
  });
});

describe("get from a member without the gateway", { skip }, () => {
  const fx = useEtcd({ args: ["--enable-grpc-gateway=false"] });

  test("goes through the client", async () => {
    const endpoint = fx.endpoints[0] ?? "";
    const p = uniquePrefix("cli-no-gateway");
    await using etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    await etcd.put(`${p}k`, "v");
    assert.equal(await gatewayRange(address(endpoint), `${p}k`, {}, limits()), undefined);
    await using relay = await TcpRelay.start(endpoint);
    const run = await runCli([relay.url], ["get", `${p}k`]);
    assert.deepEqual(printed(run), { code: 0, stdout: `${p}k\nv\n`, stderr: "" });
    assert.equal(relay.openings.length, 2);
    assert.match(relay.openings[0] ?? "", OVER_GATEWAY);
    assert.match(relay.openings[1] ?? "", OVER_GRPC);
  });
});
