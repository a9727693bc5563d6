/**
 * The `etcd-connect` command against real etcd, side by side with etcdctl: where the formats
 * overlap (get/put/del/txn simple output, -w json fields, lease, member, endpoint, auth
 * commands) both must print the same bytes; errors are one line with the error class, gRPC code
 * and etcd's message, with etcdctl's exit codes.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { all, Etcd, prefix } from "../../src/index.ts";
import { CliProcess, runCli } from "../support/cli.ts";
import {
  CLI_ON_DENO,
  etcdctl,
  etcdutl,
  requireEtcdctl,
  settledStatus,
  spawnEtcdctl,
  testClientOptions,
  uniquePrefix,
  unsupportedOn,
  useEtcd,
} from "../support/index.ts";

// Our formats are etcdctl 3.7.1's (and etcdutl 3.7.1's), compared on every server line.
before(() => requireEtcdctl("3.7.1"));
const cliSkip = unsupportedOn({ deno: CLI_ON_DENO });
const fx = useEtcd();
const dir = mkdtempSync(join(tmpdir(), "etcd-connect-cli-"));
let client: Etcd | undefined;
/** The library client, opened on first use (suites' hooks may run before the file's). */
const etcd = new Proxy({} as Etcd, {
  get(_, name) {
    client ??= new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
    const value = Reflect.get(client, name, client);
    return typeof value === "function" ? value.bind(client) : value;
  },
});

