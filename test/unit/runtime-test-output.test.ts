/**
 * The reader of Bun's and Deno's test output that decides the runtime lanes' counts in CI,
 * fed with output as each runner prints it for node:test files.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RuntimeTestOutput } from "../../scripts/runtime-test-output.ts";

function read(runtime: "bun" | "deno", text: string): RuntimeTestOutput {
  const output = new RuntimeTestOutput(runtime);
  for (const line of text.split("\n")) output.line(line);
  return output;
}

describe("Bun's output", () => {
  const output = read(
    "bun",
    `bun test v1.4.4 (38afee6c8)

test/integration/a.test.ts:
noise from pass
(pass) grp > passes [12.53ms]
noise before fail
AssertionError: one is not two
      at /work/a.test.ts:5:64
(fail) grp > fails [36.71ms]
(skip) grp > skipped
# skip (not on bun: a reason)

test/integration/b.test.ts:
(pass) other > slow [1.50s]

1 tests failed:
(fail) grp > fails [36.71ms]

 2 pass
 1 skip
 1 fail
Ran 4 tests across 2 files. [1.60s]`,
  );

  test("counts each test once, not again in the recap", () => {
    assert.deepEqual(output.counts, { passed: 2, failed: 1, skipped: 1 });
  });

  test("a failed test is named with its file and keeps what was printed since the test before", () => {
    assert.deepEqual(output.failed, [
      {
        name: "test/integration/a.test.ts: grp > fails",
        printed: [
          "noise before fail",
          "AssertionError: one is not two",
          "      at /work/a.test.ts:5:64",
        ],
      },
    ]);
  });

  test("durations in ms and s, slowest first; skips with their reasons", () => {
    assert.deepEqual(output.slowest(2), [
      { name: "test/integration/b.test.ts: other > slow", ms: 1500 },
      { name: "test/integration/a.test.ts: grp > fails", ms: 36.71 },
    ]);
    assert.deepEqual(output.skipped, ["grp > skipped"]);
    assert.deepEqual([...output.reasons], ["not on bun: a reason"]);
  });

  test("what a failed test printed is kept to its last 40 lines", () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    const long = read("bun", `${lines.join("\n")}\n(fail) x [1.00ms]`);
    assert.equal(long.failed[0]?.printed.length, 40);
    assert.equal(long.failed[0]?.printed[0], "line 10");
  });
});

describe("Deno's output", () => {
  const output = read(
    "deno",
    `running 1 test from ./a.test.ts
grp ...
  passes ...
------- output -------
noise from pass
----- output end -----
  passes ... ok (8ms)
  quiet ... ok (2s)
  fails ...
------- output -------
noise before fail
----- output end -----
  fails ... FAILED (2ms)
  nested ...
    inner ... ignored (0ms)
  nested ... ok (1ms)
grp ... FAILED (due to 1 failed step) (326ms)
hooked ...
  one ... ok (1ms)
hooked ... FAILED (5ms)

 ERRORS

grp ... fails => ext:deno_node/testing.ts:1:21231
error: AssertionError: one is not two
    at file:///work/a.test.ts:5:64

 FAILURES

grp ... fails => ext:deno_node/testing.ts:1:21231`,
  );

  test("a test that printed output counts as a test, not as a block", () => {
    assert.deepEqual(output.counts, { passed: 3, failed: 2, skipped: 1 });
  });

  test("failures are named by their blocks; a block failing on its own is one more", () => {
    assert.deepEqual(
      output.failed.map((f) => f.name),
      ["grp > fails", "hooked (the block itself)"],
    );
    assert.deepEqual(output.skipped, ["grp > nested > inner"]);
  });

  test("a failure keeps its error from the ERRORS section, not the FAILURES recap", () => {
    assert.deepEqual(output.failed[0]?.printed, [
      "error: AssertionError: one is not two",
      "    at file:///work/a.test.ts:5:64",
      "",
    ]);
    assert.deepEqual(output.failed[1]?.printed, []);
  });

  test("durations of tests only, in ms, s and m", () => {
    assert.deepEqual(output.slowest(1), [{ name: "grp > quiet", ms: 2000 }]);
    assert.equal(read("deno", "t ... ok (2m)").slowest(1)[0]?.ms, 120_000);
  });
});
