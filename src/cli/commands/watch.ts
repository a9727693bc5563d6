import type { WatchBatch } from "../../index.ts";
import { CanceledError } from "../../index.ts";
import type { Command } from "../command.ts";
import { kept } from "../go-json.ts";
import { keyTarget } from "../key-target.ts";
import { headerJson, kvJson, printKeyValue } from "../kv-format.ts";
import type { Output } from "../output.ts";

function printBatch(out: Output, batch: WatchBatch): void {
  if (out.format === "json") {
    out.json({
      Header: headerJson(batch.header),
      Events: batch.events.map((e) => ({
        type: e.type === "delete" ? 1 : 0,
        kv: kvJson(e.kv),
        prev_kv: e.prevKv ? kvJson(e.prevKv) : undefined,
      })),
      CompactRevision: kept(0),
      Canceled: kept(false),
      Created: kept(false),
    });
    return;
  }
  for (const event of batch.events) {
    out.line(event.type === "delete" ? "DELETE" : "PUT");
    if (event.prevKv) printKeyValue(out, event.prevKv);
    printKeyValue(out, event.kv);
  }
}

/**
 * `etcd-connect watch <key> [range_end]`: prints every change until Ctrl-C, as etcdctl does.
 * The watch resumes across member failures without losing or repeating an event; a compacted
 * `--rev` ends it with `WatchCompactedError`.
 *
 * @example
 * // etcd-connect watch --prefix cfg/ --rev 100 --prev-kv
 */
export const watchCommand: Command = {
  path: "watch",
  usage: "<key> [range_end]",
  summary: "Watches events stream on keys or prefixes",
  flags: {
    prefix: { type: "boolean", description: "watch every key with this prefix" },
    "from-key": { type: "boolean", description: "watch every key >= the given key" },
    rev: { type: "string", description: "start at this revision (older events are replayed)" },
    "prev-kv": { type: "boolean", description: "also print each key's previous value" },
    "progress-notify": { type: "boolean", description: "ask etcd for progress notifications" },
  },
  async run(ctx) {
    const target = keyTarget("watch", ctx.args, {
      prefix: ctx.flags.bool("prefix"),
      fromKey: ctx.flags.bool("from-key"),
    });
    const etcd = await ctx.etcd();
    const rev = ctx.flags.int("rev");
    const watcher = etcd.watch(target, {
      ...(rev === undefined ? {} : { startRevision: rev }),
      prevKv: ctx.flags.bool("prev-kv"),
      progressNotify: ctx.flags.bool("progress-notify"),
      signal: ctx.signal,
    });
    try {
      for await (const batch of watcher) printBatch(ctx.out, batch);
    } catch (error) {
      // Ctrl-C is how a watch ends.
      if (error instanceof CanceledError && ctx.signal.aborted) return;
      throw error;
    }
  },
};
