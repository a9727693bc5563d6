import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import { ProgressBar } from "../progress-bar.ts";

/**
 * `etcd-connect snapshot save <file>`: streams one member's database to a file (written to
 * `<file>.part` and renamed when complete and its SHA-256 checks out), with a progress bar
 * when stderr is a terminal. Restore it with `etcdutl snapshot restore`.
 *
 * @example
 * // etcd-connect --endpoints=10.0.0.1:2379 snapshot save backup.db
 */
export const snapshotSaveCommand: Command = {
  path: "snapshot save",
  usage: "<filename>",
  summary: "Stores an etcd node backend snapshot to a given file",
  async run(ctx) {
    ctx.expectArgs(1, 1, "snapshot save expects one argument");
    const path = ctx.args[0] ?? "";
    if (ctx.endpoints.length !== 1) {
      throw usageError(
        `snapshot must be requested to one selected node, not multiple [${ctx.endpoints.join(" ")}]`,
      );
    }
    const etcd = await ctx.etcd();
    const bar = new ProgressBar(ctx.out, "snapshot");
    try {
      await etcd.maintenance.snapshot(path, {
        signal: ctx.signal,
        onProgress: ({ bytes, remaining }) => bar.update(bytes, bytes + remaining),
      });
    } finally {
      bar.finish();
    }
    ctx.out.line(`Snapshot saved at ${path}`);
  },
};
