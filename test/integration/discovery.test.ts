/**
 * Service discovery against etcd, in the format of Go's client/v3/naming/endpoints: what we
 * register, etcdctl reads back as the exact bytes Go's endpoints manager writes (key
 * `<service>/<addr>`, `{"Op":0,"Addr":...,"Metadata":...}` as encoding/json marshals it); what
 * etcdctl writes in that format we discover, in Go's case-insensitive reading too; values not in
 * the format are skipped and reported; a lost lease registers again; close deregisters.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  decodeEndpoint,
  type EndpointUpdate,
  Etcd,
  type EtcdError,
  encodeEndpoint,
  type Lease,
  LeaseLostError,
  type ServiceDiscovery,
} from "../../src/index.ts";
import { etcdctl, testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();

/** The next batch of updates discovery delivers. */
function nextUpdates(discovery: ServiceDiscovery): Promise<readonly EndpointUpdate[]> {
  return new Promise((resolve) => {
    const off = discovery.onChange((updates) => {
      off();
      resolve(updates);
    });
  });
}

async function ctl(...args: string[]): Promise<string> {
  return (await etcdctl(fx.endpoints, args)).stdout.toString("utf8");
}

describe("discovery", () => {
  let etcd: Etcd;

  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 10_000 });
  });

  after(async () => {
    await etcd?.close();
  });

  test("encodes as Go's encoding/json marshals endpoints.Update, and reads Go's values", () => {
    assert.equal(
      encodeEndpoint({ addr: "10.0.0.7:8080" }),
      '{"Op":0,"Addr":"10.0.0.7:8080","Metadata":null}',
    );
    assert.equal(
      encodeEndpoint({ addr: "a<b>&c", metadata: { zone: "b", weight: 2, tags: ["x"], a: null } }),
      '{"Op":0,"Addr":"a\\u003cb\\u003e\\u0026c","Metadata":{"a":null,"tags":["x"],"weight":2,"zone":"b"}}',
    );
    const bytes = (s: string) => new TextEncoder().encode(s);
    assert.deepEqual(decodeEndpoint(bytes('{"op":0,"addr":"h:1","metadata":{"k":1}}')), {
      addr: "h:1",
      metadata: { k: 1 },
    });
    assert.throws(() => decodeEndpoint(bytes('"h:1"')), TypeError);
  });

  test("what we register, etcdctl reads as Go writes it; what etcdctl writes, we discover", async () => {
    const service = `${uniquePrefix("disc")}api`;
    await using api = await etcd.discover(service);
    assert.equal(api.endpoints.size, 0);

    let updates = nextUpdates(api);
    await using me = await etcd.register(service, {
      addr: "127.0.0.1:8080",
      metadata: { zone: "b", version: "1.2" },
    });
    assert.equal(me.key, `${service}/127.0.0.1:8080`);
    assert.deepEqual(await updates, [
      {
        op: "add",
        key: me.key,
        endpoint: { addr: "127.0.0.1:8080", metadata: { version: "1.2", zone: "b" } },
      },
    ]);
    assert.equal(await ctl("get", "--prefix", "--keys-only", `${service}/`), `${me.key}\n\n`);
    assert.equal(
      await ctl("get", "--print-value-only", me.key),
      '{"Op":0,"Addr":"127.0.0.1:8080","Metadata":{"version":"1.2","zone":"b"}}\n',
    );
    const leaseHex = me.lease?.hex ?? "";
    assert.match(await ctl("lease", "timetolive", "--keys", leaseHex), new RegExp(me.key));

    // Written by etcdctl as a Go program's endpoints manager would, and as Go also reads it.
    updates = nextUpdates(api);
    await ctl("put", `${service}/10.0.0.9:80`, '{"Op":0,"Addr":"10.0.0.9:80","Metadata":null}');
    assert.deepEqual(await updates, [
      {
        op: "add",
        key: `${service}/10.0.0.9:80`,
        endpoint: { addr: "10.0.0.9:80", metadata: null },
      },
    ]);
    updates = nextUpdates(api);
    await ctl("put", `${service}/10.0.0.10:80`, '{"op":0,"addr":"10.0.0.10:80"}');
    assert.equal((await updates)[0]?.endpoint?.addr, "10.0.0.10:80");
    assert.deepEqual([...api.endpoints.values()].map((e) => e.addr).sort(), [
      "10.0.0.10:80",
      "10.0.0.9:80",
      "127.0.0.1:8080",
    ]);

    // Not an endpoint: skipped (the key's previous endpoint stays, as in Go) and reported.
    const errors: EtcdError[] = [];
    api.onError((e) => errors.push(e));
    const garbage = await etcd.put(`${service}/10.0.0.9:80`, "not json");
    await api.waitForRevision(garbage.revision);
    assert.equal(api.endpoints.get(`${service}/10.0.0.9:80`)?.addr, "10.0.0.9:80");
    assert.equal(errors.length, 1);

    updates = nextUpdates(api);
    await ctl("del", `${service}/10.0.0.9:80`);
    assert.deepEqual(await updates, [
      {
        op: "delete",
        key: `${service}/10.0.0.9:80`,
        endpoint: { addr: "10.0.0.9:80", metadata: null },
      },
    ]);

    // A second discovery starts with every endpoint in one batch, as Go's watch channel does.
    await using other = await etcd.discover(service);
    const first = await other.updates().next();
    assert.deepEqual(
      first.value?.map((u: EndpointUpdate) => `${u.op} ${u.endpoint?.addr}`).sort(),
      ["add 10.0.0.10:80", "add 127.0.0.1:8080"],
    );
  });

  test("a lost lease registers again on a new lease; close deregisters", async () => {
    const service = `${uniquePrefix("disc-lost")}api`;
    await using api = await etcd.discover(service);
    const lost: EtcdError[] = [];
    const me = await etcd.register(
      service,
      { addr: "127.0.0.1:9090" },
      { ttl: 5, onError: (e) => lost.push(e) },
    );
    const firstLease = me.lease as Lease;
    const again = new Promise<Lease>((resolve) => me.onRegistered(resolve));
    // Someone else revokes it (an operator, or etcd expiring it while this process stalled).
    await ctl("lease", "revoke", firstLease.hex);
    const second = await again;
    assert.notEqual(second.id, firstLease.id);
    assert.ok(lost.some((e) => e instanceof LeaseLostError));
    const value = await etcd.get(me.key);
    assert.equal(value?.lease, second.id);
    const { revision } = await etcd.put(`${uniquePrefix("mark")}x`, "1");
    await api.waitForRevision(revision);
    assert.equal(api.endpoints.get(me.key)?.addr, "127.0.0.1:9090");

    const gone = nextUpdates(api);
    await me.close();
    assert.deepEqual(await gone, [
      { op: "delete", key: me.key, endpoint: { addr: "127.0.0.1:9090", metadata: null } },
    ]);
    assert.equal(await etcd.get(me.key), undefined);
  });
});
