/**
 * A hung (SIGSTOPped) member with default client options, on a real 3-member cluster: a read
 * stuck on it moves to another member and succeeds; a write stuck on it fails with
 * `OutcomeUnknownError`, is never sent again, and is applied at most once; later calls go
 * elsewhere. An alive member that cannot commit (it answers pings but has lost its quorum) is
 * never declared dead: it is asked whether it has a leader, the write fails with its outcome
 * unknown when it has none, and the connection stays up, which also shows the on-demand pings
 * keep to etcd's policy (more would bring GOAWAY too_many_pings). Durations go
 * to stderr; the only bound asserted is a generous one proving the old 40 s stall is gone.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Interceptor } from "@connectrpc/connect";
import { Etcd, OutcomeUnknownError, TimeoutError } from "../../src/index.ts";
import {
  type Cluster,
  type Member,
  testClientOptions,
  testTransport,
  uniquePrefix,
  useEtcd,
} from "../support/index.ts";

const fx = useEtcd({ size: 3 });
let cluster: Cluster;
// Hang detection watches the default transport's unary calls.
const skip = testTransport() === "connect" ? "hang detection is the lean transport's" : false;

function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

/** Counts the requests each endpoint was sent, per method ("Range", "Put"...). */
function requestCounter() {
  const counts = new Map<string, number>();
  const interceptor: Interceptor = (next) => async (req) => {
    const id = `${new URL(req.url).origin} ${req.method.name}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    return next(req);
  };
  return {
    interceptor,
    count: (url: string, method: string) => counts.get(`${url} ${method}`) ?? 0,
  };
}

/** A client with default options (besides the counter), its next call going to `first`. */
async function warmClient(first: Member, counter: ReturnType<typeof requestCounter>) {
  const etcd = new Etcd({
    ...testClientOptions(),
    endpoints: [first.clientUrl, ...othersThan(first)],
    interceptors: [counter.interceptor],
  });
  // One call per endpoint, round-robin: every connection is up and the next pick is `first`.
  for (let i = 0; i < 3; i++) await etcd.get("warm");
  return etcd;
}

function othersThan(member: Member): string[] {
  return cluster.members.filter((m) => m !== member).map((m) => m.clientUrl);
}

async function heal(): Promise<void> {
  for (const member of cluster.members) if (member.paused) member.resume();
  await cluster.waitHealthy();
}

async function timed<T>(what: string, call: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    return { value: await call };
  } catch (error) {
    return { error };
  } finally {
    process.stderr.write(
      `hung-member: ${what} settled after ${Math.round(performance.now() - start)} ms\n`,
    );
  }
}

describe("a hung member, default options", { skip }, () => {
  before(() => {
    if (!fx.cluster) throw new Error("these tests need a spawned cluster");
    cluster = fx.cluster;
  });
  after(heal);

  test("a stuck read succeeds through another member; a stuck write fails as outcome unknown, once", async () => {
    const leader = await cluster.waitLeader();
    // A follower: a hung leader also stalls the others until they elect a new one.
    const hung = cluster.members.find((m) => m !== leader) as Member;
    const k = uniquePrefix("hung-member");
    const readCounter = requestCounter();
    const writeCounter = requestCounter();
    await using reader = await warmClient(hung, readCounter);
    await using writer = await warmClient(hung, writeCounter);
    await reader.put(`${k}read`, "v");
    // The put went to `hung` with the round-robin: warm the reader again.
    for (let i = 0; i < 2; i++) await reader.get("warm");
    const rangesOnHung = readCounter.count(hung.clientUrl, "Range");
    hung.pause();
    try {
      const [read, write] = await Promise.all([
        timed("get stuck on the hung member", reader.get(`${k}read`)),
        timed("put stuck on the hung member", writer.put(`${k}write`, "once")),
      ]);
      assert.equal(read.error, undefined, String(read.error));
      assert.equal(read.value?.text, "v");
      assert.equal(readCounter.count(hung.clientUrl, "Range"), rangesOnHung + 1);
      const elsewhere = othersThan(hung).reduce((n, url) => n + readCounter.count(url, "Range"), 0);
      assert.ok(elsewhere >= 3, "the read was answered by another member");

      assert.ok(write.error instanceof OutcomeUnknownError, `got ${String(write.error)}`);
      assert.equal(writeCounter.count(hung.clientUrl, "Put"), 1);
      for (const url of othersThan(hung)) {
        assert.equal(writeCounter.count(url, "Put"), 0, "the write was not sent again");
      }
      // Later calls go elsewhere at once.
      const later = await timed("next put", writer.put(`${k}later`, "v"));
      assert.equal(later.error, undefined, String(later.error));
      assert.equal(writeCounter.count(hung.clientUrl, "Put"), 1);
    } finally {
      await heal();
    }
    // The stuck write reached the hung member's socket: applied once when it woke up, or never.
    const written = await writer.get(`${k}write`);
    assert.ok(written === undefined || written.version === 1n, `version ${written?.version}`);
  });

  test("a member that answers pings but has lost its quorum is asked, not declared dead", async () => {
    const [alive, ...stopped] = cluster.members as [Member, Member, Member];
    // This client's own connection events (the channels carry every client's).
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const logger = { debug: log, info: log, warn: log, error: log };
    await using etcd = new Etcd({ ...testClientOptions(), endpoints: [alive.clientUrl], logger });
    await etcd.get("warm");
    for (const member of stopped) member.pause();
    try {
      // Without a quorum the member would answer only when etcd's own request timeout passes
      // (7 s), its pings answered all along. Asked whether it has a leader, it says it has none:
      // the write fails then, its outcome unknown (it may have been passed on before).
      const put = await timed("put on a member without quorum", etcd.put("slow/k", "v"));
      assert.ok(put.error instanceof OutcomeUnknownError, `got ${String(put.error)}`);
      assert.ok(!(put.error instanceof TimeoutError));
      assert.ok(causeCodes(put.error).includes("ETCD_MEMBER_LEADERLESS"), String(put.error));
      assert.ok(!causeCodes(put.error).includes("ETCD_MEMBER_HUNG"), "not declared hung");
      assert.deepEqual(
        lines.filter((line) => /closed/.test(line)),
        [],
        "the connection stayed up",
      );
    } finally {
      await heal();
    }
  });
});
