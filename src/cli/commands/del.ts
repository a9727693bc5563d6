import type { DeleteOptions, KeyOrRange } from "../../index.ts";
import type { Command, FlagSpec } from "../command.ts";
import type { Flags } from "../flags.ts";
import { keyTarget } from "../key-target.ts";
import { deleteJson, printDelete } from "../kv-format.ts";

/** Flags of `del` (also accepted by `del` lines inside `txn`). */
export const delFlags = {
  prefix: { type: "boolean", description: "delete every key with this prefix" },
  "from-key": { type: "boolean", description: "delete every key >= the given key (byte order)" },
  "prev-kv": { type: "boolean", description: "print the deleted key-values" },
} as const satisfies Record<string, FlagSpec>;

/**
 * The delete that `del` arguments and flags ask for.
 *
 * @example
 * const { target, options } = delRequest(["tmp/"], flags);
 */
export function delRequest(
  args: string[],
  flags: Flags,
): { target: KeyOrRange; options: DeleteOptions } {
  const target = keyTarget("del", args, {
    prefix: flags.bool("prefix"),
    fromKey: flags.bool("from-key"),
  });
  return { target, options: flags.bool("prev-kv") ? { prevKv: true } : {} };
}

/**
 * `etcd-connect del`: deletes a key or a range, like `etcdctl del`; prints how many.
 *
 * @example
 * // etcd-connect del --prefix tmp/
 */
export const delCommand: Command = {
  path: "del",
  usage: "<key> [range_end]",
  summary: "Removes the specified key or range of keys [key, range_end)",
  flags: delFlags,
  async run(ctx) {
    const { target, options } = delRequest(ctx.args, ctx.flags);
    const etcd = await ctx.etcd();
    const result = await etcd.delete(target, { ...options, signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json(deleteJson(result));
    else printDelete(ctx.out, result);
  },
};
