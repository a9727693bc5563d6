import type { DowngradeResult, Etcd } from "../../index.ts";
import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import type { CommandContext } from "../context.ts";
import { headerJson } from "../kv-format.ts";
import { rejectTable } from "../output.ts";

type Action = "validate" | "enable" | "cancel";

/** The target version argument, checked as etcdctl checks it before connecting. */
function targetVersion(ctx: CommandContext): string {
  if (ctx.args.length < 1) throw usageError("TARGET_VERSION not provided");
  if (ctx.args.length > 1) throw usageError("too many arguments");
  const version = ctx.args[0] ?? "";
  if (!version) throw usageError("target version not provided");
  return version;
}

function send(etcd: Etcd, action: Action, version: string, signal: AbortSignal) {
  if (action === "validate") return etcd.maintenance.downgradeValidate(version, { signal });
  if (action === "enable") return etcd.maintenance.downgradeEnable(version, { signal });
  return etcd.maintenance.downgradeCancel({ signal });
}

function print(ctx: CommandContext, action: Action, result: DowngradeResult): void {
  if (ctx.out.format === "json") {
    ctx.out.json({ header: headerJson(result.header), version: result.clusterVersion });
  } else {
    ctx.out.line(`Downgrade ${action} success, cluster version ${result.clusterVersion}`);
  }
}

function downgradeCommand(action: Action, usage: string, summary: string): Command {
  return {
    path: `downgrade ${action}`,
    usage,
    summary,
    async run(ctx) {
      // etcdctl's cancel takes no version and ignores extra arguments.
      const version = action === "cancel" ? "" : targetVersion(ctx);
      // No table for these answers; refused before anything is sent (etcdctl sends, then
      // refuses to print).
      rejectTable(ctx.out);
      const etcd = await ctx.etcd();
      print(ctx, action, await send(etcd, action, version, ctx.signal));
    },
  };
}

/**
 * `etcd-connect downgrade validate <version>`: asks whether the cluster can be downgraded to
 * `version` (the previous minor version), changing nothing.
 *
 * @example
 * // etcd-connect downgrade validate 3.6
 * // Downgrade validate success, cluster version 3.7
 */
export const downgradeValidateCommand = downgradeCommand(
  "validate",
  "<TARGET_VERSION>",
  "Validate downgrade capability before starting downgrade",
);

/**
 * `etcd-connect downgrade enable <version>`: starts a downgrade of the cluster to `version`;
 * members then take binaries of that version one at a time.
 *
 * @example
 * // etcd-connect downgrade enable 3.6
 */
export const downgradeEnableCommand = downgradeCommand(
  "enable",
  "<TARGET_VERSION>",
  "Start a downgrade action to cluster",
);

/**
 * `etcd-connect downgrade cancel`: cancels the downgrade in progress.
 *
 * @example
 * // etcd-connect downgrade cancel
 */
export const downgradeCancelCommand = downgradeCommand(
  "cancel",
  "",
  "Cancel the ongoing downgrade action to cluster",
);

/** The downgrade commands. @example commands.push(...downgradeCommands) */
export const downgradeCommands: readonly Command[] = [
  downgradeValidateCommand,
  downgradeEnableCommand,
  downgradeCancelCommand,
];
