import { InvalidArgumentError } from "../core/errors.ts";
import { type KeyOrRange, type KeyRange, toKeyRange } from "../core/keys.ts";
import { latin1 } from "../core/latin1.ts";

/**
 * A key as a string that sorts like etcd sorts keys: one character per byte (latin1), so plain
 * string comparison is byte-wise comparison. The cache keys its map and its sorted index by it.
 *
 * @example
 * orderKey(new TextEncoder().encode("cfg/a")); // "cfg/a"
 */
export function orderKey(key: Uint8Array): string {
  return latin1(key);
}

/**
 * A key range as order keys: `[start, end)`, `end` undefined for "every key from start on",
 * `single` for one key.
 *
 * @example
 * const bounds = KeyBounds.of(prefix("cfg/"));
 * bounds.contains(orderKey(key)); // true for "cfg/a"
 */
export class KeyBounds {
  readonly start: string;
  readonly end: string | undefined;
  readonly single: boolean;

  private constructor(start: string, end: string | undefined, single: boolean) {
    this.start = start;
    this.end = end;
    this.single = single;
  }

  /** The bounds of a key or range as the caller writes it (`all()`, `fromKey()`, `prefix()`...). */
  static of(target: KeyOrRange): KeyBounds {
    const range: KeyRange = toKeyRange(target);
    const start = orderKey(range.key);
    if (range.isSingleKey) return new KeyBounds(start, undefined, true);
    const end = range.rangeEnd;
    const unbounded = end.length === 1 && end[0] === 0;
    return new KeyBounds(start, unbounded ? undefined : orderKey(end), false);
  }

  /** Whether the key is in the range. */
  contains(key: string): boolean {
    if (this.single) return key === this.start;
    return key >= this.start && (this.end === undefined || key < this.end);
  }

  /** Whether every key of `inner` is in this range. */
  covers(inner: KeyBounds): boolean {
    if (inner.single) return this.contains(inner.start);
    if (this.single) return false;
    if (inner.start < this.start) return false;
    if (this.end === undefined) return true;
    return inner.end !== undefined && inner.end <= this.end;
  }

  /** Throws unless `inner` lies inside this range (a cache cannot answer for keys it does not hold). */
  assertCovers(inner: KeyBounds): void {
    if (!this.covers(inner)) {
      throw new InvalidArgumentError("the key or range asked for is outside the cached range");
    }
  }
}
