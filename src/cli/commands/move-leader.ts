import { CliError, usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import { reportError } from "../error-report.ts";
import { ExitCode } from "../exit-codes.ts";
import { memberHex, parseHexId } from "../ids.ts";
import { headerJson } from "../kv-format.ts";
import { rejectTable } from "../output.ts";

/**
 * `etcd-connect move-leader <member ID>`: hands leadership to another voting member. Like
 * etcdctl, it asks each of `--endpoints` for its status, and sends the transfer to the one that
 * is the leader (so the leader must be among them).
 *
 * @example
 * // etcd-connect --endpoints=$ALL move-leader 2e1259d415f2a040
 */
export const moveLeaderCommand: Command = {
  path: "move-leader",
  usage: "<transferee-member-id>",
  summary: "Transfers leadership to another etcd cluster member",
  async run(ctx) {
    if (ctx.args.length !== 1) throw usageError("move-leader command needs 1 argument");
    const target = parseHexId(ctx.args[0] ?? "", "member ID for move-leader");
    rejectTable(ctx.out);
    let leader: { endpoint: string; memberId: bigint } | undefined;
    for (const endpoint of ctx.endpoints) {
      const etcd = await ctx.etcdAt(endpoint);
      const status = await etcd.maintenance.status({ signal: ctx.signal }).catch((error) => {
        // etcdctl exits 1 (not 2) when a member does not answer here.
        throw new CliError(reportError(error).line.replace(/^Error: /, ""), ExitCode.Error);
      });
      if (status.leader !== 0n && status.leader === status.memberId) {
        leader = { endpoint, memberId: status.memberId };
        break;
      }
    }
    if (!leader) {
      throw usageError(`no leader endpoint given at [${ctx.endpoints.join(" ")}]`);
    }
    const etcd = await ctx.etcdAt(leader.endpoint);
    const { header } = await etcd.maintenance.moveLeader(target, { signal: ctx.signal });
    if (ctx.out.format === "json") {
      // etcd leaves this answer's header unset (it reads as zeros): etcdctl prints {}.
      ctx.out.json({ header: header.memberId === 0n ? undefined : headerJson(header) });
    } else {
      ctx.out.line(
        `Leadership transferred from ${memberHex(leader.memberId)} to ${memberHex(target)}`,
      );
    }
  },
};
