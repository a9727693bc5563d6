/**
 * Last-resort cleanup of test clusters: etcd processes and data directories still around when
 * the process exits (a test that failed before its `after` hook ran, `process.exit()`, an
 * uncaught exception), is ended by SIGINT, SIGTERM or SIGHUP, or (on Deno) when a test file
 * ends. Each action is synchronous: an
 * exiting process runs no more callbacks.
 */
const actions = new Set<() => void>();
let installed = false;

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function runAll(): void {
  for (const action of [...actions]) {
    actions.delete(action);
    try {
      action();
    } catch {
      // Best effort: the next action still runs.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // Our listener replaced Node's default (exit on the signal): with nobody else listening, die
  // of the signal as the process would have without us.
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  installed = false;
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
  if ("Deno" in globalThis) {
    // Deno 2.9 ends a process on an uncaught exception without emitting "exit"; its monitor
    // event still comes first. Clean up there when nothing will handle the exception.
    process.on("uncaughtExceptionMonitor", onFatalException);
    // `deno test` emits no "exit" either, and runs no `after` hook in a file with a skipped
    // test; each file's "unload" event still comes when the file ends.
    (globalThis as unknown as EventTarget).addEventListener("unload", runAll);
  }
}

function onFatalException(): void {
  if (process.listenerCount("uncaughtException") === 0) runAll();
}

/**
 * Registers `action` to run if the process exits or is signalled before `dispose` is called.
 *
 * @example
 * const dispose = atExit(() => child.kill("SIGKILL"));
 * // ... later, after stopping the child normally:
 * dispose();
 */
export function atExit(action: () => void): () => void {
  install();
  actions.add(action);
  return () => {
    actions.delete(action);
  };
}
