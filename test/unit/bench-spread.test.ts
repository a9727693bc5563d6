/**
 * The benchmark report's spread across rounds: (largest − smallest) / median, per client and for
 * our advantage over etcd3 round by round.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type BenchResults, spread, toMarkdown } from "../../bench/report.ts";

test("spread is the range over the median, and undefined for missing or non-positive values", () => {
  assert.equal(spread([2, 4, 3]), 2 / 3);
  assert.equal(spread([1, 3, 2, 10]), 9 / 2.5);
  assert.equal(spread([5]), 0);
  assert.ok(Number.isNaN(spread([])));
  assert.ok(Number.isNaN(spread([1, Number.NaN])));
  assert.ok(Number.isNaN(spread([0, 1])));
});

test("the report's table gives each row's rounds, their spread, the advantage's, the host's steal and the machine's pace", () => {
  const results = {
    environment: {
      date: "2026-12-07 12:00 UTC",
      cpu: "cpu",
      cores: 2,
      memoryGiB: 24,
      os: "Linux",
      node: "24",
      etcd: "etcd 3.4.23",
      noFsync: true,
      versions: {},
      load: { start: 1, min: 1, avg: 1, max: 1, end: 1 },
      rounds: 3,
      quick: false,
      pace: {
        computeMs: { min: 9.5, median: 10, max: 19.25 },
        roundTripUs: { min: 41, median: 52, max: 130 },
      },
    },
    workloads: [
      {
        id: "watch-latency-1",
        title: "latency",
        unit: "ms p50",
        higherIsBetter: false,
        headline: { ours: 0.4, etcd3: 0.5 },
        samples: {},
        // The host took 12.5 % of the CPU during etcd3's run in round 2; nothing was read in round
        // 3. The pace probe's work took twice as long before round 2, its round trip 2.5 times.
        rounds: {
          ours: [
            { extra: { stolenPct: 0.2, paceComputeMs: 9.5, paceRoundTripUs: 52 } },
            { extra: { stolenPct: 3, paceComputeMs: 19.25, paceRoundTripUs: 130 } },
            { extra: { paceComputeMs: 10, paceRoundTripUs: 41 } },
          ],
          etcd3: [{ extra: { stolenPct: 0 } }, { extra: { stolenPct: 12.5 } }, {}],
        },
        // The machine twice as slow in round 2, for both clients: the advantage stays.
        roundHeadlines: { ours: [0.4, 0.8, 0.4], etcd3: [0.5, 1, 0.5] },
      },
    ],
  } as unknown as BenchResults;
  const lines = toMarkdown(results).split("\n");
  // Below 1 ms the summary keeps two digits: 0.4 against 0.5 ms would read 0.4 and 0.5, but
  // 0.26 against 0.30 ms would read 0.3 and 0.3.
  const summary = lines.find((line) => line.startsWith("| latency |") && !line.includes(" % |"));
  assert.match(summary ?? "", /^\| latency \| 0\.40 ms p50 \| 0\.50 ms p50 \|/);
  const row = lines.find((line) => line.startsWith("| latency |") && line.includes(" % |"));
  assert.equal(
    row,
    "| latency | 0.40 ms p50 · 0.80 ms p50 · 0.40 ms p50 | 100 % | 0.50 ms p50 · 1.00 ms p50 · 0.50 ms p50 | 100 % | 1.25× · 1.25× · 1.25× | 0 % | 0.2 · 12.5 · – % | 9.5 · 19.3 · 10.0 ms; 52.0 · 130.0 · 41.0 µs |",
  );
  assert.ok(
    lines.some((line) =>
      line.includes(
        "work took 9.5–19.3 (median 10.0) ms, a byte's round trip through another process 41–130 (median 52) µs.",
      ),
    ),
    "the header gives the pace probe's range",
  );
});
