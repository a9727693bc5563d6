import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { type Compare, type CompareOperator, compare, type Op, op } from "../index.ts";
import { argify } from "./argify.ts";
import { CliError } from "./cli-error.ts";
import { delFlags, delRequest } from "./commands/del.ts";
import { getFlags, getRequest } from "./commands/get.ts";
import { putFlags, putRequest } from "./commands/put.ts";
import { ExitCode } from "./exit-codes.ts";
import { Flags, type FlagValues } from "./flags.ts";
import { unquoteGo } from "./go-quote.ts";
import { parseHexId } from "./ids.ts";

/** A Go string literal: "double quoted" with escapes, or `back-quoted`. */
const QUOTED = /("(?:[^"\\]|\\.)*"|`[^`]*`)/.source;
const COMPARE_LINE = new RegExp(String.raw`^\s*(\w+)\(${QUOTED}\)\s*(=|!=|<|>)\s*${QUOTED}\s*$`);
const OPERATORS: readonly CompareOperator[] = ["=", "!=", "<", ">"];

/**
 * One comparison line of etcdctl's txn input: `<target>("<key>") <op> "<value>"` where target is
 * value (val), version (ver), create (c), mod (m) or lease, and op is =, !=, < or >.
 *
 * @example
 * parseCompare('mod("cfg/a") < "42"'); // compare.modRevision("cfg/a", "<", 42n)
 */
export function parseCompare(line: string): Compare {
  const match = COMPARE_LINE.exec(line);
  if (!match) throw invalid(`malformed comparison: ${line}`);
  const [, target = "", rawKey = "", operator = "", rawValue = ""] = match;
  const key = unquoteGo(rawKey);
  const value = unquoteGo(rawValue);
  if (!OPERATORS.includes(operator as CompareOperator)) {
    throw invalid(`malformed comparison: ${line} (unknown operator ${operator})`);
  }
  const cmp = operator as CompareOperator;
  switch (target) {
    case "val":
    case "value":
      return compare.value(key, cmp, value);
    case "ver":
    case "version":
      return compare.version(key, cmp, integer(value, line));
    case "c":
    case "create":
      return compare.createRevision(key, cmp, integer(value, line));
    case "m":
    case "mod":
      return compare.modRevision(key, cmp, integer(value, line));
    case "lease":
      return compare.lease(key, cmp, parseHexId(value, "lease ID"));
    default:
      throw invalid(`malformed comparison: ${line} (unknown target ${target})`);
  }
}

/**
 * One request line of etcdctl's txn input: a `get`, `put` or `del` command line with the same
 * arguments and flags as the commands themselves.
 *
 * @example
 * parseOp("put cfg/a 2 --prev-kv"); // op.put("cfg/a", "2", { prevKv: true })
 */
export function parseOp(line: string): Op {
  const [name, ...args] = argify(line);
  const parse = (options: ParseArgsOptionsConfig) => {
    try {
      const { values, positionals } = parseArgs({ args, options, allowPositionals: true });
      return { positionals, flags: new Flags(values as FlagValues) };
    } catch (error) {
      throw invalid(`invalid txn request: ${line} (${(error as Error).message})`);
    }
  };
  switch (name) {
    case "get": {
      const { positionals, flags } = parse(getFlags);
      const { target, options } = getRequest(positionals, flags);
      return op.get(target, options);
    }
    case "put": {
      const { positionals, flags } = parse(putFlags);
      const { key, value, options } = putRequest(positionals, flags);
      return op.put(key, value, options);
    }
    case "del": {
      const { positionals, flags } = parse(delFlags);
      const { target, options } = delRequest(positionals, flags);
      return op.delete(target, options);
    }
    default:
      throw invalid(`invalid txn request: ${line}`);
  }
}

function integer(text: string, line: string): bigint {
  if (!/^-?\d+$/.test(text)) throw invalid(`malformed comparison: ${line} (not an integer)`);
  return BigInt(text);
}

function invalid(message: string): CliError {
  return new CliError(message, ExitCode.InvalidInput);
}
