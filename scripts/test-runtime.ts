// Runs node:test files on Bun or Deno with that runtime's own test runner, passes its output
// through, and closes with the counts of tests (leaf tests, as Node counts them: not the
// describe blocks), the slowest tests, what each failed test printed (Bun prints a test's error
// before its line; Deno in its own section at the end) and the skipped ones with their reasons:
//
//   node scripts/test-runtime.ts bun|deno [files or folders...]   (default: test/integration)
//
// `bun test` runs node:test files natively (node:test is mapped onto bun:test); Deno runs them
// only under `deno test` (under `deno run` node:test registers nothing). Bun prints one line per
// test; Deno prints describe blocks as steps with their own status line, which are not counted
// (a test that printed output opens like a block, but has no steps).
// Exit code: 1 when a test failed or the runner failed without naming a test.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";

const root = join(import.meta.dirname, "..");
const [runtime, ...paths] = process.argv.slice(2);
if (runtime !== "bun" && runtime !== "deno") {
  console.error("usage: node scripts/test-runtime.ts bun|deno [files or folders...]");
  process.exit(2);
}
const targets = paths.length > 0 ? paths : ["test/integration"];
const binary = join(root, "node_modules/.bin", runtime);
if (!existsSync(binary)) {
  console.error(`${binary} is missing: run npm ci`);
  process.exit(2);
}
const args =
  runtime === "bun"
    ? ["test", "--timeout", "120000", ...targets]
    : ["test", "-A", "--no-check", "--node-modules-dir=manual", ...targets];

const counts = { passed: 0, failed: 0, skipped: 0 };
const skipped: string[] = [];
const failedNames: string[] = [];
const reasons = new Set<string>();
/** Deno: the describe blocks open at each indentation, and whether each has steps yet. */
const open: string[] = [];
const hasSteps: boolean[] = [];
let pending = "";

function line(raw: string): void {
  const text = stripVTControlCharacters(raw);
  const reason = /^# skip \((.*)\)$/.exec(text.trim());
  if (reason?.[1]) reasons.add(reason[1]);
  if (runtime === "bun") bunLine(text);
  else denoLine(text);
}

/** Bun: past "N tests failed:" it lists the failures again. */
let bunRecap = false;
/** Bun: the file whose tests run now, and what was printed since the last test's line. */
let bunFile = "";
let bunSince: string[] = [];
/** What each failed test printed before its line (Bun prints the error there), at most this. */
const detailLines = 40;
const failedDetails: string[][] = [];
/** The slowest tests, to tell a hang that ended from a slow machine. */
const durations: { name: string; ms: number }[] = [];

function bunLine(text: string): void {
  if (/^\d+ tests? (failed|skipped):$/.test(text) || /^ *\d+ (pass|fail|skip|todo)$/.test(text)) {
    bunRecap = true;
  }
  if (bunRecap) return;
  const file = /^(\S.*\.test\.[cm]?[jt]s):$/.exec(text);
  if (file?.[1]) bunFile = file[1];
  const m = /^\((pass|fail|skip|todo)\) (.*?)(?: \[([\d.]+)(m?s)\])?$/.exec(text);
  if (!m) {
    bunSince.push(text);
    if (bunSince.length > detailLines) bunSince.shift();
    return;
  }
  const [, status, name = "", amount, unit] = m;
  if (amount)
    durations.push({ name: `${bunFile}: ${name}`, ms: Number(amount) * (unit === "s" ? 1000 : 1) });
  const printed = bunSince;
  bunSince = [];
  if (status === "pass") counts.passed++;
  else if (status === "fail") {
    counts.failed++;
    failedNames.push(`${bunFile}: ${name}`);
    failedDetails.push(printed);
  } else {
    counts.skipped++;
    skipped.push(name);
  }
}

function denoLine(text: string): void {
  const indent = /^ */.exec(text)?.[0].length ?? 0;
  const level = indent / 2;
  const header = /^( *)(.+) \.\.\.$/.exec(text);
  if (header) {
    open[level] = header[2] ?? "";
    open.length = level + 1;
    hasSteps[level] = false;
    if (level > 0) hasSteps[level - 1] = true;
    return;
  }
  const m = /^( *)(.+) \.\.\. (ok|FAILED|ignored|INCOMPLETE)\b(.*)$/.exec(text);
  if (!m) return;
  const name = m[2] ?? "";
  const status = m[3];
  if (level > 0) hasSteps[level - 1] = true;
  // A test that printed something is opened like a block ("name ...", its output, then
  // "name ... ok"); a block has steps.
  if (open[level] === name && open.length === level + 1 && !hasSteps[level]) open.length = level;
  if (open[level] === name && open.length === level + 1) {
    // The end of a describe block: its tests were counted. A block that failed on its own
    // (a hook threw) is a failure too.
    open.length = level;
    if (status === "FAILED" && !/due to \d+ failed step/.test(m[4] ?? "")) {
      counts.failed++;
      failedNames.push(`${[...open, name].join(" > ")} (the block itself)`);
    }
    return;
  }
  const path = [...open.slice(0, level), name].join(" > ");
  const took = /\((\d+)(ms|s|m)\)/.exec(m[4] ?? "");
  if (took)
    durations.push({
      name: path,
      ms: Number(took[1]) * ({ ms: 1, s: 1000, m: 60_000 }[took[2] as "ms"] ?? 1),
    });
  if (status === "ok") counts.passed++;
  else if (status === "ignored") {
    counts.skipped++;
    skipped.push(path);
  } else {
    counts.failed++;
    failedNames.push(path);
  }
}

const started = Date.now();
const child = spawn(binary, args, {
  cwd: root,
  env: { ...process.env, NO_COLOR: "1" },
  stdio: ["ignore", "pipe", "pipe"],
});
const feed = (chunk: Buffer, out: NodeJS.WriteStream) => {
  out.write(chunk);
  const parts = (pending + chunk.toString("utf8")).split("\n");
  pending = parts.pop() ?? "";
  for (const part of parts) line(part);
};
// Both streams go through one parser: bun test reports on stderr, deno test on stdout.
child.stdout.on("data", (c: Buffer) => feed(c, process.stdout));
child.stderr.on("data", (c: Buffer) => feed(c, process.stderr));
const code: number = await new Promise((done) => child.on("close", (c) => done(c ?? 1)));
if (pending) line(pending);

const seconds = Math.round((Date.now() - started) / 1000);
console.log(`\n=== ${runtime}: ${targets.join(" ")} (${seconds} s) ===`);
durations.sort((a, b) => b.ms - a.ms);
if (durations.length > 0) {
  console.log("slowest:");
  for (const { name, ms } of durations.slice(0, 5))
    console.log(`  ${(ms / 1000).toFixed(1)} s  ${name}`);
}
if (failedNames.length > 0) {
  console.log("failed:");
  failedNames.forEach((name, i) => {
    console.log(`  ${name}`);
    for (const printed of failedDetails[i] ?? []) console.log(`  | ${printed}`);
  });
}
if (skipped.length > 0) {
  console.log(`skipped on ${runtime}:`);
  for (const name of skipped) console.log(`  ${name}`);
  for (const reason of reasons) console.log(`  reason: ${reason}`);
}
if (code !== 0 && counts.failed === 0) {
  console.log(`${runtime} exited with ${code} without a failed test: counted as one failure`);
  counts.failed = 1;
}
console.log(
  `${runtime}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
);
process.exit(counts.failed > 0 ? 1 : 0);
