// Runs node:test files on Bun or Deno with that runtime's own test runner, passes its output
// through, and closes with what scripts/runtime-test-output.ts read from it: the counts of tests,
// the slowest ones, the failed ones with what each printed, the skipped ones with their reasons:
//
//   node scripts/test-runtime.ts bun|deno [files or folders...]   (default: test/integration)
//
// `bun test` runs node:test files natively (node:test is mapped onto bun:test); Deno runs them
// only under `deno test` (under `deno run` node:test registers nothing).
// Exit code: 1 when a test failed or the runner failed without naming a test.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { RuntimeTestOutput } from "./runtime-test-output.ts";

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

const output = new RuntimeTestOutput(runtime);
let pending = "";

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
  for (const part of parts) output.line(part);
};
// Both streams go through one parser: bun test reports on stderr, deno test on stdout.
child.stdout.on("data", (c: Buffer) => feed(c, process.stdout));
child.stderr.on("data", (c: Buffer) => feed(c, process.stderr));
const code: number = await new Promise((done) => child.on("close", (c) => done(c ?? 1)));
if (pending) output.line(pending);

const seconds = Math.round((Date.now() - started) / 1000);
console.log(`\n=== ${runtime}: ${targets.join(" ")} (${seconds} s) ===`);
// Failures last, nearest the counts: CI shows the end of the output.
if (output.skipped.length > 0) {
  console.log(`skipped on ${runtime}:`);
  for (const name of output.skipped) console.log(`  ${name}`);
  for (const reason of output.reasons) console.log(`  reason: ${reason}`);
}
const slowest = output.slowest(5);
if (slowest.length > 0) {
  console.log("slowest:");
  for (const { name, ms } of slowest) console.log(`  ${(ms / 1000).toFixed(1)} s  ${name}`);
}
if (output.failed.length > 0) {
  console.log("failed:");
  for (const { name, printed } of output.failed) {
    console.log(`  ${name}`);
    for (const text of printed) console.log(`  | ${text}`);
  }
}
const counts = output.counts;
if (code !== 0 && counts.failed === 0) {
  console.log(`${runtime} exited with ${code} without a failed test: counted as one failure`);
  counts.failed = 1;
}
console.log(
  `${runtime}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`,
);
process.exit(counts.failed > 0 ? 1 : 0);
