import { type ChildProcess, execFile, spawn } from "node:child_process";
import { resolve } from "node:path";

/** The CLI entry point, run from source. */
export const cliMain = resolve(import.meta.dirname, "../../src/cli/main.ts");

/** What one run of the `etcd-connect` command gave. */
export interface CliResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/**
 * Runs the `etcd-connect` command from source with `--endpoints` set (unless `endpoints` is
 * empty) and returns its raw stdout, stderr and exit code; never rejects.
 *
 * @example
 * const { stdout, code } = await runCli(fx.endpoints, ["get", "k"]);
 */
export function runCli(
  endpoints: string[],
  args: string[],
  options: { input?: string | Uint8Array; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [cliMain, ...(endpoints.length > 0 ? [`--endpoints=${endpoints.join(",")}`] : []), ...args],
      {
        encoding: "buffer",
        env: { ...process.env, ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ stdout, stderr: stderr.toString("utf8"), code });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

/**
 * A long-running `etcd-connect` command (watch, lock, elect, lease keep-alive): its stdout lines
 * as they come, and a way to stop it with a signal.
 *
 * @example
 * const watch = new CliProcess(fx.endpoints, ["watch", "k"]);
 * await watch.waitLines(3);
 * await watch.stop();
 */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  #stderr = "";
  #partial = "";
  #waiters: Array<() => void> = [];

  constructor(endpoints: string[], args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [cliMain, `--endpoints=${endpoints.join(",")}`, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop() ?? "";
      this.lines.push(...parts);
      this.#wake();
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => {
        this.#wake();
        resolve(code);
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Waits until `count` lines have been printed in total (rejects on exit or after a timeout). */
  async waitLines(count: number, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (!this.running) {
        throw new Error(`etcd-connect exited (${this.child.exitCode}) early: ${this.#stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `etcd-connect printed ${this.lines.length}/${count} lines: ${this.#stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines.slice(0, count);
  }

  /** Sends SIGINT (the command cleans up and exits) and returns the exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
