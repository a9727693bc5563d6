/**
 * The `etcd-connect` maintenance commands that need a cluster (alarm list/disarm, move-leader,
 * endpoint hashkv) against a real 3-member etcd, side by side with etcdctl: the same bytes on
 * stdout where the formats overlap, and the same exit codes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AlarmRequest_AlarmAction, AlarmType } from "../../gen/etcdserverpb/rpc_pb.ts";
import { Etcd } from "../../src/index.ts";
import { runCli } from "../support/cli.ts";
import {
  CLI_ON_DENO,
  etcdctl,
  requireEtcdctl,
  testClientOptions,
  uniquePrefix,
  unsupportedOn,
  useEtcd,
} from "../support/index.ts";

// Our formats are etcdctl 3.7.1's, compared on every server line.
before(() => requireEtcdctl("3.7.1"));
const cliSkip = unsupportedOn({ deno: CLI_ON_DENO });
const fx = useEtcd({ size: 3 });
let client: Etcd | undefined;

function etcd(): Etcd {
  client ??= new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
  return client;
}

after(async () => {
  await client?.close();
});

/** Both tools on the same endpoints and arguments: stdout, stderr and exit codes. */
async function both(args: string[], endpoints = fx.endpoints) {
  const ours = await runCli(endpoints, args);
  const theirs = await etcdctl(endpoints, args, { allowFailure: true });
  return {
    ours: { out: ours.stdout.toString(), err: ours.stderr, code: ours.code },
    theirs: { out: theirs.stdout.toString(), code: theirs.code },
  };
}

