import type { KeyOrRange, RangeOptions } from "../../index.ts";
import { usageError } from "../cli-error.ts";
import type { Command, FlagSpec } from "../command.ts";
import type { Flags } from "../flags.ts";
import { keyTarget } from "../key-target.ts";
import { printRange, rangeJson } from "../kv-format.ts";

/** Flags of `get` (also accepted by `get` lines inside `txn`). */
export const getFlags = {
  prefix: { type: "boolean", description: "get every key with this prefix" },
  "from-key": { type: "boolean", description: "get every key >= the given key (byte order)" },
  limit: { type: "string", description: "most keys to return (0: no limit)" },
  rev: { type: "string", description: "read at this revision (0: the newest)" },
  order: { type: "string", description: "ASCEND or DESCEND" },
  "sort-by": { type: "string", description: "CREATE, KEY, MODIFY, VALUE or VERSION" },
  consistency: { type: "string", description: "l (linearizable, default) or s (serializable)" },
  "keys-only": { type: "boolean", description: "only the keys" },
  "count-only": { type: "boolean", description: "only the count" },
  "print-value-only": { type: "boolean", description: "only the values (simple output)" },
} as const satisfies Record<string, FlagSpec>;

const SORT_TARGETS = {
  CREATE: "createRevision",
  KEY: "key",
  MODIFY: "modRevision",
  VALUE: "value",
  VERSION: "version",
} as const;

/**
 * The range read that `get` arguments and flags ask for.
 *
 * @example
 * const { target, options } = getRequest(["cfg/"], flags);
 */
export function getRequest(
  args: string[],
  flags: Flags,
): { target: KeyOrRange; options: RangeOptions } {
  const target = keyTarget("get", args, {
    prefix: flags.bool("prefix"),
    fromKey: flags.bool("from-key"),
  });
  const options: RangeOptions = {};
  const limit = flags.int("limit");
  if (limit !== undefined) options.limit = limit;
  const rev = flags.int("rev");
  if (rev !== undefined) options.revision = rev;
  if (flags.bool("keys-only")) options.keysOnly = true;
  if (flags.bool("count-only")) options.countOnly = true;
  const consistency = flags.string("consistency") ?? "l";
  if (consistency === "s") options.serializable = true;
  else if (consistency !== "l") throw usageError(`unknown consistency flag "${consistency}"`);
  const order = flags.string("order")?.toUpperCase();
  const sortBy = flags.string("sort-by")?.toUpperCase();
  if (order !== undefined) {
    if (order !== "ASCEND" && order !== "DESCEND") throw usageError(`bad --order "${order}"`);
    options.sortOrder = order === "ASCEND" ? "ascend" : "descend";
  }
  if (sortBy !== undefined) {
    const target = SORT_TARGETS[sortBy as keyof typeof SORT_TARGETS];
    if (!target) throw usageError(`bad --sort-by "${sortBy}"`);
    options.sortTarget = target;
    options.sortOrder ??= "ascend";
  }
  return { target, options };
}

/**
 * `etcd-connect get`: one key or a range, like `etcdctl get`.
 *
 * @example
 * // etcd-connect get --prefix cfg/ --limit 10
 */
export const getCommand: Command = {
  path: "get",
  usage: "<key> [range_end]",
  summary: "Gets the key or a range of keys",
  flags: getFlags,
  async run(ctx) {
    const { target, options } = getRequest(ctx.args, ctx.flags);
    const result =
      (await ctx.gatewayRange(target, options)) ??
      (await (await ctx.etcd()).range(target, { ...options, signal: ctx.signal }));
    if (ctx.out.format === "json") ctx.out.json(rangeJson(result));
    else if (options.countOnly) ctx.out.line(String(result.count));
    else printRange(ctx.out, result, ctx.flags.bool("print-value-only"));
  },
};
