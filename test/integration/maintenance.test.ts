/**
 * Maintenance on a real 3-member cluster: status per endpoint, alarms, defragmentation, hashes,
 * leader transfer, and a snapshot of 10,000 keys saved to a file with progress, which etcd's
 * own tool (`etcdutl snapshot status`) accepts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { AlarmRequest_AlarmAction, AlarmType } from "../../gen/etcdserverpb/rpc_pb.ts";
import {
  CanceledError,
  Etcd,
  InvalidArgumentError,
  NoSpaceError,
  op,
  prefix,
  type SnapshotProgress,
} from "../../src/index.ts";
import {
  etcdutlBinary,
  etcdVersion,
  SNAPSHOT_ON_DENO,
  testClientOptions,
  unsupportedOn,
  useEtcd,
} from "../support/index.ts";

const fx = useEtcd({ size: 3 });
const ep = (i: number) => fx.endpoints[i] as string;

async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing`, { cause: error });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** `etcdutl snapshot status -w json` (etcdutl reads the files of every line). */
function snapshotStatus(file: string): { revision: number; totalKey: number; totalSize: number } {
  const out = execFileSync(etcdutlBinary(), ["snapshot", "status", file, "-w", "json"], {
    encoding: "utf8",
  });
  return JSON.parse(out);
}

