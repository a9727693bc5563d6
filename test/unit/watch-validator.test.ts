import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type ExpectedEvent,
  historyFromSnapshots,
  type RecordedBatch,
  type RecordedEvent,
  validateWatch,
} from "../support/watch-validator.ts";

// History: r2 put a=1; r3 txn put b=1, put c=1; r4 delete a; r5 put b=2.
const history: ExpectedEvent[] = [
  { revision: 2n, type: "put", key: "a", value: "1" },
  { revision: 3n, type: "put", key: "b", value: "1" },
  { revision: 3n, type: "put", key: "c", value: "1" },
  { revision: 4n, type: "delete", key: "a" },
  { revision: 5n, type: "put", key: "b", value: "2" },
];

function ev(type: "put" | "delete", key: string, value: string, rev: bigint): RecordedEvent {
  return { type, key, value, modRevision: rev };
}

function batch(revision: bigint, ...events: RecordedEvent[]): RecordedBatch {
  return { kind: "events", revision, events };
}

function mark(revision: bigint): RecordedBatch {
  return { kind: "progress", revision, events: [] };
}

const good: RecordedBatch[] = [
  batch(2n, ev("put", "a", "1", 2n)),
  batch(3n, ev("put", "c", "1", 3n), ev("put", "b", "1", 3n)),
  mark(3n),
  batch(4n, ev("delete", "a", "", 4n)),
  batch(5n, ev("put", "b", "2", 5n)),
  mark(5n),
];

function check(recorded: RecordedBatch[], startRevision = 2n, endRevision = 5n) {
  return validateWatch({ startRevision, endRevision, expected: history, recorded });
}

describe("watch validator", () => {
  test("accepts a complete, ordered, atomic delivery with bookmarks", () => {
    const report = check(good);
    assert.ok(report.ok, report.violations.join("\n"));
    assert.equal(report.counts.deliveredEvents, 5);
    assert.equal(report.counts.deliveredRevisions, 4);
    assert.equal(report.counts.bookmarks, 2);
  });

  test("accepts a watch started in the middle (resumable)", () => {
    const report = check(good.slice(3), 4n);
    assert.ok(report.ok, report.violations.join("\n"));
  });

  test("reliable: a lost revision is reported", () => {
    const report = check([good[0], good[1], good[3]] as RecordedBatch[]);
    assert.equal(report.ok, false);
    assert.equal(report.counts.lost, 1);
    assert.match(report.violations.join("\n"), /revision 5 was never delivered/);
  });

  test("unique: a repeated batch is reported", () => {
    const report = check([good[0], good[1], good[1], good[3], good[4]] as RecordedBatch[]);
    assert.equal(report.ok, false);
    assert.ok(report.counts.duplicated >= 1);
  });

  test("ordered: revisions going backwards are reported", () => {
    const report = check([good[0], good[3], good[1], good[4]] as RecordedBatch[]);
    assert.equal(report.ok, false);
    assert.equal(report.counts.outOfOrder, 1);
  });

  test("atomic: a revision split across two batches is reported", () => {
    const report = check([
      batch(2n, ev("put", "a", "1", 2n)),
      batch(3n, ev("put", "b", "1", 3n)),
      batch(3n, ev("put", "c", "1", 3n)),
      batch(4n, ev("delete", "a", "", 4n)),
      batch(5n, ev("put", "b", "2", 5n)),
    ]);
    assert.equal(report.ok, false);
    assert.ok(report.counts.split >= 1);
  });

  test("atomic: a batch mixing revisions is reported", () => {
    const report = check([
      batch(2n, ev("put", "a", "1", 2n), ev("put", "b", "1", 3n), ev("put", "c", "1", 3n)),
      batch(4n, ev("delete", "a", "", 4n)),
      batch(5n, ev("put", "b", "2", 5n)),
    ]);
    assert.equal(report.ok, false);
  });

  test("a wrong value or a missing event inside a revision is reported", () => {
    const wrongValue = check([
      good[0],
      batch(3n, ev("put", "b", "X", 3n), ev("put", "c", "1", 3n)),
      good[3],
      good[4],
    ] as RecordedBatch[]);
    assert.equal(wrongValue.ok, false);
    assert.equal(wrongValue.counts.mismatched, 1);
    const partial = check([
      good[0],
      batch(3n, ev("put", "b", "1", 3n)),
      good[3],
      good[4],
    ] as RecordedBatch[]);
    assert.equal(partial.ok, false);
  });

  test("resumable: events before the start revision are reported", () => {
    const report = check(good, 3n);
    assert.equal(report.ok, false);
    assert.equal(report.counts.early, 1);
  });

  test("bookmarkable: a bookmark ahead of undelivered events is reported", () => {
    const early = check([good[0], mark(3n), good[1], good[3], good[4]] as RecordedBatch[]);
    assert.equal(early.ok, false);
    assert.ok(early.counts.badBookmarks >= 1);
  });

  test("bookmarkable: a bookmark behind delivered events is reported", () => {
    const behind = check([good[0], good[1], good[3], mark(3n), good[4]] as RecordedBatch[]);
    assert.equal(behind.ok, false);
    assert.equal(behind.counts.badBookmarks, 1);
  });

  test("an event that is not in the history is reported", () => {
    const report = check([...good.slice(0, 5), batch(5n, ev("put", "z", "1", 5n))], 2n, 6n);
    assert.equal(report.ok, false);
  });

  test("historyFromSnapshots rebuilds puts, deletes and multi-key revisions", () => {
    const kv = (key: string, value: string, mod: bigint, create: bigint, version: bigint) => ({
      key,
      value,
      modRevision: mod,
      createRevision: create,
      version,
    });
    const rebuilt = historyFromSnapshots([
      { revision: 1n, kvs: [] },
      { revision: 2n, kvs: [kv("a", "1", 2n, 2n, 1n)] },
      {
        revision: 3n,
        kvs: [kv("a", "1", 2n, 2n, 1n), kv("b", "1", 3n, 3n, 1n), kv("c", "1", 3n, 3n, 1n)],
      },
      { revision: 4n, kvs: [kv("b", "1", 3n, 3n, 1n), kv("c", "1", 3n, 3n, 1n)] },
      { revision: 5n, kvs: [kv("b", "2", 5n, 3n, 2n), kv("c", "1", 3n, 3n, 1n)] },
    ]);
    assert.deepEqual(
      rebuilt.map((e) => `${e.revision} ${e.type} ${e.key}${e.value ? `=${e.value}` : ""}`),
      ["2 put a=1", "3 put b=1", "3 put c=1", "4 delete a", "5 put b=2"],
    );
    const report = validateWatch({
      startRevision: 2n,
      endRevision: 5n,
      expected: rebuilt,
      recorded: good,
    });
    assert.ok(report.ok, report.violations.join("\n"));
  });
});
