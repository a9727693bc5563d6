import { InvalidArgumentError } from "./errors.ts";

/**
 * A key or value as callers pass it: strings are encoded as UTF-8, bytes are used as they are.
 *
 * @example
 * await etcd.put("text", "é");                        // stored as the bytes c3 a9
 * await etcd.put("binary", new Uint8Array([0, 255]));
 */
export type Bytes = string | Uint8Array;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ZERO = new Uint8Array([0]);
const EMPTY = new Uint8Array(0);

/**
 * Encodes a key or value to bytes. Strings become UTF-8; a `Uint8Array` is returned as is (never
 * copied, never modified).
 *
 * @example
 * toBytes("a/b"); // Uint8Array [97, 47, 98]
 */
export function toBytes(value: Bytes, what = "value"): Uint8Array {
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new InvalidArgumentError(`${what} must be a string or Uint8Array, got ${describe(value)}`);
}

/**
 * Decodes UTF-8 bytes to a string.
 *
 * @example
 * toText(new Uint8Array([104, 105])); // "hi"
 */
export function toText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * The smallest key greater than every key that starts with `prefix`: the last byte below 0xff is
 * incremented and the 0xff bytes after it are dropped. An empty or all-0xff prefix has no such key,
 * so the result is "\0", which etcd reads as "no upper bound". Returns a new array; the input is
 * never modified.
 *
 * @example
 * prefixEnd("a/");               // bytes of "a0"
 * prefixEnd(new Uint8Array([0x61, 0xff])); // Uint8Array [0x62]
 */
export function prefixEnd(prefix: Bytes): Uint8Array {
  const bytes = toBytes(prefix, "prefix");
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i] as number;
    if (byte < 0xff) {
      const end = bytes.slice(0, i + 1);
      end[i] = byte + 1;
      return end;
    }
  }
  return ZERO.slice();
}

/**
 * A set of keys as etcd addresses them: `key` alone when `rangeEnd` is empty, every key >= `key`
 * when `rangeEnd` is "\0", else [key, rangeEnd). Build one with `key`, `prefix`, `range`,
 * `fromKey` or `all`.
 *
 * @example
 * const r = prefix("cfg/");
 * r.key;      // bytes of "cfg/"
 * r.rangeEnd; // bytes of "cfg0"
 */
export class KeyRange {
  /** First key of the range (inclusive). */
  readonly key: Uint8Array;
  /** Empty: only `key`. "\0": no upper bound. Otherwise the exclusive upper bound. */
  readonly rangeEnd: Uint8Array;

  constructor(key: Uint8Array, rangeEnd: Uint8Array) {
    this.key = key;
    this.rangeEnd = rangeEnd;
  }

  /** True when the range is a single key. */
  get isSingleKey(): boolean {
    return this.rangeEnd.length === 0;
  }
}

/**
 * Exactly one key.
 *
 * @example
 * await etcd.delete(key("cfg/a"));
 */
export function key(k: Bytes): KeyRange {
  return new KeyRange(requireKey(k), EMPTY);
}

/**
 * Every key that starts with `p`: [p, prefixEnd(p)). An empty prefix means every key.
 *
 * @example
 * await etcd.range(prefix("cfg/"));
 */
export function prefix(p: Bytes): KeyRange {
  const bytes = toBytes(p, "prefix");
  if (bytes.length === 0) return all();
  return new KeyRange(bytes, prefixEnd(bytes));
}

/**
 * The keys in [start, end).
 *
 * @example
 * await etcd.range(range("a", "c")); // "a", "b", "bzz", not "c"
 */
export function range(start: Bytes, end: Bytes): KeyRange {
  const endBytes = toBytes(end, "range end");
  if (endBytes.length === 0) throw new InvalidArgumentError("range end must not be empty");
  return new KeyRange(requireKey(start), endBytes);
}

/**
 * Every key greater than or equal to `k` (range_end "\0").
 *
 * @example
 * await etcd.range(fromKey("m")); // "m", "n", ..., "zzz"
 */
export function fromKey(k: Bytes): KeyRange {
  return new KeyRange(requireKey(k), ZERO.slice());
}

/**
 * Every key (key "\0", range_end "\0").
 *
 * @example
 * const { count } = await etcd.range(all(), { countOnly: true });
 */
export function all(): KeyRange {
  return new KeyRange(ZERO.slice(), ZERO.slice());
}

/**
 * A single key or a range, as the KV methods accept them.
 *
 * @example
 * await etcd.delete("one-key");
 * await etcd.delete(prefix("many/"));
 */
export type KeyOrRange = Bytes | KeyRange;

/**
 * Turns a key or a range into a `KeyRange`.
 *
 * @example
 * toKeyRange("a").isSingleKey; // true
 */
export function toKeyRange(value: KeyOrRange): KeyRange {
  return value instanceof KeyRange ? value : key(value);
}

function requireKey(k: Bytes): Uint8Array {
  const bytes = toBytes(k, "key");
  if (bytes.length === 0) throw new InvalidArgumentError("key must not be empty");
  return bytes;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}
