/**
 * Network partitions in the harness, each cut kind asserted by what real etcd does behind it.
 * The members run in network namespaces of the test's own making (`NetworkLab`); the test process
 * reaches them from the root namespace through one veth into the lab's bridge. Skipped, with the
 * reason, where namespaces cannot be made (not root, no `ip` or `nft`).
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { after, afterEach, before, describe, test } from "node:test";
import {
  Etcd,
  EtcdError,
  OutcomeUnknownError,
  TimeoutError,
  UnavailableError,
} from "../../src/index.ts";
import { testClientOptions, uniquePrefix } from "../support/index.ts";
import { LabCluster } from "../support/network/lab-cluster.ts";
import {
  CLIENT,
  NetworkLab,
  networkLabUnavailable,
  sweepStaleLabs,
} from "../support/network/network-lab.ts";

const skip = networkLabUnavailable();
const CALL_TIMEOUT_MS = 3_000;

function client(endpoints: string[], clients: Etcd[]): Etcd {
  const etcd = new Etcd({
    ...testClientOptions(),
    endpoints,
    timeoutMs: CALL_TIMEOUT_MS,
    dialTimeoutMs: 1_000,
  });
  clients.push(etcd);
  return etcd;
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    (value) => assert.fail(`expected a failure, got ${JSON.stringify(String(value))}`),
    (error: unknown) => error,
  );
}

function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

function namespaces(): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter(Boolean);
}

describe("partitions of a 3-member cluster", { skip }, () => {
  let cluster: LabCluster;
  const clients: Etcd[] = [];
  const p = uniquePrefix("partitions");
  before(async () => {
    cluster = await LabCluster.start({ size: 3 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await cluster.lab.heal();
    await cluster.waitHealthy(60_000);
    await cluster.waitLeader();
  });
  after(async () => {
    await cluster?.stop();
  });

  test("an isolated follower loses quorum: its linearizable reads fail, the majority serves", async () => {
    const leader = await cluster.waitLeader();
    const victim = cluster.members.find((m) => m !== leader);
    assert.ok(victim);
    const all = client(cluster.endpoints, clients);
    await all.put(`${p}iso`, "before");
    const there = client([victim.clientUrl], clients);
    assert.equal((await there.get(`${p}iso`))?.text, "before");

    await cluster.lab.isolate(victim.name);
    const majority = client(
      cluster.members.filter((m) => m !== victim).map((m) => m.clientUrl),
      clients,
    );
    await majority.put(`${p}iso`, "during");
    assert.equal((await majority.get(`${p}iso`))?.text, "during");
    // The client still reaches the isolated member: a serializable read answers from its own
    // (stale) copy, a linearizable one needs the quorum it has lost.
    assert.equal((await there.get(`${p}iso`, { serializable: true }))?.text, "before");
    const error = await failure(there.get(`${p}iso`, { retry: false }));
    assert.ok(error instanceof EtcdError, String(error));

    await cluster.lab.heal();
    // Healed, it catches up.
    for (;;) {
      const seen = await there.get(`${p}iso`).catch(() => undefined);
      if (seen?.text === "during") break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  test("an isolated leader is replaced; the old one serves nothing linearizable", async () => {
    const old = await cluster.waitLeader();
    const rest = cluster.members.filter((m) => m !== old);
    const there = client([old.clientUrl], clients);
    await cluster.lab.isolate(old.name);
    const next = await cluster.waitLeader(30_000, rest);
    assert.notEqual(next, old);
    const majority = client(
      rest.map((m) => m.clientUrl),
      clients,
    );
    await majority.put(`${p}leader`, "new");
    const error = await failure(there.put(`${p}leader`, "stale", { retry: false }));
    assert.ok(error instanceof EtcdError, String(error));
    const read = await failure(there.get(`${p}leader`, { retry: false }));
    assert.ok(read instanceof EtcdError, String(read));
    await cluster.lab.heal();
    await cluster.waitHealthy(60_000);
    // The stale leader's put never committed: the majority's value stands.
    assert.equal((await majority.get(`${p}leader`))?.text, "new");
  });

  test("default options: calls on an isolated member do not wait for etcd's request timeout", async () => {
    // The member answers pings, so it does not look hung; asked, it says it has no leader.
    const leader = await cluster.waitLeader();
    const victim = cluster.members.find((m) => m !== leader);
    assert.ok(victim);
    const etcd = new Etcd({ ...testClientOptions(), endpoints: cluster.endpoints });
    clients.push(etcd);
    await Promise.all(cluster.members.map((_, i) => etcd.put(`${p}def${i}`, "0")));
    await cluster.lab.isolate(victim.name);
    const puts = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => etcd.put(`${p}def${i}`, "1")),
    );
    const gets = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => etcd.get(`${p}def${i}`)),
    );
    const failed = puts.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    assert.ok(failed.length > 0, "some puts went to the isolated member");
    for (const error of failed) {
      assert.ok(error instanceof OutcomeUnknownError, String(error));
      assert.ok(causeCodes(error).includes("ETCD_MEMBER_LEADERLESS"), String(error));
    }
    assert.deepEqual(
      gets.map((r) => r.status),
      gets.map(() => "fulfilled"),
      "every read was answered, by another member",
    );
  });

  test("one-way, member to client: requests arrive and are applied, answers are lost", async () => {
    const victim = cluster.members[0];
    assert.ok(victim);
    const there = client([victim.clientUrl], clients);
    await there.put(`${p}oneway`, "0"); // the connection is up before the cut
    await cluster.lab.cut(victim.name, CLIENT, "one-way");
    const error = await failure(there.put(`${p}oneway`, "1", { retry: false }));
    assert.ok(
      error instanceof OutcomeUnknownError || error instanceof TimeoutError,
      `a put whose answer is lost has an unknown outcome: ${String(error)}`,
    );
    const others = client(
      cluster.members.filter((m) => m !== victim).map((m) => m.clientUrl),
      clients,
    );
    assert.equal((await others.get(`${p}oneway`))?.text, "1", "the request got through");
  });

  test("one-way, client to member: requests are lost, nothing is applied", async () => {
    const victim = cluster.members[1];
    assert.ok(victim);
    const there = client([victim.clientUrl], clients);
    await there.put(`${p}lost`, "0");
    await cluster.lab.cut(CLIENT, victim.name, "one-way");
    const error = await failure(there.put(`${p}lost`, "1", { retry: false }));
    assert.ok(error instanceof UnavailableError || error instanceof TimeoutError, String(error));
    const others = client(
      cluster.members.filter((m) => m !== victim).map((m) => m.clientUrl),
      clients,
    );
    assert.equal((await others.get(`${p}lost`))?.text, "0", "the request never arrived");
  });

  test("the client cut from two members but not the third still reads and writes", async () => {
    const [a, b, c] = cluster.members;
    assert.ok(a && b && c);
    const all = client(cluster.endpoints, clients);
    await all.put(`${p}cut`, "0");
    await cluster.lab.cut(CLIENT, a.name);
    await cluster.lab.cut(CLIENT, b.name);
    const onlyCut = client([a.clientUrl, b.clientUrl], clients);
    const error = await failure(onlyCut.get(`${p}cut`));
    assert.ok(error instanceof UnavailableError || error instanceof TimeoutError, String(error));
    // The members still form a cluster among themselves: the write through c commits.
    await all.put(`${p}cut`, "1");
    assert.equal((await all.get(`${p}cut`))?.text, "1");
    await cluster.lab.heal();
    assert.equal((await onlyCut.get(`${p}cut`))?.text, "1");
  });
});

describe("a minority split from the majority (5 members)", { skip }, () => {
  test("the majority elects a leader and serves; the minority of two serves nothing", async () => {
    await using cluster = await LabCluster.start({ size: 5 });
    const clients: Etcd[] = [];
    try {
      const leader = await cluster.waitLeader();
      const minority = [leader, cluster.members.find((m) => m !== leader)].filter(
        (m) => m !== undefined,
      );
      const majority = cluster.members.filter((m) => !minority.includes(m));
      await cluster.lab.split(
        minority.map((m) => m.name),
        majority.map((m) => m.name),
      );
      const next = await cluster.waitLeader(30_000, majority);
      assert.ok(majority.includes(next));
      const p = uniquePrefix("split");
      const big = client(
        majority.map((m) => m.clientUrl),
        clients,
      );
      await big.put(`${p}k`, "majority");
      assert.equal((await big.get(`${p}k`))?.text, "majority");
      const small = client(
        minority.map((m) => m.clientUrl),
        clients,
      );
      const error = await failure(small.put(`${p}k`, "minority", { retry: false }));
      assert.ok(error instanceof EtcdError, String(error));
      const read = await failure(small.get(`${p}k`));
      assert.ok(read instanceof EtcdError, String(read));
      await cluster.lab.heal();
      await cluster.waitHealthy(60_000);
      assert.equal((await small.get(`${p}k`))?.text, "majority");
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

describe("the lab cleans up after itself", { skip }, () => {
  test("close() removes its namespaces", async () => {
    const lab = await NetworkLab.create(["a", "b"]);
    const made = [lab.namespace("a"), lab.namespace("b")];
    assert.ok(made.every((n) => namespaces().includes(n)));
    lab.close();
    assert.deepEqual(
      made.filter((n) => namespaces().includes(n)),
      [],
    );
  });

  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    test(`a process ended by ${signal} leaves nothing behind${signal === "SIGKILL" ? " once the next lab sweeps" : ""}`, async () => {
      const script = `
        import { NetworkLab } from ${JSON.stringify(new URL("../support/network/network-lab.ts", import.meta.url).pathname)};
        const lab = await NetworkLab.create(["x"]);
        console.log(lab.namespace("x"));
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const name = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding("utf8");
        child.stdout.once("data", (line: string) => resolve(line.trim()));
        child.once("exit", (code) => reject(new Error(`child exited ${code}`)));
      });
      assert.ok(namespaces().includes(name), `${name} made`);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
      if (signal === "SIGKILL") {
        assert.ok(namespaces().includes(name), "nothing ran on SIGKILL");
        sweepStaleLabs();
      }
      assert.ok(!namespaces().includes(name), `${name} removed`);
    });
  }
});
