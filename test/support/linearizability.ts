/**
 * A linearizability checker for histories of single-key register operations, in the style of
 * Wing & Gong's search with Lowe's memoization (as Knossos and Porcupine do it), partitioned per
 * key: a history is linearizable when each key's sub-history is (registers are independent).
 *
 * The model: each key holds a value or nothing (`null`). Operations:
 * - get: observes the value (`null` when absent);
 * - put: sets the value;
 * - cas: a txn comparing the value with `expect` (`null`: the key must be absent), then setting
 *   `value` on success; its result says whether it succeeded;
 * - delete: removes the key; its result may say whether a key was deleted.
 *
 * Outcomes: "ok" ops took effect once between invocation and response. "fail" ops provably did
 * not take effect (rejected before sending, or refused by etcd) and are left out. "unknown" ops
 * (timed out, connection lost after sending) may or may not have taken effect, at any time after
 * their invocation, even long after the client gave up: they respond at infinity and may stay
 * unlinearized. An unknown get constrains nothing and is left out.
 */

/** A value of the register; `null` means the key does not exist. */
export type RegisterValue = string | null;

/** One operation as a client saw it. Times from one monotonic clock (`performance.now()`). */
export type Operation =
  | (OperationBase & { kind: "get"; result?: { value: RegisterValue } })
  | (OperationBase & { kind: "put"; value: string })
  | (OperationBase & {
      kind: "cas";
      expect: RegisterValue;
      value: string;
      result?: { succeeded: boolean };
    })
  | (OperationBase & { kind: "delete"; result?: { deleted: boolean } });

interface OperationBase {
  /** Which client ran it (for messages). */
  client?: number;
  key: string;
  /** When the call was made. */
  invoke: number;
  /** When the result arrived; ignored for "unknown" outcomes. */
  complete: number;
  outcome: "ok" | "fail" | "unknown";
}

/** The verdict for one key. */
export interface KeyVerdict {
  key: string;
  ok: boolean;
  /** Operations checked (after leaving out failed ones and unknown gets). */
  operations: number;
  /** Search states explored. */
  explored: number;
  /** True when the search gave up at the state budget: neither proven nor refuted. */
  inconclusive: boolean;
  /** For a violation: the last operations of the longest linearized prefix, in order. */
  longestPrefix?: Operation[];
  /** For a violation: operations that were pending when the search got stuck. */
  stuckAt?: Operation[];
}

/** The verdict for a whole history. */
export interface Verdict {
  ok: boolean;
  /** Keys whose history is not linearizable. */
  violations: KeyVerdict[];
  /** Keys whose search hit the budget. */
  inconclusive: KeyVerdict[];
  keys: number;
  operations: number;
}

interface Entry {
  op: Operation;
  index: number;
  isCall: boolean;
  time: number;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

const DEFAULT_BUDGET = 2_000_000;

/**
 * Checks a history (every key), returning the keys that are not linearizable.
 *
 * @example
 * const verdict = checkHistory(ops);
 * assert.equal(verdict.violations.length, 0, describeViolation(verdict.violations[0]));
 */
export function checkHistory(history: readonly Operation[], options: { budget?: number } = {}) {
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    let list = byKey.get(op.key);
    if (!list) {
      list = [];
      byKey.set(op.key, list);
    }
    list.push(op);
  }
  const violations: KeyVerdict[] = [];
  const inconclusive: KeyVerdict[] = [];
  let operations = 0;
  for (const [key, ops] of byKey) {
    const verdict = checkKey(key, ops, options.budget ?? DEFAULT_BUDGET);
    operations += verdict.operations;
    if (verdict.inconclusive) inconclusive.push(verdict);
    else if (!verdict.ok) violations.push(verdict);
  }
  return {
    ok: violations.length === 0 && inconclusive.length === 0,
    violations,
    inconclusive,
    keys: byKey.size,
    operations,
  } satisfies Verdict;
}

