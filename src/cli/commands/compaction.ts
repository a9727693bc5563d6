import type { Command } from "../command.ts";
import { parseInteger } from "../flags.ts";
import { headerJson } from "../kv-format.ts";

/**
 * `etcd-connect compaction <revision>`: discards the history before a revision.
 *
 * @example
 * // etcd-connect compaction 1234 --physical
 */
export const compactionCommand: Command = {
  path: "compaction",
  usage: "<revision>",
  summary: "Compacts the event history in etcd",
  flags: {
    physical: {
      type: "boolean",
      description: "wait until the compacted space is reclaimed",
    },
  },
  async run(ctx) {
    ctx.expectArgs(1, 1, "compaction command needs 1 argument");
    const revision = parseInteger(ctx.args[0] ?? "", "revision");
    const etcd = await ctx.etcd();
    const result = await etcd.compact(revision, {
      physical: ctx.flags.bool("physical"),
      signal: ctx.signal,
    });
    if (ctx.out.format === "json") ctx.out.json({ header: headerJson(result.header) });
    else ctx.out.line(`compacted revision ${revision}`);
  },
};