/** Our command's stdout; fails the test on a non-zero exit. */
async function ours(args: string[], endpoints = fx.endpoints): Promise<string> {
  const run = await runCli(endpoints, args);
  assert.equal(run.code, 0, `etcd-connect ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run.stdout.toString();
}

async function memberIds(): Promise<{ ids: bigint[]; leader: bigint }> {
  const statuses = await etcd().maintenance.statusAll();
  const ids = statuses.map((s) => s.status?.memberId ?? 0n);
  const leader = statuses.find((s) => s.status?.isLeader)?.status?.memberId;
  assert.ok(leader !== undefined && !ids.includes(0n), "every member answers, one leads");
  return { ids, leader };
}

async function raiseNoSpace(memberID: bigint): Promise<void> {
  await etcd().raw.maintenance.alarm({
    action: AlarmRequest_AlarmAction.ACTIVATE,
    memberID,
    alarm: AlarmType.NOSPACE,
  });
}

const sortedLines = (text: string) => text.split("\n").filter(Boolean).sort();

test("alarm list and alarm disarm print etcdctl's lines and JSON, with its exit codes", {
  skip: cliSkip,
}, async () => {
  const one = [fx.endpoints[0] ?? ""];
  const { ids } = await memberIds();
  const [a = 0n, b = 0n] = ids;
  try {
    let run = await both(["alarm", "list"]);
    assert.deepEqual([run.ours.out, run.ours.code], ["", 0]);
    assert.deepEqual([run.theirs.out, run.theirs.code], ["", 0]);
    run = await both(["alarm", "list", "-w", "json"], one);
    assert.equal(run.ours.out, run.theirs.out);
    assert.doesNotMatch(run.ours.out, /alarms/);

    await raiseNoSpace(a);
    run = await both(["alarm", "list"]);
    assert.equal(run.ours.out, `memberID:${a} alarm:NOSPACE\n`);
    assert.equal(run.ours.out, run.theirs.out);
    run = await both(["alarm", "list", "-w", "json"], one);
    assert.equal(run.ours.out, run.theirs.out);
    assert.deepEqual(JSON.parse(run.ours.out).alarms, [{ memberID: Number(a), alarm: 1 }]);
    const put = await runCli(fx.endpoints, ["put", `${uniquePrefix("cli-alarm")}k`, "v"]);
    assert.equal(put.code, 1);
    assert.match(put.stderr, /^Error: [^\n]*database space exceeded\n$/);

    // Two alarms: etcd lists them in no fixed order (a Go map), so compare the sets.
    await raiseNoSpace(b);
    run = await both(["alarm", "list"]);
    assert.deepEqual(sortedLines(run.ours.out), sortedLines(run.theirs.out));
    assert.equal(sortedLines(run.ours.out).length, 2);
    const disarmed = await ours(["alarm", "disarm"]);
    assert.deepEqual(sortedLines(disarmed), sortedLines(run.ours.out));
    assert.equal(await ours(["alarm", "list"]), "");
    await ours(["put", `${uniquePrefix("cli-alarm")}k`, "writable again"]);

    await raiseNoSpace(a);
    await raiseNoSpace(b);
    const theirs = await etcdctl(fx.endpoints, ["alarm", "disarm"]);
    assert.deepEqual(sortedLines(theirs.stdout.toString()), sortedLines(disarmed));
    await raiseNoSpace(a);
    assert.equal(
      await ours(["alarm", "disarm", "-w", "json"]),
      `{"alarms":[{"memberID":${a},"alarm":1}]}\n`,
    );
    run = await both(["alarm", "disarm", "-w", "json"]);
    assert.deepEqual([run.ours.out, run.theirs.out], ["{}\n", "{}\n"]);
    run = await both(["alarm", "disarm"]);
    assert.deepEqual([run.ours.out, run.theirs.out], ["", ""]);

    for (const args of [
      ["alarm", "list", "-w", "table"],
      ["alarm", "disarm", "-w", "table"],
    ]) {
      run = await both(args);
      assert.deepEqual([run.ours.code, run.theirs.code], [4, 4], args.join(" "));
      assert.equal(run.ours.err, "Error: table not supported as output format\n");
    }
    run = await both(["alarm", "list", "extra"]);
    assert.deepEqual([run.ours.code, run.theirs.code], [128, 128]);
  } finally {
    await etcd().maintenance.alarmDisarm();
  }
});

test("move-leader hands leadership over and prints etcdctl's line; errors exit as etcdctl's", {
  skip: cliSkip,
}, async () => {
  const hex = (id: bigint) => id.toString(16);
  const { ids, leader } = await memberIds();
  const follower = ids.find((id) => id !== leader) ?? 0n;
  assert.equal(
    await ours(["move-leader", hex(follower)]),
    `Leadership transferred from ${hex(leader)} to ${hex(follower)}\n`,
  );
  // The old leader has seen the transfer before answering; wait for every member to agree.
  for (;;) {
    const now = await memberIds();
    if (now.leader === follower) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const back = await etcdctl(fx.endpoints, ["move-leader", hex(leader)]);
  assert.equal(
    back.stdout.toString(),
    `Leadership transferred from ${hex(follower)} to ${hex(leader)}\n`,
  );
  for (;;) {
    const now = await memberIds();
    if (now.leader === leader) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // To the leader itself: nothing moves; the answer has no header.
  let run = await both(["move-leader", hex(leader), "-w", "json"]);
  assert.deepEqual([run.ours.out, run.ours.code], ["{}\n", 0]);
  assert.deepEqual([run.theirs.out, run.theirs.code], ["{}\n", 0]);

  const followerUrl = (await etcd().maintenance.statusAll()).find(
    (s) => s.status?.memberId === follower,
  )?.endpoint;
  assert.ok(followerUrl);
  const viaFollower = fx.endpoints.find((e) => followerUrl.endsWith(e.replace(/^\w+:\/\//, "")));
  run = await both(["move-leader", hex(leader)], [viaFollower ?? followerUrl]);
  assert.deepEqual([run.ours.code, run.theirs.code], [128, 128]);
  assert.equal(
    run.ours.err,
    `Error: no leader endpoint given at [${viaFollower ?? followerUrl}]\n`,
  );
  for (const args of [["move-leader"], ["move-leader", "zz"], ["move-leader", "1", "2"]]) {
    run = await both(args);
    assert.deepEqual([run.ours.code, run.theirs.code], [128, 128], args.join(" "));
    assert.match(run.ours.err, /^Error: [^\n]+\n$/);
  }
  run = await both(["move-leader", "1234"]);
  assert.deepEqual([run.ours.code, run.theirs.code], [1, 1]);
  assert.match(run.ours.err, /bad leader transferee/);
  // etcdctl moves, then refuses to print a table (exit 4); we refuse before moving.
  run = await both(["move-leader", hex(leader), "-w", "table"]);
  assert.deepEqual([run.ours.code, run.theirs.code], [4, 4]);
  assert.equal((await memberIds()).leader, leader);
});

test("endpoint hashkv: every member's hash, as etcdctl prints it in simple, json and table", {
  skip: cliSkip,
}, async () => {
  const root = uniquePrefix("cli-hashkv");
  await etcd().put(`${root}a`, "1");
  const { revision } = await etcd().put(`${root}b`, "2");
  await etcd().put(`${root}a`, "3");
  for (const args of [
    ["endpoint", "hashkv"],
    ["endpoint", "hashkv", "--cluster"],
    ["endpoint", "hashkv", `--rev=${revision}`, "-w", "json"],
    ["endpoint", "hashkv", "--rev", String(revision), "-w", "table"],
  ]) {
    const run = await both(args);
    assert.equal(run.ours.code, 0, run.ours.err);
    assert.equal(run.ours.out, run.theirs.out, args.join(" "));
  }
  const lines = (await ours(["endpoint", "hashkv", `--rev=${revision}`])).trimEnd().split("\n");
  assert.deepEqual(
    lines.map((l) => l.split(", ")[0]),
    fx.endpoints,
  );
  const hashes = new Set(lines.map((l) => l.split(", ")[1]));
  assert.equal(hashes.size, 1, "members agree at a revision");
  const latest = await ours(["endpoint", "hashkv", "--cluster"]);
  assert.ok(!latest.includes(`, ${[...hashes][0]}\n`), "a later revision hashes differently");

  const future = await both(["endpoint", "hashkv", `--rev=${revision + 1000n}`]);
  assert.deepEqual([future.ours.code, future.theirs.code], [1, 1]);
  assert.match(
    future.ours.err,
    /^Failed to get the hash of endpoint \S+ \(etcdserver: mvcc: required revision is a future revision\)\n/,
  );
});
