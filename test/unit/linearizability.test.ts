import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  checkHistory,
  checkKey,
  describeViolation,
  type Operation,
  type RegisterValue,
} from "../support/linearizability.ts";

const put = (
  value: string,
  invoke: number,
  complete: number,
  outcome: Operation["outcome"] = "ok",
) => ({ kind: "put", key: "k", value, invoke, complete, outcome }) as const satisfies Operation;
const get = (value: RegisterValue, invoke: number, complete: number) =>
  ({ kind: "get", key: "k", invoke, complete, outcome: "ok", result: { value } }) as const;
const cas = (
  expect: RegisterValue,
  value: string,
  succeeded: boolean | undefined,
  invoke: number,
  complete: number,
): Operation =>
  succeeded === undefined
    ? { kind: "cas", key: "k", expect, value, invoke, complete, outcome: "unknown" }
    : {
        kind: "cas",
        key: "k",
        expect,
        value,
        invoke,
        complete,
        outcome: "ok",
        result: { succeeded },
      };
const del = (deleted: boolean | undefined, invoke: number, complete: number): Operation =>
  deleted === undefined
    ? { kind: "delete", key: "k", invoke, complete, outcome: "unknown" }
    : { kind: "delete", key: "k", invoke, complete, outcome: "ok", result: { deleted } };

function linearizable(ops: Operation[]): boolean {
  const verdict = checkKey("k", ops);
  assert.equal(verdict.inconclusive, false);
  return verdict.ok;
}

describe("linearizability checker: known linearizable histories", () => {
  test("empty history, and a read of a key never written", () => {
    assert.ok(linearizable([]));
    assert.ok(linearizable([get(null, 0, 1)]));
  });

  test("sequential puts and reads", () => {
    assert.ok(linearizable([put("a", 0, 1), get("a", 2, 3), put("b", 4, 5), get("b", 6, 7)]));
  });

  test("a read concurrent with a put may see either value", () => {
    const base = [put("a", 0, 1), put("b", 2, 10)];
    assert.ok(linearizable([...base, get("a", 3, 4)]));
    assert.ok(linearizable([...base, get("b", 3, 4)]));
    // Both orders in one history: the first read before the put's point, the second after.
    assert.ok(linearizable([...base, get("a", 3, 4), get("b", 5, 6)]));
  });

  test("concurrent puts take effect in some order every later reader agrees on", () => {
    const puts = [put("a", 0, 10), put("b", 1, 11)];
    assert.ok(linearizable([...puts, get("a", 12, 13), get("a", 14, 15)]));
    assert.ok(linearizable([...puts, get("b", 12, 13), get("b", 14, 15)]));
  });

  test("operations that only touch in time are concurrent", () => {
    assert.ok(linearizable([put("a", 0, 5), get(null, 5, 6)]));
  });

  test("an unknown put may take effect late or never", () => {
    const unknown = put("x", 0, 1, "unknown");
    assert.ok(linearizable([unknown, get(null, 2, 3)]));
    assert.ok(linearizable([unknown, get("x", 2, 3)]));
    // Not seen at first, applied long after the client gave up.
    assert.ok(linearizable([unknown, get(null, 2, 3), get(null, 50, 51), get("x", 100, 101)]));
  });

  test("a failed put is left out", () => {
    assert.ok(linearizable([put("x", 0, 1, "fail"), get(null, 2, 3)]));
  });

  test("compare-and-set", () => {
    assert.ok(linearizable([put("a", 0, 1), cas("a", "b", true, 2, 3), get("b", 4, 5)]));
    assert.ok(linearizable([put("a", 0, 1), cas("z", "b", false, 2, 3), get("a", 4, 5)]));
    assert.ok(linearizable([cas(null, "b", true, 0, 1), get("b", 2, 3)]));
    // Two concurrent CAS from the same value: one wins.
    assert.ok(
      linearizable([
        put("a", 0, 1),
        cas("a", "b", true, 2, 10),
        cas("a", "c", false, 3, 11),
        get("b", 12, 13),
      ]),
    );
  });

  test("an unknown compare-and-set applies only when its compare holds", () => {
    assert.ok(linearizable([put("a", 0, 1), cas("a", "b", undefined, 2, 3), get("b", 4, 5)]));
    assert.ok(linearizable([put("a", 0, 1), cas("a", "b", undefined, 2, 3), get("a", 4, 5)]));
  });

  test("delete", () => {
    assert.ok(linearizable([put("a", 0, 1), del(true, 2, 3), get(null, 4, 5)]));
    assert.ok(linearizable([del(false, 0, 1), get(null, 2, 3)]));
    assert.ok(linearizable([put("a", 0, 1), del(undefined, 2, 3), get("a", 4, 5)]));
    assert.ok(linearizable([put("a", 0, 1), del(undefined, 2, 3), get(null, 4, 5)]));
  });

  test("needs backtracking: the first choice of order is wrong", () => {
    // Three overlapping puts; the reads after fix the order c, a, b.
    const ops = [
      put("a", 0, 20),
      put("b", 1, 21),
      put("c", 2, 22),
      get("c", 3, 4),
      get("a", 5, 6),
      get("b", 23, 24),
    ];
    assert.ok(linearizable(ops));
  });
});

