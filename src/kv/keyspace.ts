import { KeyRange, prefixEnd } from "../core/keys.ts";

const ZERO = new Uint8Array([0]);

/**
 * Maps the keys a caller sees to the keys etcd stores: identity for a plain client, a prefix for
 * a namespace. Ranges stay inside the namespace: "\0" ends become the namespace's own end.
 *
 * @example
 * const ks = new Keyspace(new TextEncoder().encode("app/"));
 * ks.encodeKey(new TextEncoder().encode("a")); // bytes of "app/a"
 */
export class Keyspace {
  readonly prefix: Uint8Array;

  constructor(prefix: Uint8Array = new Uint8Array(0)) {
    this.prefix = prefix;
  }

  get isRoot(): boolean {
    return this.prefix.length === 0;
  }

  /** A caller's key as stored. */
  encodeKey(key: Uint8Array): Uint8Array {
    if (this.prefix.length === 0) return key;
    const out = new Uint8Array(this.prefix.length + key.length);
    out.set(this.prefix, 0);
    out.set(key, this.prefix.length);
    return out;
  }

  /** A caller's range as stored: [key, rangeEnd) with both ends inside the namespace. */
  encodeRange(range: KeyRange): KeyRange {
    if (this.prefix.length === 0) return range;
    // all() is key "\0": stored as prefix + "\0", so the bare prefix (an empty caller key, which
    // no caller can write) stays outside, as in Go's namespace package.
    const key = this.encodeKey(range.key);
    if (range.rangeEnd.length === 0) return new KeyRange(key, range.rangeEnd);
    const end = isZero(range.rangeEnd) ? prefixEnd(this.prefix) : this.encodeKey(range.rangeEnd);
    return new KeyRange(key, end);
  }

  /** A stored key as the caller sees it (a view, no copy). */
  decodeKey(key: Uint8Array): Uint8Array {
    return this.prefix.length === 0 ? key : key.subarray(this.prefix.length);
  }

  /** A nested keyspace under this one. */
  child(prefix: Uint8Array): Keyspace {
    return new Keyspace(this.encodeKey(prefix));
  }
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.length === 1 && bytes[0] === 0;
}

export { ZERO as RANGE_END_ALL };
