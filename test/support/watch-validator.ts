/**
 * Checks what a watcher delivered against the write history etcd actually holds, for etcd's
 * watch guarantees (its api_guarantees page):
 * - ordered: revisions strictly increase from batch to batch;
 * - unique: no event (revision, key) is delivered twice;
 * - reliable: no revision of the history in [start, end] is missing;
 * - atomic: each revision arrives whole, in one batch, with exactly its events;
 * - resumable: delivery starts at the first revision >= the start revision, nothing earlier;
 * - bookmarkable: a progress bookmark at R comes after every event <= R and before every event > R.
 */

/** One change as the history says it happened. */
export interface ExpectedEvent {
  revision: bigint;
  type: "put" | "delete";
  key: string;
  /** Value written (puts); ignored for deletes. */
  value?: string;
  createRevision?: bigint;
  version?: bigint;
}

/** One event as the watcher delivered it. */
export interface RecordedEvent {
  type: "put" | "delete";
  key: string;
  value: string;
  modRevision: bigint;
  createRevision?: bigint;
  version?: bigint;
}

/** One item the watcher yielded: a batch of events or a bookmark. */
export interface RecordedBatch {
  kind: "events" | "progress";
  revision: bigint;
  events: RecordedEvent[];
}

export interface WatchCheck {
  /** The watcher's start revision (inclusive). */
  startRevision: bigint;
  /** The last revision the watcher must have delivered (inclusive). */
  endRevision: bigint;
  /** The history in revision order (any order inside one revision). */
  expected: readonly ExpectedEvent[];
  recorded: readonly RecordedBatch[];
}

export interface WatchReport {
  ok: boolean;
  /** Human-readable descriptions, the first 50. */
  violations: string[];
  counts: {
    expectedEvents: number;
    deliveredEvents: number;
    expectedRevisions: number;
    deliveredRevisions: number;
    lost: number;
    duplicated: number;
    outOfOrder: number;
    split: number;
    mismatched: number;
    early: number;
    bookmarks: number;
    badBookmarks: number;
  };
}

const MAX_VIOLATIONS = 50;

/**
 * Validates a recorded watch against the history.
 *
 * @example
 * const report = validateWatch({ startRevision: 2n, endRevision: 10n, expected, recorded });
 * assert.ok(report.ok, report.violations.join("\n"));
 */
export function validateWatch(check: WatchCheck): WatchReport {
  const { startRevision, endRevision } = check;
  const violations: string[] = [];
  const counts: WatchReport["counts"] = {
    expectedEvents: 0,
    deliveredEvents: 0,
    expectedRevisions: 0,
    deliveredRevisions: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    split: 0,
    mismatched: 0,
    early: 0,
    bookmarks: 0,
    badBookmarks: 0,
  };
  const note = (message: string) => {
    if (violations.length < MAX_VIOLATIONS) violations.push(message);
  };

  const byRevision = new Map<bigint, ExpectedEvent[]>();
  for (const event of check.expected) {
    if (event.revision < startRevision || event.revision > endRevision) continue;
    let list = byRevision.get(event.revision);
    if (!list) {
      list = [];
      byRevision.set(event.revision, list);
    }
    list.push(event);
    counts.expectedEvents++;
  }
  const expectedRevisions = [...byRevision.keys()].sort(compareBig);
  counts.expectedRevisions = expectedRevisions.length;

  const seenEvents = new Set<string>();
  const seenRevisions = new Set<bigint>();
  let lastEventRevision = -1n;
  let lastBookmark = -1n;
  for (let index = 0; index < check.recorded.length; index++) {
    const batch = check.recorded[index] as RecordedBatch;
    if (batch.kind === "progress") {
      counts.bookmarks++;
      if (batch.events.length > 0) note(`bookmark #${index} at ${batch.revision} carries events`);
      // Bookmarkable: everything up to its revision was delivered before it.
      const missing = expectedRevisions.filter(
        (r) => r <= batch.revision && r >= startRevision && !seenRevisions.has(r),
      );
      if (missing.length > 0) {
        counts.badBookmarks++;
        note(
          `bookmark #${index} at ${batch.revision} came before revisions ${missing.slice(0, 5).join(", ")}`,
        );
      }
      if (batch.revision < lastEventRevision) {
        counts.badBookmarks++;
        note(`bookmark #${index} at ${batch.revision} is behind event ${lastEventRevision}`);
      }
      if (batch.revision > lastBookmark) lastBookmark = batch.revision;
      continue;
    }
    counts.deliveredEvents += batch.events.length;
    if (batch.events.length === 0) note(`batch #${index} at ${batch.revision} has no events`);
    if (batch.revision < startRevision) {
      counts.early++;
      note(`batch #${index} at ${batch.revision} is before the start revision ${startRevision}`);
    }
    if (batch.revision <= lastBookmark) {
      counts.badBookmarks++;
      note(`batch #${index} at ${batch.revision} came after a bookmark at ${lastBookmark}`);
    }
    // Ordered.
    if (batch.revision <= lastEventRevision) {
      if (seenRevisions.has(batch.revision)) {
        counts.split++;
        note(`revision ${batch.revision} arrived in more than one batch (#${index})`);
      } else {
        counts.outOfOrder++;
        note(`batch #${index} at ${batch.revision} came after ${lastEventRevision}`);
      }
    } else lastEventRevision = batch.revision;
    // Unique, and every event belongs to the batch's revision.
    for (const event of batch.events) {
      if (event.modRevision !== batch.revision) {
        counts.split++;
        note(`batch #${index} at ${batch.revision} holds an event of ${event.modRevision}`);
      }
      const id = `${event.modRevision}\u0000${event.key}`;
      if (seenEvents.has(id)) {
        counts.duplicated++;
        note(`event ${event.type} ${event.key}@${event.modRevision} delivered twice`);
      }
      seenEvents.add(id);
    }
    // Atomic: the batch is exactly the revision's events.
    const expected = byRevision.get(batch.revision);
    if (!seenRevisions.has(batch.revision) && batch.revision >= startRevision) {
      seenRevisions.add(batch.revision);
      if (batch.revision <= endRevision) {
        if (!expected) {
          counts.mismatched++;
          note(`revision ${batch.revision} is not in the history`);
        } else if (!sameEvents(expected, batch.events)) {
          counts.mismatched++;
          note(
            `revision ${batch.revision}: delivered ${describe(batch.events)}, history has ${describeExpected(expected)}`,
          );
        }
      }
    }
  }
  // Reliable.
  for (const revision of expectedRevisions) {
    if (!seenRevisions.has(revision)) {
      counts.lost += byRevision.get(revision)?.length ?? 0;
      note(`revision ${revision} was never delivered`);
    }
  }
  counts.deliveredRevisions = seenRevisions.size;
  const ok =
    counts.lost === 0 &&
    counts.duplicated === 0 &&
    counts.outOfOrder === 0 &&
    counts.split === 0 &&
    counts.mismatched === 0 &&
    counts.early === 0 &&
    counts.badBookmarks === 0 &&
    violations.length === 0;
  return { ok, violations, counts };
}