describe("maintenance", () => {
  let etcd: Etcd;
  let dir: string;

  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 20_000 });
    dir = mkdtempSync(join(tmpdir(), "etcd-connect-snapshot-"));
  });

  after(async () => {
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("status per endpoint: each member answers for itself, one leader", async () => {
    const { members } = await etcd.cluster.memberList();
    const statuses = await etcd.maintenance.statusAll();
    assert.equal(statuses.length, 3);
    for (const s of statuses) {
      assert.equal(s.error, undefined);
      const status = s.status;
      assert.ok(status);
      const member = members.find((m) => m.clientUrls.includes(s.endpoint));
      assert.equal(status.memberId, member?.id, `${s.endpoint} answered for itself`);
      assert.equal(status.version, etcdVersion());
      assert.ok(status.dbSize > 0n);
      assert.ok(status.raftIndex > 0n);
      assert.equal(status.isLearner, false);
    }
    const leaders = new Set(statuses.map((s) => s.status?.leader));
    assert.equal(leaders.size, 1, "every member names the same leader");
    assert.equal(statuses.filter((s) => s.status?.isLeader).length, 1);

    const one = fx.endpoints[1] as string;
    assert.equal(
      (await etcd.maintenance.status({ endpoint: one })).memberId,
      members.find((m) => m.clientUrls.includes(one))?.id,
    );
    await assert.rejects(
      etcd.maintenance.status({ endpoint: "http://127.0.0.1:1" }),
      InvalidArgumentError,
    );
  });

  test("alarms: list, writes refused while NOSPACE is raised, disarm", async () => {
    const target = (await etcd.maintenance.status({ endpoint: ep(0) })).memberId;
    // Raise the alarm by hand (filling the quota would take long).
    await etcd.raw.maintenance.alarm({
      action: AlarmRequest_AlarmAction.ACTIVATE,
      memberID: target,
      alarm: AlarmType.NOSPACE,
    });
    try {
      const listed = await etcd.maintenance.alarmList();
      assert.deepEqual(listed.alarms, [{ memberId: target, alarm: "nospace" }]);
      await assert.rejects(etcd.put("alarm/k", "v"), NoSpaceError);
    } finally {
      const cleared = await etcd.maintenance.alarmDisarm();
      assert.deepEqual(cleared.alarms, [{ memberId: target, alarm: "nospace" }]);
    }
    assert.deepEqual((await etcd.maintenance.alarmList()).alarms, []);
    await etcd.put("alarm/k", "v");
  });

  test("hashKV agrees across members at one revision; hash answers per member", async () => {
    const { revision } = await etcd.put("hash/k", "v");
    // A follower may not have applied the write yet; it would answer "future revision".
    for (const endpoint of fx.endpoints) {
      const deadline = Date.now() + 10_000;
      while ((await etcd.maintenance.status({ endpoint })).header.revision < revision) {
        assert.ok(Date.now() < deadline, `${endpoint} never applied revision ${revision}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const hashes = await Promise.all(
      fx.endpoints.map((endpoint) => etcd.maintenance.hashKV({ endpoint, revision })),
    );
    assert.equal(new Set(hashes.map((h) => h.memberId)).size, 3);
    assert.equal(new Set(hashes.map((h) => h.hash)).size, 1, "same data, same hash");
    assert.ok(hashes.every((h) => typeof h.hash === "number" && h.hash > 0));
    const whole = await etcd.maintenance.hash({ endpoint: ep(2) });
    assert.equal(typeof whole.hash, "number");
    assert.equal(whole.memberId, (await etcd.maintenance.status({ endpoint: ep(2) })).memberId);
  });

  test("moveLeader hands leadership to another member", async () => {
    const before = (await etcd.maintenance.statusAll()).map((s) => s.status);
    const leader = before.find((s) => s?.isLeader);
    const target = before.find((s) => s && !s.isLeader);
    assert.ok(leader && target);
    await etcd.maintenance.moveLeader(target.memberId);
    await eventually("new leader", async () => {
      const now = await etcd.maintenance.statusAll();
      for (const s of now) assert.equal(s.status?.leader, target.memberId);
    });
    await etcd.put("after/move", "ok");
  });

  test("snapshot of 10,000 keys to a file, with progress; etcd's tool accepts it", {
    skip: unsupportedOn({ deno: SNAPSHOT_ON_DENO }),
  }, async () => {
    const value = "v".repeat(100);
    let lastRevision = 0n;
    for (let i = 0; i < 10_000; i += 100) {
      const success = [];
      for (let j = i; j < i + 100; j++) {
        success.push(op.put(`snap/${String(j).padStart(5, "0")}`, value));
      }
      lastRevision = (await etcd.txn({ compare: [], success })).revision;
    }
    assert.equal((await etcd.range(prefix("snap/"), { countOnly: true })).count, 10_000n);

    const file = join(dir, "etcd.db");
    const progress: SnapshotProgress[] = [];
    const result = await etcd.maintenance.snapshot(file, {
      endpoint: ep(0),
      onProgress: (p) => progress.push(p),
    });

    const bytes = readFileSync(file);
    assert.equal(result.bytes, bytes.length);
    assert.ok(!existsSync(`${file}.part`));
    // Progress: more than one report, growing, ending at the whole size with nothing remaining.
    assert.ok(progress.length > 1, `${progress.length} progress reports`);
    for (let i = 1; i < progress.length; i++) {
      assert.ok((progress[i]?.bytes ?? 0) > (progress[i - 1]?.bytes ?? 0));
    }
    assert.deepEqual(progress.at(-1), { bytes: bytes.length, remaining: 0 });
    // What etcdctl writes: the database, then etcd's SHA-256 of it.
    const body = bytes.subarray(0, bytes.length - 32);
    assert.equal(createHash("sha256").update(body).digest("hex"), result.sha256);
    assert.equal(bytes.subarray(bytes.length - 32).toString("hex"), result.sha256);

    const status = snapshotStatus(file);
    assert.ok(status.totalKey >= 10_000, `totalKey ${status.totalKey}`);
    assert.ok(status.revision >= Number(lastRevision), `revision ${status.revision}`);
    assert.ok(status.totalSize > 0);
  });

  test("snapshot to a Node Writable and to a WritableStream", {
    skip: unsupportedOn({ deno: SNAPSHOT_ON_DENO }),
  }, async () => {
    const chunks: Buffer[] = [];
    let finished = false;
    const writable = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
      final(done) {
        finished = true;
        done();
      },
    });
    const viaNode = await etcd.maintenance.snapshot(writable);
    assert.equal(finished, true, "the Writable was ended");
    const all = Buffer.concat(chunks);
    assert.equal(all.length, viaNode.bytes);
    assert.equal(all.subarray(all.length - 32).toString("hex"), viaNode.sha256);

    let received = 0;
    let closed = false;
    const stream = new WritableStream<Uint8Array>({
      write(chunk) {
        received += chunk.length;
      },
      close() {
        closed = true;
      },
    });
    const viaWeb = await etcd.maintenance.snapshot(stream);
    assert.equal(received, viaWeb.bytes);
    assert.equal(closed, true);
  });

  test("a snapshot cancelled midway rejects and leaves no file", async () => {
    const file = join(dir, "cancelled.db");
    const controller = new AbortController();
    const error = await etcd.maintenance
      .snapshot(file, { signal: controller.signal, onProgress: () => controller.abort() })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof CanceledError, String(error));
    assert.ok(!existsSync(file));
    assert.ok(!existsSync(`${file}.part`));
  });

  test("defragment returns the space of deleted history to the file system", async () => {
    // History of its own to free: the snapshot tests' keys are not there where they are skipped.
    const value = "x".repeat(1024);
    for (let batch = 0; batch < 20; batch++) {
      await etcd.txn({
        success: Array.from({ length: 100 }, (_, i) => op.put(`defrag/${batch}/${i}`, value)),
      });
    }
    await etcd.delete(prefix("snap/"));
    const { revision } = await etcd.delete(prefix("defrag/"));
    await etcd.compact(revision, { physical: true });
    const endpoint = ep(2);
    const before = await etcd.maintenance.status({ endpoint });
    const otherBefore = await etcd.maintenance.status({ endpoint: ep(0) });
    assert.ok(before.dbSizeInUse < before.dbSize, "compaction left free pages");
    await etcd.maintenance.defragment({ endpoint });
    const after = await etcd.maintenance.status({ endpoint });
    assert.ok(after.dbSize < before.dbSize, `${after.dbSize} < ${before.dbSize}`);
    // Only the member asked was defragmented.
    const otherAfter = await etcd.maintenance.status({ endpoint: ep(0) });
    assert.ok(otherAfter.dbSize >= otherBefore.dbSize, "the other member kept its file");
    await assert.rejects(etcd.maintenance.defragment({ endpoint: "" }), InvalidArgumentError);
  });
});