after(async () => {
  await client?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Our command; fails the test on a non-zero exit unless `allowFailure`. */
async function ours(args: string[], input?: string): Promise<string> {
  const run = await runCli(fx.endpoints, args, input === undefined ? {} : { input });
  assert.equal(run.code, 0, `etcd-connect ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return run.stdout.toString("utf8");
}

async function theirs(args: string[], input?: string): Promise<string> {
  const run = await etcdctl(fx.endpoints, args, input === undefined ? {} : { input });
  return run.stdout.toString("utf8");
}

/** Runs the same command with both tools and checks the output is identical. */
async function same(args: string[], input?: string): Promise<string> {
  const a = await ours(args, input);
  const b = await theirs(args, input);
  assert.equal(a, b, `etcd-connect and etcdctl differ on: ${args.join(" ")}`);
  return a;
}

/**
 * JSON without revisions and versions (they move between two runs of the same write), with etcdctl 3.4's
 * names for txn responses ("ResponseRange") written as 3.5 writes them ("response_range").
 */
function withoutRevision(text: string): unknown {
  return JSON.parse(text, function (name, value) {
    if (/revision/.test(name) || name === "version") return undefined;
    if (/^Response[A-Z]/.test(name)) {
      const snake = name.replace(/[A-Z]/g, (c, i) => `${i > 0 ? "_" : ""}${c.toLowerCase()}`);
      this[snake] = value;
      return undefined;
    }
    return value;
  });
}

async function seed(root: string, entries: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(entries)) await etcd.put(root + k, v);
}

describe("key-value commands print what etcdctl prints", { skip: cliSkip }, () => {
  const root = uniquePrefix("cli-kv");
  let seeded: Promise<void> | undefined;
  const ready = () => {
    seeded ??= seed(root, { a: "1", b: "two", c: "three\nlines", d: "", e: "é" });
    return seeded;
  };

  test("get: single key, prefix, range, from-key, limit, keys-only, print-value-only, sort", async () => {
    await ready();
    await same(["get", `${root}a`]);
    await same(["get", `${root}missing`]);
    await same(["get", "--prefix", root]);
    await same(["get", `${root}b`, `${root}d`]);
    await same(["get", "--from-key", `${root}c`, "--limit", "2"]);
    await same(["get", "--prefix", root, "--keys-only"]);
    await same(["get", "--prefix", root, "--print-value-only"]);
    await same(["get", "--prefix", root, "--sort-by=VALUE", "--order=DESCEND"]);
    await same(["get", "--prefix", root, "--order", "DESCEND"]);
    await same(["get", "--prefix", root, "--consistency=s", "--limit=1"]);
    const rev = (await etcd.get(`${root}a`))?.modRevision;
    await same(["get", `${root}a`, `--rev=${rev}`]);
  });

  test("get -w json: the same document", async () => {
    await ready();
    await same(["get", "--prefix", root, "-w", "json"]);
    await same(["get", "--prefix", root, "--limit=2", "--keys-only", "-w", "json"]);
    await same(["get", `${root}missing`, "-w", "json"]);
  });

  test("put: OK, --prev-kv, value from stdin, --lease; etcdctl reads what we wrote", async () => {
    await ready();
    const a = await ours(["put", `${root}p1`, "v1"]);
    const b = await theirs(["put", `${root}p2`, "v1"]);
    assert.equal(a, "OK\n");
    assert.equal(a, b);
    assert.equal(
      await ours(["put", `${root}p1`, "v2", "--prev-kv"]),
      // The whole key: the random prefix may hold "p2" as well.
      await theirs(["put", `${root}p2`, "v2", "--prev-kv"]).then((s) =>
        s.replace(`${root}p2`, `${root}p1`),
      ),
    );
    assert.equal(await ours(["put", `${root}stdin`], "from\nstdin\n"), "OK\n");
    const stored = await etcdctl(fx.endpoints, ["get", `${root}stdin`, "--print-value-only"]);
    assert.equal(stored.stdout.toString("utf8"), "from\nstdin\n\n");
    const lease = await etcd.lease.grant(60);
    try {
      await ours(["put", `${root}leased`, "x", `--lease=${lease.id.toString(16)}`]);
      assert.equal((await etcd.get(`${root}leased`))?.lease, lease.id);
    } finally {
      await lease.revoke();
    }
    assert.deepEqual(
      withoutRevision(await ours(["put", `${root}p1`, "v3", "--prev-kv", "-w", "json"])),
      withoutRevision(
        (await theirs(["put", `${root}p2`, "v3", "--prev-kv", "-w", "json"])).replaceAll(
          Buffer.from(`${root}p2`).toString("base64"),
          Buffer.from(`${root}p1`).toString("base64"),
        ),
      ),
    );
  });

  test("del: count, --prev-kv, --prefix, a range, json", async () => {
    await ready();
    const keys = { x1: "a", x2: "b", x3: "c" };
    for (const args of [
      ["del", `${root}x1`],
      ["del", `${root}nothing`],
      ["del", "--prefix", `${root}x`, "--prev-kv"],
      ["del", `${root}x2`, `${root}x9`, "--prev-kv"],
    ]) {
      await seed(root, keys);
      const a = await ours(args);
      await seed(root, keys);
      assert.equal(a, await theirs(args), args.join(" "));
    }
    const json = ["del", "--prefix", `${root}x`, "--prev-kv", "-w", "json"];
    await seed(root, keys);
    const a = await ours(json);
    await seed(root, keys);
    assert.deepEqual(withoutRevision(a), withoutRevision(await theirs(json)));
  });

  test("txn: the same input gives the same output, in simple and json", async () => {
    await ready();
    const input = [
      `value("${root}a") = "1"`,
      `version("${root}b") > "0"`,
      "",
      `put ${root}t "from txn"`,
      `get ${root}a`,
      `del ${root}nothing`,
      "",
      `get ${root}b`,
      "",
      "",
    ].join("\n");
    await same(["txn"], input);
    const failing = input.replace('= "1"', '= "nope"');
    await same(["txn"], failing);
    const a = await ours(["txn", "-w", "json"], failing);
    const b = await theirs(["txn", "-w", "json"], failing);
    assert.deepEqual(withoutRevision(a), withoutRevision(b));
    assert.equal((await etcd.get(`${root}t`))?.text, "from txn");
  });

  test("txn input errors exit 3 with one line, like etcdctl", async () => {
    await ready();
    const run = await runCli(fx.endpoints, ["txn"], { input: "bogus\n\n\n\n" });
    const ctl = await etcdctl(fx.endpoints, ["txn"], {
      input: "bogus\n\n\n\n",
      allowFailure: true,
    });
    assert.equal(run.code, 3);
    assert.equal(ctl.code, 3);
    assert.equal(run.stderr, "Error: malformed comparison: bogus\n");
  });
});

describe("errors and exit codes", { skip: cliSkip }, () => {
  test("an etcd error is one line: class, gRPC code, etcd's message; exit 1", async () => {
    const root = uniquePrefix("cli-err");
    const first = await etcd.put(`${root}k`, "1");
    await etcd.put(`${root}k`, "2");
    await etcd.compact(first.revision + 1n);
    const run = await runCli(fx.endpoints, ["get", `${root}k`, `--rev=${first.revision}`]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "Error: CompactedError (OutOfRange): etcdserver: mvcc: required revision has been compacted\n",
    );
    assert.equal(run.stdout.length, 0);
  });

  test("wrong arguments and unknown flags exit 128 with one line", async () => {
    for (const args of [["get"], ["put"], ["get", "--bogus", "k"], ["nope"], ["lease"]]) {
      const run = await runCli(fx.endpoints, args);
      assert.equal(run.code, 128, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^Error: [^\n]+\n$/, args.join(" "));
    }
  });

  test("no reachable endpoint exits 2 with one line", async () => {
    const run = await runCli(["127.0.0.1:1"], ["get", "k", "--dial-timeout=500ms"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^Error: UnavailableError \(Unavailable\): [^\n]+\n$/);
  });

  test("ETCD_ENDPOINTS is used when --endpoints is not given", async () => {
    const key = `${uniquePrefix("cli-env")}k`;
    await etcd.put(key, "env");
    const run = await runCli([], ["get", key, "--print-value-only"], {
      env: { ETCD_ENDPOINTS: fx.endpoints.join(",") },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.toString(), "env\n");
  });

  test("--help lists the commands and exits 0", async () => {
    const run = await runCli([], ["--help"]);
    assert.equal(run.code, 0);
    for (const command of ["get", "put", "del", "txn", "lease grant", "member list", "defrag"]) {
      assert.match(run.stdout.toString(), new RegExp(`\\n  ${command} `));
    }
  });
});

describe("watch, lock and elect", { skip: cliSkip }, () => {
  test("watch --rev replays and then follows, printing what etcdctl's watch prints", async () => {
    const root = uniquePrefix("cli-watch");
    const first = await etcd.put(`${root}a`, "1");
    await etcd.put(`${root}a`, "2");
    await etcd.put(`${root}b`, "x");
    await etcd.delete(`${root}a`);
    const args = ["watch", "--prefix", root, `--rev=${first.revision}`, "--prev-kv"];
    const ourWatch = new CliProcess(fx.endpoints, args);
    const theirWatch = spawnEtcdctl(fx.endpoints, args);
    let watchExit: number | null = null;
    const jsonWatch = new CliProcess(fx.endpoints, [
      "watch",
      root,
      "--prefix",
      `--rev=${first.revision}`,
      "-w",
      "json",
    ]);
    try {
      // 4 replayed events (the delete with its previous value), then one live put.
      const replayed = 3 + 5 + 3 + 5;
      assert.deepEqual(await ourWatch.waitLines(replayed), await theirWatch.waitLines(replayed));
      await etcd.put(`${root}c`, "live");
      const all = replayed + 3;
      assert.deepEqual(await ourWatch.waitLines(all), await theirWatch.waitLines(all));
      assert.deepEqual(ourWatch.lines.slice(-3), ["PUT", `${root}c`, "live"]);
      const batches = (await jsonWatch.waitLines(5)).map((l) => JSON.parse(l));
      assert.deepEqual(
        batches.map((b) => b.Events.map((e: { type?: number }) => e.type ?? 0)),
        [[0], [0], [0], [1], [0]],
      );
      assert.equal(batches[0].Events[0].kv.mod_revision, Number(first.revision));
    } finally {
      await theirWatch.stop();
      await jsonWatch.stop();
      watchExit = await ourWatch.stop();
    }
    assert.equal(watchExit, 0, ourWatch.stderr);
  });

  test("watch from a compacted revision fails with one line", async () => {
    const key = `${uniquePrefix("cli-watch-compacted")}k`;
    const first = await etcd.put(key, "1");
    const second = await etcd.put(key, "2");
    await etcd.compact(second.revision);
    const run = await runCli(fx.endpoints, ["watch", key, `--rev=${first.revision}`]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "Error: WatchCompactedError (OutOfRange): etcdserver: mvcc: required revision has been compacted\n",
    );
  });

  test("lock excludes etcdctl's lock until Ctrl-C, then etcdctl gets it", async () => {
    const name = uniquePrefix("cli-lock").slice(0, -1);
    const ours = new CliProcess(fx.endpoints, ["lock", name]);
    let theirs: ReturnType<typeof spawnEtcdctl> | undefined;
    try {
      const [ourKey] = await ours.waitLines(1);
      theirs = spawnEtcdctl(fx.endpoints, ["lock", name]);
      assert.match(ourKey ?? "", new RegExp(`^${name}/[0-9a-f]+$`));
      // Wait until etcdctl's waiting key exists: it was created after ours, so it must wait.
      for (;;) {
        const { kvs } = await etcd.range(prefix(`${name}/`));
        if (kvs.length === 2) {
          assert.equal(kvs[0]?.keyText, ourKey);
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(theirs.lines.length, 0, "etcdctl took a lock we hold");
      assert.equal(await ours.stop(), 0, ours.stderr);
      const [theirKey] = await theirs.waitLines(1);
      assert.match(theirKey ?? "", new RegExp(`^${name}/[0-9a-f]+$`));
      assert.notEqual(theirKey, ourKey);
    } finally {
      await ours.stop();
      await theirs?.stop();
    }
    assert.equal((await etcd.range(prefix(`${name}/`))).kvs.length, 0);
  });

  test("lock runs a command holding the lock and passes on its exit code", async () => {
    const name = uniquePrefix("cli-lock-exec").slice(0, -1);
    const script =
      'process.stdout.write(process.env.ETCD_LOCK_KEY + " " + process.env.ETCD_LOCK_FENCING_TOKEN); process.exit(7)';
    const run = await runCli(fx.endpoints, ["lock", name, "--", process.execPath, "-e", script]);
    assert.equal(run.code, 7, run.stderr);
    const [key, token] = run.stdout.toString().split(" ");
    assert.match(key ?? "", new RegExp(`^${name}/[0-9a-f]+$`));
    assert.ok(BigInt(token ?? "0") > 0n);
    assert.equal((await etcd.range(prefix(`${name}/`))).kvs.length, 0, "lock released");
  });

  test("elect: our leader, etcdctl's candidate and observers agree; Ctrl-C hands over", async () => {
    const name = uniquePrefix("cli-elect").slice(0, -1);
    const observer = new CliProcess(fx.endpoints, ["elect", name, "--listen"]);
    const theirObserver = spawnEtcdctl(fx.endpoints, ["elect", "-l", name]);
    const leader = new CliProcess(fx.endpoints, ["elect", name, "host-a"]);
    let candidate: ReturnType<typeof spawnEtcdctl> | undefined;
    let observerExit: number | null = null;
    try {
      const [leaderKey, value] = await leader.waitLines(2);
      assert.equal(value, "host-a");
      assert.deepEqual(await observer.waitLines(2), [leaderKey, "host-a"]);
      assert.deepEqual(await theirObserver.waitLines(2), [leaderKey, "host-a"]);
      candidate = spawnEtcdctl(fx.endpoints, ["elect", name, "host-b"]);
      for (;;) {
        if ((await etcd.range(prefix(`${name}/`))).kvs.length === 2) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(candidate.lines.length, 0, "etcdctl elected while we lead");
      assert.equal(await leader.stop(), 0, leader.stderr);
      const [newKey, newValue] = await candidate.waitLines(2);
      assert.equal(newValue, "host-b");
      assert.deepEqual((await observer.waitLines(4)).slice(2), [newKey, "host-b"]);
      assert.deepEqual((await theirObserver.waitLines(4)).slice(2), [newKey, "host-b"]);
    } finally {
      await leader.stop();
      await candidate?.stop();
      await theirObserver.stop();
      observerExit = await observer.stop();
    }
    assert.equal(observerExit, 0, observer.stderr);
  });
});

describe("lease commands", { skip: cliSkip }, () => {
  test("grant, timetolive --keys, keep-alive --once, list, revoke agree with etcdctl", async () => {
    const root = uniquePrefix("cli-lease");
    const granted = await ours(["lease", "grant", "120"]);
    const match = /^lease ([0-9a-f]{16}) granted with TTL\(120s\)\n$/.exec(granted);
    assert.ok(match, granted);
    const id = match[1] ?? "";
    await etcd.put(`${root}k`, "v", { lease: BigInt(`0x${id}`) });
    const normalize = (s: string) => s.replace(/remaining\(\d+s\)/, "remaining(Ns)");
    assert.equal(
      normalize(await ours(["lease", "timetolive", id, "--keys"])),
      normalize(await theirs(["lease", "timetolive", id, "--keys"])),
    );
    assert.equal(
      await ours(["lease", "keep-alive", "--once", id]),
      await theirs(["lease", "keep-alive", "--once", id]),
    );
    const ourList = (await ours(["lease", "list"])).split("\n").slice(1).sort();
    const theirList = (await theirs(["lease", "list"])).split("\n").slice(1).sort();
    assert.deepEqual(ourList, theirList);
    assert.ok(ourList.includes(id));
    const ttlJson = JSON.parse(await ours(["lease", "timetolive", id, "-w", "json"]));
    const ctlJson = JSON.parse(await theirs(["lease", "timetolive", id, "-w", "json"]));
    assert.deepEqual(Object.keys(ttlJson), Object.keys(ctlJson));
    assert.equal(await ours(["lease", "revoke", id]), `lease ${id} revoked\n`);
    assert.equal(await theirs(["lease", "timetolive", id]), `lease ${id} already expired\n`);
    assert.equal(await ours(["lease", "timetolive", id]), `lease ${id} already expired\n`);
    assert.equal(await etcd.get(`${root}k`), undefined);
    const again = await runCli(fx.endpoints, ["lease", "revoke", id]);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      "Error: LeaseNotFoundError (NotFound): etcdserver: requested lease not found\n",
    );
  });
});

describe("cluster and maintenance commands", { skip: cliSkip }, () => {
  test("member list: simple, table and json are etcdctl's", async () => {
    await same(["member", "list"]);
    await same(["member", "list", "-w", "table"]);
    await same(["member", "list", "-w", "json"]);
  });

  test("member add --learner, promote refused, remove", async () => {
    const peer = "http://127.0.0.1:1";
    const added = await ours(["member", "add", "newbie", `--peer-urls=${peer}`, "--learner"]);
    const match = /^Member +([0-9a-f]+) added as learner to cluster +([0-9a-f]+)\n\n/.exec(added);
    assert.ok(match, added);
    assert.match(added, /\nETCD_NAME="newbie"\n/);
    assert.match(added, new RegExp(`\\nETCD_INITIAL_CLUSTER=".*newbie=${peer}.*"\\n`));
    assert.match(added, /\nETCD_INITIAL_CLUSTER_STATE="existing"\n$/);
    const id = match[1] ?? "";
    const listed = await theirs(["member", "list"]);
    assert.match(listed, new RegExp(`^${id}, unstarted, , ${peer}, , true$`, "m"));
    const promote = await runCli(fx.endpoints, ["member", "promote", id]);
    assert.equal(promote.code, 1);
    assert.match(promote.stderr, /^Error: MembershipError \([A-Za-z]+\): etcdserver: [^\n]+\n$/);
    const removed = await ours(["member", "remove", id]);
    assert.match(removed, new RegExp(`^Member +${id} removed from cluster +[0-9a-f]+\\n$`));
    assert.doesNotMatch(await theirs(["member", "list"]), new RegExp(id));
  });

  test("endpoint status: etcdctl 3.7's columns and values (sizes and raft positions aside)", async () => {
    const { version } = await settledStatus(etcd);
    const since36 = Number(version.split(".")[1]) >= 6;
    // Endpoint, ID, version, storage version, quota, leader, learner, term, errors, downgrade
    // target and enabled: the cells that do not move between two calls.
    const stable = (cells: string[]) => [0, 1, 2, 3, 7, 8, 9, 10, 13, 14, 15].map((i) => cells[i]);
    const a = (await ours(["endpoint", "status"])).trimEnd().split(", ");
    const b = (await theirs(["endpoint", "status"])).trimEnd().split(", ");
    assert.equal(a.length, 16);
    assert.deepEqual(stable(a), stable(b));
    // A member before 3.6 reports no storage version, quota or downgrade state.
    const [major, minor] = version.split(".");
    assert.deepEqual(
      stable(a).slice(2, 5),
      since36 ? [version, `${major}.${minor}.0`, "2.1 GB"] : [version, "", "0 B"],
    );
    assert.deepEqual(a.slice(14), ["", "false"]);
    assert.match(a[6] ?? "", /^\d+%$/);

    const tableA = (await ours(["endpoint", "status", "-w", "table"])).split("\n");
    const tableB = (await theirs(["endpoint", "status", "-w", "table"])).split("\n");
    assert.equal(tableA[1], tableB[1], "table header");
    assert.equal(tableA.length, tableB.length);
    assert.match(tableA[0] ?? "", /^┌[─┬]+┐$/);
    assert.match(tableA[2] ?? "", /^├[─┼]+┤$/);
    assert.match(tableA[4] ?? "", /^└[─┴]+┘$/);
    const row = (line = "") =>
      line
        .slice(1, -1)
        .split("│")
        .map((c) => c.trim());
    assert.deepEqual(stable(row(tableA[3])), stable(row(tableB[3])));

    const jsonA = JSON.parse(await ours(["endpoint", "status", "-w", "json"]));
    const jsonB = JSON.parse(await theirs(["endpoint", "status", "-w", "json"]));
    assert.deepEqual(Object.keys(jsonA[0]), Object.keys(jsonB[0]));
    assert.deepEqual(Object.keys(jsonA[0].Status), Object.keys(jsonB[0].Status));
    for (const field of ["version", "leader", "storageVersion", "dbSizeQuota", "downgradeInfo"]) {
      assert.deepEqual(jsonA[0].Status[field], jsonB[0].Status[field], field);
    }
    assert.deepEqual(jsonA[0].Status.downgradeInfo, since36 ? {} : undefined);
  });

  test("endpoint health: same sentence, table header and json fields", async () => {
    const pattern =
      /^(\S+) is healthy: successfully committed proposal: took = [\d.]+(ns|µs|ms|s)$/m;
    const ourText = await ours(["endpoint", "health"]);
    const a = pattern.exec(ourText);
    assert.ok(a && ourText.split("\n").length === 2, `ours: ${ourText}`);
    const theirText = await theirs(["endpoint", "health"]);
    const b = pattern.exec(theirText);
    assert.ok(b, `etcdctl: ${theirText}`);
    assert.equal(a[1], b[1]);
    // The same table but for the time each took: same borders, header and other cells.
    const cells = (table: string) =>
      table.split("\n").map((line) =>
        /^│/.test(line)
          ? line
              .slice(1, -1)
              .split("│")
              .map((c) => c.trim())
              .filter((_, i) => i !== 2)
          : line.replace(/─+/g, "─"),
      );
    const tableA = await ours(["endpoint", "health", "-w", "table"]);
    const tableB = await theirs(["endpoint", "health", "-w", "table"]);
    assert.deepEqual(cells(tableA), cells(tableB));
    assert.deepEqual(cells(tableA)[3], [fx.endpoints[0], "true", ""]);
    const jsonA = JSON.parse(await ours(["endpoint", "health", "-w", "json"]));
    const jsonB = JSON.parse(await theirs(["endpoint", "health", "-w", "json"]));
    assert.deepEqual(Object.keys(jsonA[0]), Object.keys(jsonB[0]), JSON.stringify([jsonA, jsonB]));
    assert.equal(jsonA[0].health, true);
    const down = await runCli(["127.0.0.1:1"], ["endpoint", "health", "--dial-timeout=500ms"]);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /^127\.0\.0\.1:1 is unhealthy: failed to commit proposal: .+\n/);
  });

  test("compaction and defrag print etcdctl's lines", async () => {
    const { revision } = await etcd.put(`${uniquePrefix("cli-compact")}k`, "v");
    assert.equal(await ours(["compaction", String(revision)]), `compacted revision ${revision}\n`);
    // The same line but for the time it took.
    const took = (line: string) => line.replace(/\. took [\d.]+(ns|µs|ms|s)\n$/, ". took T\n");
    const defragged = await ours(["defrag"]);
    assert.equal(took(defragged), took(await theirs(["defrag"])));
    assert.equal(
      took(defragged),
      `Finished defragmenting etcd member[${fx.endpoints[0]}]. took T\n`,
    );
  });

  test("snapshot save writes a snapshot etcdutl can read", async () => {
    const path = join(dir, "snap.db");
    assert.equal(await ours(["snapshot", "save", path]), `Snapshot saved at ${path}\n`);
    assert.ok(statSync(path).size > 0);
    assert.ok(!existsSync(`${path}.part`));
    const status = await etcdutl(["snapshot", "status", path, "-w", "json"]);
    const parsed = JSON.parse(status.stdout.toString()) as { totalKey: number };
    assert.ok(parsed.totalKey > 0);
    const many = await runCli([...fx.endpoints, ...fx.endpoints], ["snapshot", "save", path]);
    assert.equal(many.code, 128);
  });
});

describe("auth commands", { skip: cliSkip }, () => {
  const user = `u${Date.now().toString(36)}`;
  const role = `r${Date.now().toString(36)}`;
  after(async () => {
    await etcd.auth.userDelete(user).catch(() => {});
    await etcd.auth.roleDelete(role).catch(() => {});
  });

  test("users and roles: add, grant, get, list, revoke, delete print etcdctl's lines", async () => {
    assert.equal(await ours(["role", "add", role]), `Role ${role} created\n`);
    assert.equal(await ours(["user", "add", `${user}:secret`]), `User ${user} created\n`);
    assert.equal(
      await ours(["role", "grant-permission", role, "read", "--prefix", "app/"]),
      `Role ${role} updated\n`,
    );
    await ours(["role", "grant-permission", role, "readwrite", "cfg/a"]);
    await ours(["role", "grant-permission", role, "write", "x", "z"]);
    await ours(["role", "grant-permission", role, "read", "--from-key", "m"]);
    assert.equal(
      await ours(["user", "grant-role", user, role]),
      `Role ${role} is granted to user ${user}\n`,
    );
    await same(["role", "get", role]);
    await same(["user", "get", user]);
    await same(["user", "get", user, "--detail"]);
    // Our auth facade returns no response header: compare the permissions.
    assert.deepEqual(
      JSON.parse(await ours(["role", "get", role, "-w", "json"])).perm,
      JSON.parse(await theirs(["role", "get", role, "-w", "json"])).perm,
    );
    const users = (await ours(["user", "list"])).split("\n");
    assert.ok(users.includes(user));
    assert.equal(await ours(["user", "list"]), await theirs(["user", "list"]));
    assert.equal(await ours(["role", "list"]), await theirs(["role", "list"]));
    assert.equal(
      await ours(["role", "revoke-permission", role, "--prefix", "app/"]),
      await theirs(["role", "grant-permission", role, "read", "--prefix", "app/"]).then(() =>
        theirs(["role", "revoke-permission", role, "--prefix", "app/"]),
      ),
    );
    assert.equal(
      await ours(["user", "revoke-role", user, role]),
      `Role ${role} is revoked from user ${user}\n`,
    );
    assert.equal(await ours(["user", "passwd", user], "newsecret\n"), "Password updated\n");
    assert.equal(await ours(["user", "delete", user]), `User ${user} deleted\n`);
    assert.equal(await ours(["role", "delete", role]), `Role ${role} deleted\n`);
    const missing = await runCli(fx.endpoints, ["user", "get", user]);
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      "Error: NotFoundError (FailedPrecondition): etcdserver: user name not found\n",
    );
  });
});

test("a range etcdctl wrote with binary-safe values reads back the same bytes", {
  skip: cliSkip,
}, async () => {
  const root = uniquePrefix("cli-bytes");
  await etcdctl(fx.endpoints, ["put", `${root}bin`], {
    input: Buffer.from([0, 1, 0xff, 10, 0xfe]),
  });
  const a = await runCli(fx.endpoints, ["get", `${root}bin`, "--print-value-only"]);
  const b = await etcdctl(fx.endpoints, ["get", `${root}bin`, "--print-value-only"]);
  assert.deepEqual(a.stdout, b.stdout);
  await etcd.delete(prefix(root));
});

describe("--hex prints keys and values as etcdctl --hex does", { skip: cliSkip }, () => {
  const root = uniquePrefix("cli-hex");
  const binary = Buffer.from([0, 1, 0x7f, 0x80, 0xff, 10]);

  test("get, put --prev-kv, del --prev-kv and txn; json stays base64", async () => {
    await etcd.put(`${root}bin`, binary);
    await etcd.put(`${root}empty`, "");
    await etcd.put(`${root}text`, "hé llo");
    const get = await same(["--hex", "get", "--prefix", root]);
    const hex = (bytes: Uint8Array) =>
      [...bytes].map((b) => `\\x${b.toString(16).padStart(2, "0")}`);
    assert.equal(
      get.split("\n")[1],
      hex(binary).join(""),
      "a value as \\x escapes, lowercase, two digits",
    );
    assert.doesNotMatch(get, /llo/);
    await same(["get", "--prefix", root, "--hex", "--print-value-only"]);
    await same(["get", "--prefix", root, "--hex", "--keys-only"]);
    assert.equal(
      await ours(["get", "--prefix", root, "--hex", "-w", "json"]),
      await ours(["get", "--prefix", root, "-w", "json"]),
    );
    await same(["get", "--prefix", root, "--hex", "-w", "json"]);
    const put = await ours(["put", `${root}text`, "v2", "--prev-kv", "--hex"]);
    assert.equal(
      put,
      `OK\n${hex(Buffer.from(`${root}text`)).join("")}\n${hex(Buffer.from("hé llo")).join("")}\n`,
    );
    assert.equal(
      await ours(["put", `${root}text`, "v3", "--prev-kv", "--hex"]),
      // Only the last line is the previous value: the random key prefix may hold "v3" too.
      (await theirs(["put", `${root}text`, "v2", "--prev-kv", "--hex"])).replace(
        /\\x76\\x33\n$/,
        "\\x76\\x32\n",
      ),
    );
    const txn = `\nput ${root}t x\nget ${root}bin\n\n\n`;
    await same(["--hex", "txn"], txn);
    await etcd.put(`${root}gone`, binary);
    const del = await ours(["--hex", "del", `${root}gone`, "--prev-kv"]);
    await etcd.put(`${root}gone`, binary);
    assert.equal(del, await theirs(["--hex", "del", `${root}gone`, "--prev-kv"]));
    assert.match(del, /^1\n(\\x[0-9a-f]{2})+\n(\\x[0-9a-f]{2})+\n$/);
  });

  test("watch --hex replays the same lines as etcdctl's", async () => {
    const key = `${root}w`;
    const first = await etcd.put(key, binary);
    await etcd.put(key, "second");
    await etcd.delete(key);
    const args = ["--hex", "watch", key, `--rev=${first.revision}`, "--prev-kv"];
    const ourWatch = new CliProcess(fx.endpoints, args);
    const theirWatch = spawnEtcdctl(fx.endpoints, args);
    try {
      // PUT, key, value; PUT, prev key, prev value, key, value; DELETE, prev key+value, key, "".
      const lines = 3 + 5 + 5;
      const ourLines = await ourWatch.waitLines(lines);
      assert.deepEqual(ourLines, await theirWatch.waitLines(lines));
      assert.equal(ourLines[2], "\\x00\\x01\\x7f\\x80\\xff\\x0a");
    } finally {
      await theirWatch.stop();
      await ourWatch.stop();
    }
  });
});

test("snapshot status reads a saved snapshot as etcdutl 3.7 does: hash, revision, live keys, size, version", {
  skip: cliSkip,
}, async () => {
  const root = uniquePrefix("cli-snapshot-status");
  // Enough data for branch pages, and a value spanning overflow pages.
  const value = "v".repeat(1000);
  for (let i = 0; i < 300; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => etcd.put(`${root}${i + j}`, value)));
  }
  await etcd.put(`${root}big`, new Uint8Array(200_000).fill(7));
  await etcd.delete(prefix(`${root}1`));
  const status = await settledStatus(etcd);
  const path = join(dir, "status.db");
  await ours(["snapshot", "save", path]);
  for (const format of ["simple", "json", "table"]) {
    const args = ["snapshot", "status", path, "-w", format];
    assert.equal(await ours(args), (await etcdutl(args)).stdout.toString(), args.join(" "));
  }
  const [hash, revision, keys, , version] = (await ours(["snapshot", "status", path]))
    .trimEnd()
    .split(", ");
  assert.match(hash ?? "", /^[0-9a-f]+$/);
  const everything = await etcd.range(all(), { countOnly: true });
  assert.equal(revision, String(everything.header.revision));
  // Keys alive in the store: the deleted ones are not counted.
  assert.equal(keys, String(everything.count));
  const [major, minor] = status.version.split(".");
  assert.equal(version ?? "", status.storageVersion ? `${major}.${minor}.0` : "");

  const junk = join(dir, "junk.db");
  writeFileSync(junk, "not a database\n".repeat(1000));
  for (const args of [
    ["snapshot", "status", junk],
    ["snapshot", "status", join(dir, "none.db")],
  ]) {
    const run = await runCli([], args);
    const ctl = await etcdutl(args, { allowFailure: true });
    assert.deepEqual([run.code, ctl.code], [1, 1], args.join(" "));
    assert.match(run.stderr, /^Error: [^\n]+\n$/);
  }
  assert.equal(
    (await runCli([], ["snapshot", "status", junk])).stderr,
    "Error: invalid database\n",
  );
  assert.equal((await runCli([], ["snapshot", "status"])).code, 128);
  await etcd.delete(prefix(root));
});

// Last in the file: enabling a downgrade lowers the cluster version (and then the storage
// version) for a few seconds, which the tests above would see.
test("downgrade validate, enable and cancel print etcdctl's lines; errors exit as etcdctl's", {
  skip: cliSkip,
}, async () => {
  const status = await etcd.maintenance.status();
  const [major = 0, minor = 0] = status.version.split(".").map(Number);
  const previous = `${major}.${minor - 1}`;
  const both = async (args: string[]) => {
    const run = await runCli(fx.endpoints, args);
    const ctl = await etcdctl(fx.endpoints, args, { allowFailure: true });
    return { ours: run, theirs: ctl };
  };
  // Argument errors, found before anything is sent.
  for (const args of [
    ["downgrade", "validate"],
    ["downgrade", "enable", "3.6", "3.5"],
    ["downgrade", "validate", ""],
  ]) {
    const run = await both(args);
    assert.deepEqual([run.ours.code, run.theirs.code], [128, 128], args.join(" "));
    assert.equal(run.ours.stderr, run.theirs.stderr.split("\n").at(-2)?.concat("\n"));
  }
  const malformed = await both(["downgrade", "validate", "bogus"]);
  assert.deepEqual([malformed.ours.code, malformed.theirs.code], [1, 1]);
  if (minor <= 4) {
    // 3.4 has no Downgrade RPC.
    assert.equal(
      malformed.ours.stderr,
      "Error: NotCapableError (Unimplemented): unknown method Downgrade for service etcdserverpb.Maintenance\n",
    );
    const table = await both(["downgrade", "validate", previous, "-w", "table"]);
    // etcdctl sends first and fails on the RPC; we refuse the format before sending.
    assert.deepEqual([table.ours.code, table.theirs.code], [4, 1]);
    return;
  }
  assert.equal(
    malformed.ours.stderr,
    "Error: DowngradeError (InvalidArgument): etcdserver: wrong downgrade target version format\n",
  );
  const table = await both(["downgrade", "validate", previous, "-w", "table"]);
  assert.deepEqual([table.ours.code, table.theirs.code], [4, 4]);
  assert.equal(table.ours.stderr, "Error: table not supported as output format\n");

  // The cluster version as it stands: 3.5 writes it with a patch, 3.6+ without.
  const cluster = minor >= 6 ? `${major}.${minor}` : `${major}.${minor}.0`;
  const validated = await same(["downgrade", "validate", previous]);
  assert.equal(validated, `Downgrade validate success, cluster version ${cluster}\n`);
  const json = await same(["downgrade", "validate", previous, "-w", "json"]);
  assert.equal(JSON.parse(json).version, cluster);
  assert.equal(JSON.parse(json).header.member_id, Number(status.memberId));

  if (minor < 6) {
    // etcd 3.5: no downgrade to cancel. (Its enable waits for binaries that never come.)
    const cancel = await both(["downgrade", "cancel"]);
    assert.deepEqual([cancel.ours.code, cancel.theirs.code], [1, 1]);
    assert.equal(
      cancel.ours.stderr,
      "Error: DowngradeError (FailedPrecondition): etcdserver: no inflight downgrade job\n",
    );
    return;
  }
  // 3.6+: enable with one tool, cancel with the other, and the other way round. Once enabled
  // the member lowers its cluster version to the target within seconds, so a line may name
  // either.
  // A cancel leaves the cluster version where the enable lowered it until the member raises it
  // again (within seconds): until then the previous minor is no valid target.
  const previousIsValidTarget = async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        await etcd.maintenance.downgradeValidate(previous);
        return;
      } catch (error) {
        if (attempt >= 150) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const line = (action: string) =>
    new RegExp(`^Downgrade ${action} success, cluster version (${cluster}|${previous})\\n$`);
  try {
    assert.match(await ours(["downgrade", "enable", previous]), line("enable"));
    assert.equal((await etcd.maintenance.status()).downgradeInfo.enabled, true);
    const again = await both(["downgrade", "enable", previous]);
    assert.deepEqual([again.ours.code, again.theirs.code], [1, 1]);
    // etcd checks the target against the cluster version first: once the member has lowered
    // the cluster version to the target (within seconds of the enable), the same target is an
    // invalid one; until then the job in progress is named.
    assert.match(
      again.ours.stderr,
      /^Error: DowngradeError \((FailedPrecondition\): etcdserver: cluster has a downgrade job in progress|InvalidArgument\): etcdserver: invalid downgrade target version)\n$/,
    );
    assert.match(await theirs(["downgrade", "cancel"]), line("cancel"));
    assert.equal((await etcd.maintenance.status()).downgradeInfo.enabled, false);
    await previousIsValidTarget();
    assert.match(await theirs(["downgrade", "enable", previous]), line("enable"));
    assert.equal((await etcd.maintenance.status()).downgradeInfo.targetVersion, `${previous}.0`);
  } finally {
    assert.match(await ours(["downgrade", "cancel"]), line("cancel"));
  }
  assert.equal((await etcd.maintenance.status()).downgradeInfo.enabled, false);
  // Nothing in progress: 3.6+ still answers success.
  assert.match(await ours(["downgrade", "cancel"]), line("cancel"));
});
