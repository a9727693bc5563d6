import type { Bytes, PutOptions } from "../../index.ts";
import { usageError } from "../cli-error.ts";
import type { Command, FlagSpec } from "../command.ts";
import type { Flags } from "../flags.ts";
import { parseHexId } from "../ids.ts";
import { printPut, putJson } from "../kv-format.ts";
import { readAll } from "../read-all.ts";

/** Flags of `put` (also accepted by `put` lines inside `txn`). */
export const putFlags = {
  lease: { type: "string", description: "attach the key to this lease ID (hex)" },
  "prev-kv": { type: "boolean", description: "print the previous key-value" },
  "ignore-value": { type: "boolean", description: "keep the current value" },
  "ignore-lease": { type: "boolean", description: "keep the current lease" },
} as const satisfies Record<string, FlagSpec>;

/**
 * The put that `put` arguments and flags ask for. Without a value argument the value is
 * `stdinValue` (read from stdin).
 *
 * @example
 * const { key, value, options } = putRequest(["k", "v"], flags);
 */
export function putRequest(
  args: string[],
  flags: Flags,
  stdinValue?: Bytes,
): { key: string; value: Bytes; options: PutOptions } {
  const ignoreValue = flags.bool("ignore-value");
  const [key, argValue] = args;
  const value = argValue ?? (ignoreValue ? "" : stdinValue);
  if (key === undefined || value === undefined || args.length > 2) {
    throw usageError("put command needs 1 argument and input from stdin or 2 arguments");
  }
  if (ignoreValue && argValue !== undefined) {
    throw usageError("put command needs only 1 argument when --ignore-value is set");
  }
  if (key === "") throw usageError("the key must not be empty");
  const options: PutOptions = {};
  const lease = flags.string("lease");
  if (lease !== undefined) options.lease = parseHexId(lease, "lease ID");
  if (flags.bool("prev-kv")) options.prevKv = true;
  if (ignoreValue) options.ignoreValue = true;
  if (flags.bool("ignore-lease")) options.ignoreLease = true;
  return { key, value, options };
}

/**
 * `etcd-connect put`: writes a key, like `etcdctl put`; the value may come from stdin.
 *
 * @example
 * // etcd-connect put greeting hello --prev-kv
 */
export const putCommand: Command = {
  path: "put",
  usage: "<key> [value]",
  summary: "Puts the given key into the store (the value from stdin when not given)",
  flags: putFlags,
  async run(ctx) {
    const needsStdin = ctx.args.length === 1 && !ctx.flags.bool("ignore-value");
    // Like etcdctl: the whole of stdin, newline included; empty stdin is no value.
    const input = needsStdin ? await readAll(ctx.stdin) : undefined;
    const stdinValue = input && input.length > 0 ? input : undefined;
    const { key, value, options } = putRequest(ctx.args, ctx.flags, stdinValue);
    const etcd = await ctx.etcd();
    const result = await etcd.put(key, value, { ...options, signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json(putJson(result));
    else printPut(ctx.out, result);
  },
};
