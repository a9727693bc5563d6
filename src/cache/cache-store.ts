import type { KeyValue } from "../kv/key-value.ts";
import type { KeyBounds } from "./key-order.ts";

/**
 * The cached keys in memory: a map from order key to `KeyValue` for lookups, and a sorted array
 * of the order keys for ranges and iteration in etcd's key order. Adding or removing a key costs
 * a binary search and an array splice; replacing a value costs one map write.
 *
 * @example
 * const store = new CacheStore();
 * store.set(orderKey(kv.key), kv);
 * store.range(KeyBounds.of(prefix("cfg/")));
 */
export class CacheStore {
  readonly #byKey = new Map<string, KeyValue>();
  readonly #sorted: string[] = [];

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): KeyValue | undefined {
    return this.#byKey.get(key);
  }

  set(key: string, kv: KeyValue): void {
    if (!this.#byKey.has(key)) this.#sorted.splice(this.#lowerBound(key), 0, key);
    this.#byKey.set(key, kv);
  }

  delete(key: string): boolean {
    if (!this.#byKey.delete(key)) return false;
    const index = this.#lowerBound(key);
    if (this.#sorted[index] === key) this.#sorted.splice(index, 1);
    return true;
  }

  /** The entries inside `bounds`, in key order. */
  range(bounds: KeyBounds): KeyValue[] {
    if (bounds.single) {
      const kv = this.#byKey.get(bounds.start);
      return kv ? [kv] : [];
    }
    const out: KeyValue[] = [];
    const sorted = this.#sorted;
    for (let i = this.#lowerBound(bounds.start); i < sorted.length; i++) {
      const key = sorted[i] as string;
      if (bounds.end !== undefined && key >= bounds.end) break;
      out.push(this.#byKey.get(key) as KeyValue);
    }
    return out;
  }

  /** Every entry in key order (order key first). */
  *entries(): Generator<[string, KeyValue], void, undefined> {
    for (const key of this.#sorted) yield [key, this.#byKey.get(key) as KeyValue];
  }

  /** The first index whose key is >= `key`. */
  #lowerBound(key: string): number {
    const sorted = this.#sorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
