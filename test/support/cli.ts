import { type ChildProcess, execFile, spawn } from "node:child_process";
import { resolve } from "node:path";
import { scriptArgs, signalChild } from "./runtime.ts";

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
      scriptArgs(
        cliMain,
        ...(endpoints.length > 0 ? [`--endpoints=${endpoints.join(",")}`] : []),
        ...args,
      ),
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
 * A long-running Node script (an example) or `etcd-connect` command (watch, lock, elect): its
 * stdout lines as they come, and a way to stop it with a signal.
 *
 * @example
 * const agent = new ScriptProcess("examples/config-watch.ts", ["config/"], { ETCD_ENDPOINTS });
 * await agent.waitFor(/^listed/);
 * await agent.stop();
 */
export class ScriptProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  #stderr = "";
  #partial = "";
  #waiters: Array<() => void> = [];

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, scriptArgs(script, ...args), {
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
    await this.#until(() => this.lines.length >= count, `${count} lines`, timeoutMs);
    return this.lines.slice(0, count);
  }

  /**
   * Waits for a line matching `pattern` printed after line `from` (default: any line so far),
   * and returns it with its index.
   */
  async waitFor(
    pattern: RegExp,
    from = 0,
    timeoutMs = 30_000,
  ): Promise<{ line: string; index: number }> {
    const find = () => this.lines.findIndex((l, i) => i >= from && pattern.test(l));
    await this.#until(() => find() >= 0, `a line matching ${pattern}`, timeoutMs);
    const index = find();
    return { line: this.lines[index] ?? "", index };
  }

  /** Sends a signal (default SIGINT: the script cleans up and exits) and returns the exit code. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
    if (this.running) signalChild(this.child, signal);
    const timer = setTimeout(() => signalChild(this.child, "SIGKILL"), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  async #until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (!this.running) {
        throw new Error(
          `process exited (${this.child.exitCode}) before printing ${what}:\n${this.lines.join("\n")}\n${this.#stderr}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${what} in time:\n${this.lines.join("\n")}\n${this.#stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/**
 * A long-running `etcd-connect` command (watch, lock, elect, lease keep-alive) run from source.
 *
 * @example
 * const watch = new CliProcess(fx.endpoints, ["watch", "k"]);
 * await watch.waitLines(3);
 * await watch.stop();
 */
export class CliProcess extends ScriptProcess {
  constructor(endpoints: string[], args: string[], env: Record<string, string> = {}) {
    super(cliMain, [`--endpoints=${endpoints.join(",")}`, ...args], env);
  }
}
