/**
 * The CLI's pieces that need no etcd: etcdctl's JSON and table formats, Go-style numbers and
 * durations, txn input parsing, argument rules, error lines and exit codes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { argify } from "../../src/cli/argify.ts";
import { CliError } from "../../src/cli/cli-error.ts";
import { parseDuration } from "../../src/cli/duration.ts";
import { reportError } from "../../src/cli/error-report.ts";
import { ExitCode } from "../../src/cli/exit-codes.ts";
import { goJson, kept } from "../../src/cli/go-json.ts";
import { unquoteGo } from "../../src/cli/go-quote.ts";
import { goDuration, humanBytes } from "../../src/cli/humanize.ts";
import { leaseHex, parseHexId } from "../../src/cli/ids.ts";
import { keyTarget } from "../../src/cli/key-target.ts";
import { render } from "../../src/cli/progress-bar.ts";
import { run } from "../../src/cli/run.ts";
import { table } from "../../src/cli/table.ts";
import { parseCompare, parseOp } from "../../src/cli/txn-input.ts";
import { Code, CompactedError, KeyRange, toText } from "../../src/index.ts";

test("goJson prints like Go's encoding/json with omitempty", () => {
  assert.equal(
    goJson({
      header: { cluster_id: 14841639068965178418n, revision: 5n, raft_term: 0n },
      kvs: [{ key: new Uint8Array([102, 111, 111]), version: 1n, lease: 0n }],
      more: false,
      count: 1n,
      empty: [],
      health: kept(false),
      error: kept(""),
    }),
    '{"header":{"cluster_id":14841639068965178418,"revision":5},"kvs":[{"key":"Zm9v","version":1}],"count":1,"health":false,"error":""}',
  );
  assert.equal(goJson([{ keys: kept(null) }]), '[{"keys":null}]');
});

test("humanBytes and goDuration match go-humanize and time.Duration", () => {
  assert.equal(humanBytes(0n), "0 B");
  assert.equal(humanBytes(9), "9 B");
  assert.equal(humanBytes(20480n), "20 kB"); // 20.5 rounds half to even, like Go's %.0f
  assert.equal(humanBytes(21500), "22 kB");
  assert.equal(humanBytes(1_500_000), "1.5 MB");
  assert.equal(goDuration(5_487_428n), "5.487428ms");
  assert.equal(goDuration(950_000n), "950µs");
  assert.equal(goDuration(12n), "12ns");
  assert.equal(goDuration(1_500_000_000n), "1.5s");
  assert.equal(goDuration(62_000_000_000n), "1m2s");
  assert.equal(goDuration(3_723_000_000_000n), "1h2m3s");
});

test("table draws etcdctl 3.7's -w table layout", () => {
  assert.equal(
    table(
      ["id", "is learner"],
      [
        ["2e12", "false"],
        ["7", "true"],
      ],
    ),
    [
      "┌──────┬────────────┐",
      "│  ID  │ IS LEARNER │",
      "├──────┼────────────┤",
      "│ 2e12 │      false │",
      "│    7 │       true │",
      "└──────┴────────────┘",
    ].join("\n"),
  );
  // No rows (every endpoint failed): the header alone, between the top and bottom borders.
  assert.equal(
    table(["endpoint", "id"], []),
    ["┌──────────┬────┐", "│ ENDPOINT │ ID │", "└──────────┴────┘"].join("\n"),
  );
  // Width counts characters, not UTF-16 units (U+1D465 is two of those, one column).
  assert.equal(table(["n"], [["𝑥"]]).split("\n")[3], "│ 𝑥 │");
});

test("progress bar line", () => {
  assert.match(render("snapshot", 50, 100), /^snapshot \[#{15}\.{15}\] {2}50% 50 B \/ 100 B$/);
});

test("Go string literals and shell-like argument splitting", () => {
  assert.equal(unquoteGo('"a\\tb\\x00\\u00e9\\"\\\\"'), 'a\tb\0é"\\');
  assert.equal(unquoteGo("`raw \\n`"), "raw \\n");
  assert.throws(() => unquoteGo('"bad\\q"'), CliError);
  assert.deepEqual(argify(`put "a key" 'a value' --prev-kv`), [
    "put",
    "a key",
    "a value",
    "--prev-kv",
  ]);
  assert.deepEqual(argify('get "k\\n1"'), ["get", "k\n1"]);
});

test("txn compare lines parse into the library's compares", () => {
  assert.deepEqual(parseCompare('value("k") = "v"'), {
    target: "value",
    key: "k",
    operator: "=",
    operand: "v",
  });
  assert.deepEqual(parseCompare('mod("k") < "42"'), {
    target: "modRevision",
    key: "k",
    operator: "<",
    operand: 42n,
  });
  assert.equal(parseCompare('ver("k") != "0"').target, "version");
  assert.equal(parseCompare('c("k") > "1"').target, "createRevision");
  assert.equal(parseCompare('lease("k") = "694d7b0b3c5ba20a"').operand, 0x694d7b0b3c5ba20an);
  for (const bad of ["bogus", 'value("k") == "v"', 'size("k") = "1"', 'mod("k") = "x"']) {
    assert.throws(
      () => parseCompare(bad),
      (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.InvalidInput,
      bad,
    );
  }
});

test("txn request lines take the commands' own flags", () => {
  const put = parseOp('put k "two words" --prev-kv');
  assert.equal(put.type, "put");
  assert.deepEqual(put.type === "put" && [put.key, put.value, put.options], [
    "k",
    "two words",
    { prevKv: true },
  ]);
  const get = parseOp("get a/ --prefix --limit=2 --keys-only");
  assert.ok(get.type === "range" && get.key instanceof KeyRange);
  assert.deepEqual(get.type === "range" && get.options, { limit: 2n, keysOnly: true });
  const del = parseOp("del a c");
  assert.ok(del.type === "delete" && del.key instanceof KeyRange);
  assert.equal(del.type === "delete" && toText((del.key as KeyRange).rangeEnd), "c");
  assert.throws(() => parseOp("watch k"), CliError);
  assert.throws(() => parseOp("get k --bogus"), CliError);
});

test("key arguments follow etcdctl's rules", () => {
  assert.equal(keyTarget("get", ["k"], {}), "k");
  const all = keyTarget("get", [""], { prefix: true }) as KeyRange;
  assert.deepEqual([...all.key, ...all.rangeEnd], [0, 0]);
  const from = keyTarget("get", [""], { fromKey: true }) as KeyRange;
  assert.deepEqual([...from.key, ...from.rangeEnd], [0, 0]);
  for (const [args, options] of [
    [[], {}],
    [["a", "b", "c"], {}],
    [["a", "b"], { prefix: true }],
    [["a"], { prefix: true, fromKey: true }],
    [[""], {}],
  ] as const) {
    assert.throws(
      () => keyTarget("get", [...args], options),
      (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.BadArgs,
    );
  }
});

test("IDs, durations and error lines", () => {
  assert.equal(leaseHex(0x2040a21309555f32n), "2040a21309555f32");
  assert.equal(leaseHex(0xabn), "00000000000000ab");
  assert.equal(parseHexId("8e9e05c52164694d", "member ID"), 0x8e9e05c52164694dn);
  assert.throws(() => parseHexId("xyz", "member ID"), CliError);
  assert.equal(parseDuration("500ms", "--t"), 500);
  assert.equal(parseDuration("1m30s", "--t"), 90_000);
  assert.equal(parseDuration("2", "--t"), 2000);
  assert.throws(() => parseDuration("soon", "--t"), CliError);
  const compacted = new CompactedError(
    "etcdserver: mvcc: required revision has been compacted",
    Code.OutOfRange,
  );
  assert.deepEqual(reportError(compacted), {
    line: "Error: CompactedError (OutOfRange): etcdserver: mvcc: required revision has been compacted",
    exitCode: ExitCode.Error,
  });
  assert.equal(reportError(compacted, true).exitCode, ExitCode.Interrupted);
  assert.deepEqual(reportError(new Error("two\nlines")), {
    line: "Error: two lines",
    exitCode: ExitCode.Error,
  });
});

test("run: help, unknown commands and bad flags without touching etcd", async () => {
  const capture = async (argv: string[]) => {
    let stdout = "";
    let stderr = "";
    const code = await run(argv, {
      env: {},
      stdout: { write: (c) => (stdout += String(c)) },
      stderr: { write: (c) => (stderr += String(c)) },
      stdin: (async function* () {})(),
      signal: new AbortController().signal,
      stdinIsTTY: false,
      askPassword: () => Promise.reject(new Error("no terminal")),
    });
    return { code, stdout, stderr };
  };
  const help = await capture(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /\n {2}lease keep-alive +Keeps leases alive/);
  const getHelp = await capture(["get", "--help"]);
  assert.match(getHelp.stdout, /Usage: etcd-connect get \[flags\] <key> \[range_end\]/);
  assert.match(getHelp.stdout, /--print-value-only/);
  assert.deepEqual(await capture(["nope"]), {
    code: 128,
    stdout: "",
    stderr: 'Error: unknown command "nope"; run etcd-connect --help for the list\n',
  });
  assert.equal(
    (await capture(["member"])).stderr
      .split("\n")[0]
      ?.startsWith("Error: member needs a subcommand: list, add"),
    true,
  );
  assert.equal((await capture(["get", "k", "--limit"])).code, 128);
  assert.equal((await capture(["get", "k", "-w", "yaml"])).code, 128);
  assert.equal((await capture(["get", "k", "--user=a:b", "--password=c"])).code, 128);
});