function sameEvents(expected: readonly ExpectedEvent[], delivered: readonly RecordedEvent[]) {
  if (expected.length !== delivered.length) return false;
  const byKey = new Map(expected.map((e) => [e.key, e]));
  if (byKey.size !== expected.length) return false;
  for (const event of delivered) {
    const want = byKey.get(event.key);
    if (!want || want.type !== event.type) return false;
    byKey.delete(event.key);
    if (event.type === "put" && want.value !== undefined && want.value !== event.value) {
      return false;
    }
    if (want.createRevision !== undefined && event.createRevision !== undefined) {
      if (event.type === "put" && want.createRevision !== event.createRevision) return false;
    }
    if (want.version !== undefined && event.version !== undefined) {
      if (event.type === "put" && want.version !== event.version) return false;
    }
  }
  return true;
}

function describe(events: readonly RecordedEvent[]): string {
  return events.map((e) => `${e.type} ${e.key}${e.type === "put" ? `=${e.value}` : ""}`).join(", ");
}

function describeExpected(events: readonly ExpectedEvent[]): string {
  return events.map((e) => `${e.type} ${e.key}${e.type === "put" ? `=${e.value}` : ""}`).join(", ");
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The history of a set of keys rebuilt from snapshots, one per revision: a key whose
 * modRevision is r in the snapshot at r was put at r; a key present at r - 1 and gone at r was
 * deleted at r. It relies only on Range, not on watch, so it is an independent truth.
 *
 * @example
 * const expected = historyFromSnapshots(snapshots);
 */
export function historyFromSnapshots(
  snapshots: ReadonlyArray<{
    revision: bigint;
    kvs: ReadonlyArray<{
      key: string;
      value: string;
      modRevision: bigint;
      createRevision: bigint;
      version: bigint;
    }>;
  }>,
): ExpectedEvent[] {
  const events: ExpectedEvent[] = [];
  let previous = new Set<string>();
  for (const snapshot of snapshots) {
    const current = new Set<string>();
    for (const kv of snapshot.kvs) {
      current.add(kv.key);
      if (kv.modRevision === snapshot.revision) {
        events.push({
          revision: snapshot.revision,
          type: "put",
          key: kv.key,
          value: kv.value,
          createRevision: kv.createRevision,
          version: kv.version,
        });
      }
    }
    for (const key of previous) {
      if (!current.has(key)) events.push({ revision: snapshot.revision, type: "delete", key });
    }
    previous = current;
  }
  return events;
}
