import { all, fromKey, type KeyOrRange, prefix, range } from "../index.ts";
import { usageError } from "./cli-error.ts";

/**
 * The keys a get, del or watch names, from `<key> [range_end]` and `--prefix` / `--from-key`,
 * with etcdctl's rules: an empty key with --prefix or --from-key means every key.
 *
 * @example
 * keyTarget("get", ["cfg/"], { prefix: true }); // prefix("cfg/")
 */
export function keyTarget(
  command: string,
  args: string[],
  options: { prefix?: boolean; fromKey?: boolean },
): KeyOrRange {
  const [key, rangeEnd] = args;
  if (key === undefined || args.length > 2) {
    throw usageError(
      `${command} command needs one argument as key and an optional argument as range_end`,
    );
  }
  if (options.prefix && options.fromKey) {
    throw usageError("--prefix and --from-key cannot be set at the same time");
  }
  if (rangeEnd !== undefined && (options.prefix || options.fromKey)) {
    throw usageError(
      `too many arguments: ${command} takes only a key with ${options.prefix ? "--prefix" : "--from-key"}`,
    );
  }
  if (options.prefix) return prefix(key);
  if (options.fromKey) return key === "" ? all() : fromKey(key);
  if (key === "") throw usageError("the key must not be empty");
  return rangeEnd === undefined ? key : range(key, rangeEnd);
}
