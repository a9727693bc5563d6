import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { atExit } from "./cleanup.ts";

const LOG_LINES_KEPT = 200;

/**
 * One etcd process of a test cluster: kill it, pause it, resume it, restart it on its data dir.
 *
 * @example
 * const member = cluster.members[0];
 * await member.kill();
 * await member.restart();
 * await cluster.waitHealthy();
 */
export class TestMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The etcd executable. */
  readonly binary: string;
  /** The running process (the last one, after a kill). */
  process: ChildProcess | undefined;
  /** True between `pause()` and `resume()`. */
  paused = false;
  readonly #args: string[];
  readonly #log: string[] = [];
  #disposeCleanup: (() => void) | undefined;
  #everStarted = false;

  /** @internal Use `TestCluster.start()` or `cluster.startMember()`. */
  constructor(
    name: string,
    clientUrl: string,
    peerUrl: string,
    dataDir: string,
    args: string[],
    binary: string,
  ) {
    this.name = name;
    this.clientUrl = clientUrl;
    this.peerUrl = peerUrl;
    this.dataDir = dataDir;
    this.#args = args;
    this.binary = binary;
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** True while the process runs (a paused member runs). */
  get running(): boolean {
    // Not `killed`: Node sets it once any signal was sent, SIGSTOP and SIGCONT included.
    return (
      this.process !== undefined &&
      this.process.exitCode === null &&
      this.process.signalCode === null
    );
  }

  /**
   * True when the process was started and is gone without `kill()`: it crashed or could not
   * start (a port taken, say).
   */
  get exitedUnexpectedly(): boolean {
    return this.#everStarted && this.#disposeCleanup !== undefined && !this.running;
  }

  /** Starts the process (again, on the same data dir after a kill). */
  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const child = spawn(this.binary, this.#args, { stdio: ["ignore", "ignore", "pipe"] });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) {
        if (line) this.#log.push(line);
      }
      if (this.#log.length > LOG_LINES_KEPT) this.#log.splice(0, this.#log.length - LOG_LINES_KEPT);
    });
    // Neither the process nor its pipe keeps the test process alive: the exit hook kills it.
    child.unref();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    this.process = child;
    this.paused = false;
    this.#everStarted = true;
    this.#disposeCleanup?.();
    this.#disposeCleanup = atExit(() => {
      // By pid, as pause() does, and only while the runtime has not seen the process end (its
      // pid could be reused after): an exiting runtime's ChildProcess may not pass kill() on.
      const pid = child.exitCode === null && child.signalCode === null ? child.pid : undefined;
      if (pid === undefined) return;
      signal(pid, "SIGKILL");
      // A signal takes effect when the kernel next schedules the process: wait for that, so the
      // data directory is removed after etcd stopped writing to it and nothing outlives us.
      waitForState(pid, "Z");
    });
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.#forget();
      return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.ref();
    // SIGKILL ends a stopped process too; a SIGCONT first would let a hung member run for a
    // moment and serve what was waiting in its sockets.
    child.kill("SIGKILL");
    await exited;
    child.unref();
    this.paused = false;
    this.#forget();
  }

  /** SIGSTOP: the member hangs with its sockets open. Returns once the process is stopped. */
  pause(): void {
    const pid = this.#livePid();
    if (pid === undefined) return;
    // By pid, not `child.kill()`: Deno 2.9's ChildProcess takes its first kill() for the end of
    // the child (it sets signalCode) and sends no signal after it, not even SIGKILL.
    if (!signal(pid, "SIGSTOP")) return;
    this.paused = true;
    waitForState(pid, "T");
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    const pid = this.#livePid();
    if (pid !== undefined) signal(pid, "SIGCONT");
    this.paused = false;
  }

  /** The pid of the process while it has not exited. */
  #livePid(): number | undefined {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    return child.pid;
  }

  /** Kill and start again on the same data dir (and ports). */
  async restart(): Promise<void> {
    await this.kill();
    this.start();
  }

  /** The last lines etcd wrote to stderr. */
  logTail(lines = 40): string {
    return this.#log.slice(-lines).join("\n");
  }

  #forget(): void {
    this.#disposeCleanup?.();
    this.#disposeCleanup = undefined;
  }
}

/**
 * Waits (synchronously, up to a second) until /proc says every thread of `pid` is in `state`
 * ("T" stopped, "Z" dead) or the process is gone: a signal is delivered when the kernel next
 * schedules the process, so on a loaded machine a "paused" etcd could otherwise still answer the
 * request sent right after `pause()`.
 */
function waitForState(pid: number, state: string): void {
  const deadline = Date.now() + 1000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let stopped = true;
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== state)
          stopped = false;
      }
    } catch {
      // Gone (reaped): stopped, and dead, for good.
      return;
    }
    if (stopped) return;
    Atomics.wait(pause, 0, 0, 2);
  }
}

/** Sends `name` to `pid`; false when the process is already gone. */
function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}
