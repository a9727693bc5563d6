import { usageError } from "./cli-error.ts";

/** Flag values as `node:util` parseArgs returns them. */
export type FlagValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

/**
 * Typed access to parsed flag values.
 *
 * @example
 * const limit = flags.int("limit") ?? 0n;
 * if (flags.bool("prefix")) { ... }
 */
export class Flags {
  readonly #values: FlagValues;

  constructor(values: FlagValues) {
    this.#values = values;
  }

  /** A string flag, or undefined when not given. */
  string(name: string): string | undefined {
    const value = this.#values[name];
    return typeof value === "string" ? value : undefined;
  }

  /** A boolean flag. */
  bool(name: string): boolean {
    return this.#values[name] === true;
  }

  /** Every value of a repeatable string flag. */
  strings(name: string): string[] {
    const value = this.#values[name];
    if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
    return typeof value === "string" ? [value] : [];
  }

  /** An integer flag (int64), or undefined when not given. */
  int(name: string): bigint | undefined {
    const value = this.string(name);
    return value === undefined ? undefined : parseInteger(value, `--${name}`);
  }
}

/**
 * A decimal (or 0x hex) int64 argument as bigint, or a usage error naming `what`.
 *
 * @example
 * parseInteger("42", "--rev"); // 42n
 */
export function parseInteger(text: string, what: string): bigint {
  const trimmed = text.trim();
  if (!/^-?(\d+|0x[0-9a-f]+)$/i.test(trimmed)) {
    throw usageError(`${what}: "${text}" is not an integer`);
  }
  const negative = trimmed.startsWith("-");
  const value = BigInt(negative ? trimmed.slice(1) : trimmed);
  return negative ? -value : value;
}
