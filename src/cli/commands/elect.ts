import { CanceledError } from "../../index.ts";
import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import { parseInteger } from "../flags.ts";
import { untilStopped } from "../until-stopped.ts";

/**
 * `etcd-connect elect <name> <proposal>`: campaigns (Go's concurrency.Election keys, so it
 * contends with `etcdctl elect` and Go programs), prints the leader key and value once elected,
 * and leads until Ctrl-C (then resigns). With `--listen`, observes: prints the leader key and
 * value at every change.
 *
 * @example
 * // etcd-connect elect svc host-a:8080
 * // etcd-connect elect svc --listen
 */
export const electCommand: Command = {
  path: "elect",
  usage: "<election-name> [proposal]",
  summary: "Observes and participates in leader election",
  flags: {
    listen: { type: "boolean", short: "l", description: "observe the election, do not campaign" },
    ttl: { type: "string", description: "session TTL in seconds (default 60)" },
  },
  async run(ctx) {
    const [name, proposal] = ctx.args;
    const listen = ctx.flags.bool("listen");
    if (
      !name ||
      ctx.args.length > 2 ||
      (listen ? proposal !== undefined : proposal === undefined)
    ) {
      throw usageError(
        listen
          ? "elect --listen takes only the election name"
          : "elect takes an election name and a proposal (or --listen)",
      );
    }
    const etcd = await ctx.etcd();
    if (listen) {
      try {
        for await (const leader of etcd.election(name).observe({ signal: ctx.signal })) {
          ctx.out.bytesLine(leader.key);
          ctx.out.bytesLine(leader.value);
        }
      } catch (error) {
        if (error instanceof CanceledError && ctx.signal.aborted) return;
        throw error;
      }
      return;
    }
    const ttl = parseInteger(ctx.flags.string("ttl") ?? "60", "--ttl");
    const session = await etcd.session({ ttl, signal: ctx.signal });
    try {
      const election = session.election(name);
      await election.campaign(proposal ?? "", { signal: ctx.signal });
      try {
        ctx.out.line(election.keyText);
        ctx.out.line(proposal);
        if ((await untilStopped(ctx.signal, session)) === "lost") throw session.endedError();
      } finally {
        await election.resign().catch(() => {});
      }
    } finally {
      await session.close().catch(() => {});
    }
  },
};
