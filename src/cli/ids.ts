import { usageError } from "./cli-error.ts";
import { parseInteger } from "./flags.ts";

/**
 * A lease ID as etcdctl prints it: 16 lowercase hex digits.
 *
 * @example
 * leaseHex(7587862072907702794n); // "694d7b0b3c5ba20a"
 */
export function leaseHex(id: bigint): string {
  return id.toString(16).padStart(16, "0");
}

/**
 * A member ID as etcdctl prints it: lowercase hex, no padding.
 *
 * @example
 * memberHex(3319814642761637952n); // "2e1259d415f2a040"
 */
export function memberHex(id: bigint): string {
  return id.toString(16);
}

/**
 * A lease or member ID as etcdctl takes it: hexadecimal without prefix.
 *
 * @example
 * parseHexId("694d7b0b3c5ba20a", "lease ID"); // 7587862072907702794n
 */
export function parseHexId(text: string, what: string): bigint {
  if (!/^[0-9a-f]{1,16}$/i.test(text)) {
    throw usageError(`bad ${what} "${text}" (expected hexadecimal)`);
  }
  return parseInteger(`0x${text}`, what);
}
