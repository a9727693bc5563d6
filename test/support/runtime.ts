/**
 * Which JavaScript runtime runs the tests (Node, Bun or Deno), and what differs between them for
 * the tests themselves: how a child script is started, and which tests cannot run.
 */

import type { ChildProcess } from "node:child_process";

/** The runtime running this process. */
export type Runtime = "node" | "bun" | "deno";

/** The runtime running this process: Bun and Deno announce themselves with a global. */
export const runtime: Runtime =
  "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

/**
 * The arguments that run `script` with `args` in a child of the same runtime, for
 * `spawn(process.execPath, scriptArgs(script, ...args))`. Deno needs `run`, its permissions and
 * the project's node_modules (a script in a temporary folder finds no package.json to say so).
 *
 * @example
 * spawn(process.execPath, scriptArgs("examples/demo.ts", "--quick"));
 */
export function scriptArgs(script: string, ...args: string[]): string[] {
  if (runtime === "deno") return ["run", "-A", "--node-modules-dir=manual", script, ...args];
  return [script, ...args];
}

/**
 * The arguments that run the `node:test` file `file` in a child of the same runtime. Node runs
 * one as a script; Bun only inside `bun test`, and Deno only inside `deno test`.
 *
 * @example
 * execFile(process.execPath, testFileArgs("/tmp/example.ts"));
 */
export function testFileArgs(file: string): string[] {
  if (runtime === "bun") return ["test", "--timeout", "600000", file];
  if (runtime === "deno") return ["test", "-A", "--no-check", "--node-modules-dir=manual", file];
  return [file];
}

/**
 * Sends `signal` to a child by its pid; false when it is gone. Deno 2.9's `child.kill()` marks
 * the child as ended by the first signal it sends (its exit then reads as that signal, whatever
 * the child did) and sends nothing after it; by pid, every runtime reports the real exit.
 *
 * @example
 * signalChild(child, "SIGINT");
 */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  try {
    process.kill(child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `skip` option for a test that cannot work on some runtime, with the reason: false on the
 * others. The reason is printed too, since `bun test` shows a skipped test without it. Every use
 * is listed in the README's runtime section.
 *
 * @example
 * test("a Node-only thing", { skip: unsupportedOn({ deno: "needs process.binding" }) }, () => {});
 */
export function unsupportedOn(reasons: Partial<Record<Runtime, string>>): string | false {
  const reason = reasons[runtime];
  if (reason === undefined) return false;
  const text = `not on ${runtime}: ${reason}`;
  console.log(`# skip (${text})`);
  return text;
}

/** Why the CLI's tests are skipped on Deno. */
export const CLI_ON_DENO =
  "the etcd-connect command is a Node program (its bin runs on node); under Deno each of these tests starts Deno processes for it, most of the Deno run's time, and its snapshot save ends early there (Deno's stream pipeline: Premature close)";

/** Why the tests that take a snapshot are skipped on Deno. */
export const SNAPSHOT_ON_DENO =
  "Deno 2.9's node:http2 closes a server stream before its last messages are read (the snapshot stream fails with Premature close in most runs)";

/** Why the TLS tests are skipped on Deno. */
export const TLS_ON_DENO =
  "Deno 2.9's node:http2 over TLS sometimes never completes the HTTP/2 handshake (the dial times out): one or two TLS tests failed in each run, a different one each time";
