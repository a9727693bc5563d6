/**
 * The bench's reading of the host's steal time (/proc/stat), by which runs are measured again.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readCpuClock, stolenShare } from "../../bench/lib/host-steal.ts";

test("stolenShare is the stolen part of the CPU time between two readings", () => {
  assert.equal(stolenShare({ steal: 10, total: 1_000 }, { steal: 40, total: 2_000 }), 0.03);
  assert.equal(stolenShare({ steal: 10, total: 1_000 }, { steal: 10, total: 1_500 }), 0);
  assert.equal(stolenShare({ steal: 10, total: 1_000 }, { steal: 10, total: 1_000 }), undefined);
  assert.equal(stolenShare(undefined, { steal: 10, total: 1_000 }), undefined);
});

test("readCpuClock reads Linux's counters, which only grow", {
  skip: process.platform !== "linux",
}, async () => {
  const first = readCpuClock();
  assert.ok(first, "/proc/stat read");
  assert.ok(first.total > 0 && first.steal >= 0 && first.steal <= first.total);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const second = readCpuClock();
  assert.ok(second && second.total >= first.total && second.steal >= first.steal);
  const share = stolenShare(first, { steal: second.steal, total: second.total + 1 });
  assert.ok(share !== undefined && share >= 0 && share <= 1);
});