describe("linearizability checker: known non-linearizable histories", () => {
  test("a stale read after a completed put", () => {
    assert.equal(linearizable([put("a", 0, 1), put("b", 2, 3), get("a", 4, 5)]), false);
  });

  test("a read of a value never written", () => {
    assert.equal(linearizable([put("a", 0, 1), get("zzz", 2, 3)]), false);
  });

  test("a read of a failed put", () => {
    assert.equal(linearizable([put("x", 0, 1, "fail"), get("x", 2, 3)]), false);
  });

  test("readers disagree on the order of two completed puts", () => {
    const ops = [put("a", 0, 10), put("b", 1, 11), get("b", 12, 13), get("a", 14, 15)];
    assert.equal(linearizable(ops), false);
  });

  test("a value seen, then unseen, with no write in between (an unknown put is still once)", () => {
    const ops = [put("a", 0, 1), put("x", 2, 3, "unknown"), get("x", 4, 5), get("a", 6, 7)];
    assert.equal(linearizable(ops), false);
  });

  test("compare-and-set that succeeded against the wrong value", () => {
    assert.equal(linearizable([put("a", 0, 1), cas("z", "b", true, 2, 3)]), false);
  });

  test("compare-and-set that failed although its compare held", () => {
    assert.equal(linearizable([put("a", 0, 1), cas("a", "b", false, 2, 3)]), false);
  });

  test("two compare-and-sets from one value both succeeded", () => {
    const ops = [put("a", 0, 1), cas("a", "b", true, 2, 10), cas("a", "c", true, 3, 11)];
    assert.equal(linearizable(ops), false);
  });

  test("delete that reports a key deleted when none existed", () => {
    assert.equal(linearizable([del(true, 0, 1)]), false);
    assert.equal(linearizable([put("a", 0, 1), del(false, 2, 3)]), false);
  });

  test("a key reappears after a completed delete", () => {
    assert.equal(linearizable([put("a", 0, 1), del(true, 2, 3), get("a", 4, 5)]), false);
  });

  test("the verdict names the key and the operations it could not place", () => {
    const verdict = checkHistory([
      { ...put("a", 0, 1), key: "good" },
      { ...get("a", 2, 3), key: "good" },
      { ...put("a", 0, 1), key: "bad" },
      { ...put("b", 2, 3), key: "bad" },
      { ...get("a", 4, 5), key: "bad" },
    ]);
    assert.equal(verdict.ok, false);
    assert.deepEqual(
      verdict.violations.map((v) => v.key),
      ["bad"],
    );
    const text = describeViolation(verdict.violations[0]);
    assert.match(text, /key bad: not linearizable/);
    assert.match(text, /get .* -> "a"/);
  });
});

