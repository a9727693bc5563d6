import { CliError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import { ExitCode } from "../exit-codes.ts";
import { goDuration } from "../humanize.ts";
import { targetEndpoints } from "./endpoint.ts";

/**
 * `etcd-connect defrag`: defragments each member's database in turn (one at a time: a member
 * does not serve while it defragments).
 *
 * @example
 * // etcd-connect defrag --cluster
 */
export const defragCommand: Command = {
  path: "defrag",
  usage: "",
  summary: "Defragments the storage of the etcd members with given endpoints",
  flags: {
    cluster: {
      type: "boolean",
      description: "defragment every member (client URLs from member list)",
    },
  },
  async run(ctx) {
    ctx.expectArgs(0, 0, "defrag command takes no arguments");
    let failed = 0;
    for (const endpoint of await targetEndpoints(ctx)) {
      // etcdctl 3.7 says how long each member took, connecting included.
      const started = process.hrtime.bigint();
      const took = () => goDuration(process.hrtime.bigint() - started);
      try {
        const etcd = await ctx.etcdAt(endpoint);
        const [normalized] = etcd.endpoints;
        await etcd.maintenance.defragment({ endpoint: normalized ?? endpoint, signal: ctx.signal });
        ctx.out.line(`Finished defragmenting etcd member[${endpoint}]. took ${took()}`);
      } catch (error) {
        failed++;
        const text = error instanceof Error ? error.message : String(error);
        ctx.out.note(`Failed to defragment etcd member[${endpoint}]. took ${took()}. (${text})\n`);
      }
    }
    if (failed > 0) throw new CliError(`${failed} member(s) not defragmented`, ExitCode.Error);
  },
};
