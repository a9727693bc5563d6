/**
 * A full disk, for real: a member started with a tiny `--quota-backend-bytes` is filled until
 * etcd refuses writes. Writes then fail with `NoSpaceError` and leave nothing behind (a refused
 * multi-key txn wrote none of its keys); reads, deletes and compaction still work; and the
 * recovery the README gives (compact, defragment, disarm the alarm) brings writes back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Etcd, NoSpaceError, op, prefix } from "../../src/index.ts";
import { testClientOptions, useEtcd } from "../support/index.ts";

const QUOTA_BYTES = 1024 * 1024;
const fx = useEtcd({ args: [`--quota-backend-bytes=${QUOTA_BYTES}`], spawn: true });

test("a full member refuses writes with NoSpaceError, keeps reads, deletes and compaction, and recovers", async () => {
  await using etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
  const value = "x".repeat(32 * 1024);
  let written = 0;
  let refused: unknown;
  // Fill it: well under 200 values of 32 KiB go into 1 MiB.
  for (let i = 0; i < 200 && refused === undefined; i++) {
    try {
      await etcd.put(`full/${String(i).padStart(4, "0")}`, value);
      written++;
    } catch (error) {
      refused = error;
    }
  }
  process.stderr.write(`no-space: ${written} puts of 32 KiB before the quota of 1 MiB\n`);
  assert.ok(refused instanceof NoSpaceError, `got ${String(refused)}`);
  assert.ok(written > 0);
  // etcd checks the quota before it proposes a write and again when it applies one: the write
  // that crosses it at apply time is kept, whole, and answered with "no space" all the same.
  const tripped = await etcd.get(`full/${String(written).padStart(4, "0")}`);
  assert.ok(
    tripped === undefined || tripped.text === value,
    "the first refused put is whole or absent",
  );
  const stored = written + (tripped ? 1 : 0);

  // Every write is refused now, before it is proposed: a small one leaves nothing, and a
  // multi-key txn is refused as a whole.
  await assert.rejects(etcd.put("full/small", "1"), NoSpaceError);
  assert.equal(await etcd.get("full/small"), undefined);
  await assert.rejects(
    etcd.txn({ success: [op.put("full/txn-a", "1"), op.put("full/txn-b", "2")] }),
    NoSpaceError,
  );
  assert.equal((await etcd.range(prefix("full/txn-"))).count, 0n, "nothing half-written");
  const alarms = await etcd.maintenance.alarmList();
  assert.deepEqual(
    alarms.alarms.map((a) => a.alarm),
    ["nospace"],
  );

  // Reads work.
  const page = await etcd.range(prefix("full/"), { countOnly: true });
  assert.equal(page.count, BigInt(stored));
  assert.equal((await etcd.get("full/0000"))?.text, value);

  // The recovery: delete (allowed while full), compact, defragment, disarm.
  const deleted = await etcd.delete(prefix("full/"));
  assert.equal(deleted.deleted, BigInt(stored));
  await etcd.compact(deleted.header.revision, { physical: true });
  await etcd.maintenance.defragment({ endpoint: fx.endpoints[0] as string });
  const cleared = await etcd.maintenance.alarmDisarm();
  assert.deepEqual(
    cleared.alarms.map((a) => a.alarm),
    ["nospace"],
  );
  assert.deepEqual((await etcd.maintenance.alarmList()).alarms, []);
  await etcd.put("full/after", "back");
  assert.equal((await etcd.get("full/after"))?.text, "back");
});