/** A random concurrent history of one register, generated from a real execution. */
function simulate(
  steps: Array<{
    kind: number;
    client: number;
    delay: number;
    before: number;
    after: number;
    unknown: boolean;
  }>,
) {
  let state: RegisterValue = null;
  let counter = 0;
  const ops: Operation[] = [];
  let now = 0;
  for (const s of steps) {
    // Each operation takes effect at `now`; its observed window stretches around that point.
    now += 1 + s.delay;
    const invoke = now - s.before;
    const complete = now + s.after;
    const outcome = s.unknown ? "unknown" : "ok";
    switch (s.kind % 4) {
      case 0:
        ops.push({
          kind: "get",
          key: "k",
          invoke,
          complete,
          outcome: "ok",
          result: { value: state },
        });
        break;
      case 1: {
        const value = `v${++counter}`;
        ops.push({ kind: "put", key: "k", value, invoke, complete, outcome });
        state = value;
        break;
      }
      case 2: {
        const expect: RegisterValue = s.client % 2 === 0 ? state : `v${counter}`;
        const value = `v${++counter}`;
        const succeeded = state === expect;
        if (succeeded) state = value;
        ops.push(
          s.unknown
            ? { kind: "cas", key: "k", expect, value, invoke, complete, outcome }
            : {
                kind: "cas",
                key: "k",
                expect,
                value,
                invoke,
                complete,
                outcome,
                result: { succeeded },
              },
        );
        break;
      }
      default: {
        const deleted = state !== null;
        state = null;
        ops.push(
          s.unknown
            ? { kind: "delete", key: "k", invoke, complete, outcome }
            : { kind: "delete", key: "k", invoke, complete, outcome, result: { deleted } },
        );
      }
    }
  }
  return ops;
}

const stepArb = fc.record({
  kind: fc.nat(3),
  client: fc.nat(4),
  delay: fc.nat(3),
  before: fc.double({ min: 0, max: 6, noNaN: true }),
  after: fc.double({ min: 0, max: 6, noNaN: true }),
  unknown: fc.nat(9).map((n) => n < 2),
});

describe("linearizability checker: properties", () => {
  test("every history generated from a real execution is linearizable", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => {
        const verdict = checkKey("k", simulate(steps));
        return verdict.ok && !verdict.inconclusive;
      }),
      { numRuns: 300 },
    );
  });

  test("a read changed to a value never written makes it non-linearizable", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), fc.nat(), (steps, pick) => {
        const ops = simulate(steps);
        const reads = ops.filter((op) => op.kind === "get");
        if (reads.length === 0) return true;
        const read = reads[pick % reads.length] as Extract<Operation, { kind: "get" }>;
        read.result = { value: "never-written" };
        return !checkKey("k", ops).ok;
      }),
      { numRuns: 300 },
    );
  });

  test("a long concurrent history with unknown outcomes is decided, not given up on", () => {
    const steps = Array.from({ length: 400 }, (_, i) => ({
      kind: i % 4,
      client: i % 5,
      delay: 0,
      before: (i * 7) % 5,
      after: (i * 3) % 5,
      unknown: i % 17 === 0,
    }));
    const verdict = checkKey("k", simulate(steps));
    assert.equal(verdict.inconclusive, false);
    assert.equal(verdict.ok, true);
  });

  test("a fault-run-sized history (20,000 operations, about 6 in flight) is decided", () => {
    const steps = Array.from({ length: 20_000 }, (_, i) => ({
      kind: (i * 7) % 4,
      client: i % 8,
      delay: 0,
      before: (i * 13) % 4,
      after: (i * 5) % 4,
      unknown: false,
    }));
    const ops = simulate(steps);
    const verdict = checkKey("k", ops);
    assert.equal(verdict.inconclusive, false);
    assert.equal(verdict.ok, true);
    // And one stale read in the middle of it is found.
    const read = ops.find((op, i) => i > 10_000 && op.kind === "get") as Extract<
      Operation,
      { kind: "get" }
    >;
    read.result = { value: "stale" };
    assert.equal(checkKey("k", ops).ok, false);
  });
});
