/**
 * Runs a script of bench/lib in a Node process of its own (a row that must not measure what the
 * benchmark's process holds) and returns the JSON of the last line it printed.
 *
 * @example
 * const { cpuUs } = await lastJsonLine<{ cpuUs: number }>("keep-alive-process.ts", args);
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function lastJsonLine<T>(script: string, args: string[]): Promise<T> {
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, script), ...args]);
  return JSON.parse(stdout.trim().split("\n").at(-1) as string) as T;
}
