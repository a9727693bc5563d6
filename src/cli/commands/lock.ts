import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import { parseInteger } from "../flags.ts";
import { untilStopped } from "../until-stopped.ts";

/**
 * `etcd-connect lock <name> [command ...]`: takes the lock (Go's concurrency.Mutex keys, so it
 * excludes `etcdctl lock` and Go programs), prints the lock key, and holds it until Ctrl-C; or
 * runs the command while holding it and exits with its exit code. The command gets
 * ETCD_LOCK_KEY, ETCD_LOCK_REV (as etcdctl sets them) and ETCD_LOCK_FENCING_TOKEN (the lock
 * key's create revision: pass it to what the command writes to).
 *
 * @example
 * // etcd-connect lock jobs/nightly -- ./run-nightly.sh
 */
export const lockCommand: Command = {
  path: "lock",
  usage: "<lockname> [exec-command arg1 arg2 ...]",
  summary: "Acquires a named lock",
  flags: { ttl: { type: "string", description: "session TTL in seconds (default 10)" } },
  async run(ctx) {
    const [name, ...command] = ctx.args;
    if (name === undefined || name === "") throw usageError("lock takes a lock name argument");
    const ttl = parseInteger(ctx.flags.string("ttl") ?? "10", "--ttl");
    const etcd = await ctx.etcd();
    const session = await etcd.session({ ttl, signal: ctx.signal });
    try {
      const mutex = session.mutex(name);
      await mutex.lock({ signal: ctx.signal });
      try {
        if (command.length === 0) {
          ctx.out.line(mutex.keyText);
          if ((await untilStopped(ctx.signal, session)) === "lost") throw session.endedError();
          return;
        }
        const [file = "", ...args] = command;
        // Loaded here: no other command needs it, and every command's start-up would pay for it.
        const { spawn } = await import("node:child_process");
        ctx.exitCode = await new Promise<number>((resolve, reject) => {
          const child = spawn(file, args, {
            stdio: "inherit",
            env: {
              ...process.env,
              ETCD_LOCK_KEY: mutex.keyText,
              ETCD_LOCK_REV: String(mutex.header?.revision ?? mutex.fencingToken),
              ETCD_LOCK_FENCING_TOKEN: String(mutex.fencingToken),
            },
          });
          const forward = () => child.kill("SIGTERM");
          ctx.signal.addEventListener("abort", forward, { once: true });
          child.once("error", reject);
          child.once("exit", (code, signal) => {
            ctx.signal.removeEventListener("abort", forward);
            resolve(code ?? (signal ? 128 + 15 : 1));
          });
        });
      } finally {
        await mutex.unlock().catch(() => {});
      }
    } finally {
      await session.close().catch(() => {});
    }
  },
};
