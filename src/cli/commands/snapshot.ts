import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import { kept } from "../go-json.ts";
import { humanBytes } from "../humanize.ts";
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

/**
 * `etcd-connect snapshot status <file>`: the hash, revision, live key count, size and storage
 * version of a saved snapshot (or of a member's `member/snap/db` while the member is stopped),
 * as `etcdutl snapshot status` 3.7 prints them. Reads the file only; no etcd is contacted.
 *
 * @example
 * // etcd-connect snapshot status backup.db -w table
 */
export const snapshotStatusCommand: Command = {
  path: "snapshot status",
  usage: "<filename>",
  summary: "Gets backend snapshot status of a given file",
  async run(ctx) {
    ctx.expectArgs(1, 1, "snapshot status requires exactly one argument");
    // Loaded here: the reader decodes with protobuf-es, which help and the other commands'
    // argument errors need not load.
    const { snapshotFileStatus } = await import("../snapshot-file.ts");
    const status = snapshotFileStatus(ctx.args[0] ?? "");
    const hash = status.hash.toString(16);
    const row = [
      hash,
      String(status.revision),
      String(status.totalKey),
      humanBytes(status.totalSize),
      status.version,
    ];
    if (ctx.out.format === "json") {
      ctx.out.json({
        hash: kept(status.hash),
        revision: kept(status.revision),
        totalKey: kept(status.totalKey),
        totalSize: kept(status.totalSize),
        version: kept(status.version),
      });
    } else if (ctx.out.format === "table") {
      ctx.out.table(["Hash", "Revision", "Total Keys", "Total Size", "Version"], [row]);
    } else ctx.out.line(row.join(", "));
  },
};
