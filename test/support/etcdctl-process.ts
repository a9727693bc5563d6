import { type ChildProcess, spawn } from "node:child_process";
import { etcdctlBinary } from "./etcd-binary.ts";
import { signalChild } from "./runtime.ts";

/**
 * A long-running etcdctl (`lock`, `elect`, `watch`...): its stdout lines as they come, and a way
 * to stop it. `etcdctl lock <name>` prints the lock key once acquired and holds the lock until
 * it gets SIGINT/SIGTERM (then unlocks and revokes its session); `etcdctl elect <name> <value>`
 * prints key and value once elected; `etcdctl elect -l <name>` prints key and value on every
 * change.
 *
 * @example
 * const ctl = spawnEtcdctl(endpoints, ["lock", "jobs"]);
 * const key = await ctl.nextLine();
 * await ctl.stop();
 */
export class EtcdctlProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  #stderr = "";
  #partial = "";
  #waiters: Array<() => void> = [];

  constructor(endpoints: string[], args: string[], env: Record<string, string> = {}) {
    this.child = spawn(etcdctlBinary(), [`--endpoints=${endpoints.join(",")}`, ...args], {
      env: { ...process.env, ETCDCTL_API: "3", ...env },
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
    live.add(this);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /**
   * Waits until `count` lines have been printed in total; rejects after `timeoutMs` or when the
   * process exits first.
   */
  async waitLines(count: number, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (!this.running) {
        throw new Error(`etcdctl exited (${this.child.exitCode}) before printing: ${this.#stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`etcdctl printed ${this.lines.length}/${count} lines in time`);
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

  /** SIGINT (etcdctl unlocks/resigns and revokes its session), then waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGINT"): Promise<void> {
    if (this.running) signalChild(this.child, signal);
    const timer = setTimeout(() => signalChild(this.child, "SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
    live.delete(this);
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

const live = new Set<EtcdctlProcess>();
process.on("exit", () => {
  for (const ctl of live) signalChild(ctl.child, "SIGKILL");
});

/**
 * Starts a long-running etcdctl against `endpoints`.
 *
 * @example
 * const elect = spawnEtcdctl(endpoints, ["elect", "svc", "v1"]);
 */
export function spawnEtcdctl(
  endpoints: string[],
  args: string[],
  env?: Record<string, string>,
): EtcdctlProcess {
  return new EtcdctlProcess(endpoints, args, env);
}