/**
 * Checks the operations of one key.
 *
 * @example
 * checkKey("k", ops).ok;
 */
export function checkKey(key: string, history: readonly Operation[], budget = DEFAULT_BUDGET) {
  const ops = history.filter(
    (op) => op.outcome !== "fail" && !(op.kind === "get" && op.outcome === "unknown"),
  );
  const n = ops.length;
  const entries = buildEntries(ops);
  const head: Entry = {
    op: undefined as unknown as Operation,
    index: -1,
    isCall: false,
    time: Number.NEGATIVE_INFINITY,
    match: undefined,
    prev: undefined,
    next: entries[0],
  };
  if (entries[0]) entries[0].prev = head;

  // The set of linearized operations is remembered by a 64-bit Zobrist hash (two 32-bit halves,
  // XOR of a random word per operation): memo entries stay small however long the history. A
  // collision could only prune a state wrongly, turning "linearizable" into a reported violation,
  // never the reverse; at 2^-64 per pair it does not happen in practice.
  const random = mulberry32(0x5eed ^ n);
  const zobristLow = Uint32Array.from({ length: n }, () => random());
  const zobristHigh = Uint32Array.from({ length: n }, () => random());
  let hashLow = 0;
  let hashHigh = 0;
  const seen = new Set<string>();
  const stack: Array<{ entry: Entry; state: RegisterValue }> = [];
  let state: RegisterValue = null;
  let entry = head.next;
  let explored = 0;
  let bestDepth = -1;
  let best: Operation[] = [];
  let stuck: Operation[] = [];

  const verdict = (ok: boolean, inconclusive = false): KeyVerdict => {
    const result: KeyVerdict = { key, ok, operations: n, explored, inconclusive };
    if (!ok && !inconclusive) {
      result.longestPrefix = best;
      result.stuckAt = stuck;
    }
    return result;
  };

  while (entry !== undefined) {
    if (entry.isCall) {
      const call = entry;
      const next = step(state, entry.op);
      let moved = false;
      if (next !== undefined) {
        const i = entry.index;
        const low = (hashLow ^ (zobristLow[i] as number)) >>> 0;
        const high = (hashHigh ^ (zobristHigh[i] as number)) >>> 0;
        const memo = `${low}:${high}:${stateKey(next)}`;
        if (!seen.has(memo)) {
          seen.add(memo);
          explored++;
          if (explored > budget) return verdict(false, true);
          stack.push({ entry, state });
          state = next;
          hashLow = low;
          hashHigh = high;
          lift(entry);
          entry = head.next;
          moved = true;
        }
      }
      if (!moved) entry = call.next;
    } else {
      // A response whose operation was not linearized yet. Responses at infinity belong to
      // unknown outcomes: reaching one means every operation that responded is linearized, and
      // the rest may never have taken effect.
      if (entry.time === Number.POSITIVE_INFINITY) return verdict(true);
      if (stack.length >= bestDepth) {
        // The deepest the search got: what a violation report shows.
        bestDepth = stack.length;
        best = stack.slice(-10).map((s) => s.entry.op);
        stuck = pendingUpTo(head, entry);
      }
      if (stack.length === 0) return verdict(false);
      const top = stack.pop() as { entry: Entry; state: RegisterValue };
      state = top.state;
      hashLow = (hashLow ^ (zobristLow[top.entry.index] as number)) >>> 0;
      hashHigh = (hashHigh ^ (zobristHigh[top.entry.index] as number)) >>> 0;
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return verdict(true);
}

/** The register after `op`, or undefined when `op` cannot take effect in `state`. */
function step(state: RegisterValue, op: Operation): RegisterValue | undefined {
  switch (op.kind) {
    case "get":
      return op.result && op.result.value === state ? state : undefined;
    case "put":
      return op.value;
    case "cas": {
      const holds = state === op.expect;
      if (op.outcome === "unknown") return holds ? op.value : undefined;
      if (!op.result) return undefined;
      if (op.result.succeeded) return holds ? op.value : undefined;
      return holds ? undefined : state;
    }
    case "delete":
      if (op.outcome === "ok" && op.result && op.result.deleted !== (state !== null)) {
        return undefined;
      }
      return null;
  }
}

function buildEntries(ops: Operation[]): Entry[] {
  const entries: Entry[] = [];
  ops.forEach((op, index) => {
    const call: Entry = {
      op,
      index,
      isCall: true,
      time: op.invoke,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    const ret: Entry = {
      op,
      index,
      isCall: false,
      time: op.outcome === "unknown" ? Number.POSITIVE_INFINITY : op.complete,
      match: call,
      prev: undefined,
      next: undefined,
    };
    call.match = ret;
    entries.push(call, ret);
  });
  // By time; at equal times calls first, so that touching operations count as concurrent (the
  // checker never invents a real-time order the clock did not show).
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry;
    e.prev = entries[i - 1];
    e.next = entries[i + 1];
  }
  return entries;
}

/** Takes a call and its response out of the list (the operation is linearized). */
function lift(call: Entry): void {
  const ret = call.match as Entry;
  (call.prev as Entry).next = call.next;
  if (call.next) call.next.prev = call.prev;
  (ret.prev as Entry).next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Puts them back, in reverse order of `lift`. */
function unlift(call: Entry): void {
  const ret = call.match as Entry;
  (ret.prev as Entry).next = ret;
  if (ret.next) ret.next.prev = ret;
  (call.prev as Entry).next = call;
  if (call.next) call.next.prev = call;
}

/** The operation whose response was reached unplaced, then the others still open before it. */
function pendingUpTo(head: Entry, response: Entry): Operation[] {
  const pending: Operation[] = [response.op];
  for (let e = head.next; e && e !== response && pending.length < 8; e = e.next) {
    if (e.isCall && e.op !== response.op) pending.push(e.op);
  }
  return pending;
}

/** A small seeded PRNG (mulberry32): the same hashes on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function stateKey(state: RegisterValue): string {
  return state === null ? "\u0000" : `=${state}`;
}

/**
 * A readable account of a violation: the key, the operations linearized before the search got
 * stuck, and the operations it could not place.
 *
 * @example
 * assert.ok(verdict.ok, describeViolation(verdict.violations[0]));
 */
export function describeViolation(verdict: KeyVerdict | undefined): string {
  if (!verdict) return "";
  const lines = [`key ${verdict.key}: not linearizable (${verdict.operations} operations)`];
  lines.push("linearized before getting stuck (last 10):");
  for (const op of (verdict.longestPrefix ?? []).slice(-10)) lines.push(`  ${describeOp(op)}`);
  lines.push("could not place:");
  for (const op of verdict.stuckAt ?? []) lines.push(`  ${describeOp(op)}`);
  return lines.join("\n");
}

/** One operation on one line. @example describeOp(op) */
export function describeOp(op: Operation): string {
  const span = `[${op.invoke.toFixed(1)}, ${op.outcome === "unknown" ? "?" : op.complete.toFixed(1)}]`;
  const who = op.client === undefined ? "" : `c${op.client} `;
  switch (op.kind) {
    case "get":
      return `${who}get ${span} -> ${op.result ? JSON.stringify(op.result.value) : op.outcome}`;
    case "put":
      return `${who}put ${JSON.stringify(op.value)} ${span} ${op.outcome}`;
    case "cas":
      return `${who}cas ${JSON.stringify(op.expect)} -> ${JSON.stringify(op.value)} ${span} ${
        op.result ? (op.result.succeeded ? "succeeded" : "failed") : op.outcome
      }`;
    case "delete":
      return `${who}delete ${span} ${op.result ? `deleted=${op.result.deleted}` : op.outcome}`;
  }
}
