// Runs node:test files on Bun or Deno with that runtime's own test runner, passes its output
// through, and closes with the counts of tests (leaf tests, as Node counts them: not the
// describe blocks) and the skipped ones with their reasons:
//
//   node scripts/test-runtime.ts bun|deno [files or folders...]   (default: test/integration)
//
// `bun test` runs node:test files natively (node:test is mapped onto bun:test); Deno runs them
// only under `deno test` (under `deno run` node:test registers nothing). Bun prints one line per
// test; Deno prints describe blocks as steps with their own status line, which are not counted.
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
    ? ["test", "--timeout", "600000", ...targets]
    : ["test", "-A", "--no-check", "--node-modules-dir=manual", ...targets];

const counts = { passed: 0, failed: 0, skipped: 0 };
const skipped: string[] = [];
const failedNames: string[] = [];
const reasons = new Set<string>();
/** Deno: the describe blocks open at each indentation. */
const open: string[] = [];
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

function bunLine(text: string): void {
  if (/^\d+ tests? (failed|skipped):$/.test(text) || /^ *\d+ (pass|fail|skip|todo)$/.test(text)) {
    bunRecap = true;
  }
  if (bunRecap) return;
  const m = /^\((pass|fail|skip|todo)\) (.*?)(?: \[[\d.]+m?s\])?$/.exec(text);
  if (!m) return;
  const [, status, name = ""] = m;
  if (status === "pass") counts.passed++;
  else if (status === "fail") {
    counts.failed++;
    failedNames.push(name);
  } else {
    counts.skipped++;
    skipped.push(name);
  }
}

function denoLine(text: string): void {
  const indent = /^ */.exec(text)?.[0].length ?? 0;
  const header = /^( *)(.+) \.\.\.$/.exec(text);
  if (header) {
    open[indent / 2] = header[2] ?? "";
    open.length = indent / 2 + 1;
    return;
  }
  const m = /^( *)(.+) \.\.\. (ok|FAILED|ignored|INCOMPLETE)\b(.*)$/.exec(text);
  if (!m) return;
  const name = m[2] ?? "";
  const status = m[3];
  const level = indent / 2;
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
if (failedNames.length > 0) {
  console.log("failed:");
  for (const name of failedNames) console.log(`  ${name}`);
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
