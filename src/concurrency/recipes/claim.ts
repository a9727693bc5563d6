import type { CallOptions } from "../../core/call-options.ts";
import type { KeyValue } from "../../kv/key-value.ts";
import type { KV } from "../../kv/kv.ts";
import { compare, op } from "../../kv/txn.ts";

/**
 * Deletes `kv.key` only if it is still at `kv.modRevision` (Go's `deleteRevKey`): true when this
 * call took it, false when someone else changed or took it first. Sent once (a write).
 *
 * @example
 * if (await claim(etcd.kv, item, {})) console.log("mine:", item.text);
 */
export async function claim(kv: KV, item: KeyValue, options: CallOptions): Promise<boolean> {
  const result = await kv.txn(
    {
      compare: [compare.modRevision(item.key, "=", item.modRevision)],
      success: [op.delete(item.key)],
    },
    options,
  );
  return result.succeeded;
}

/**
 * Claims the first of `items` nobody else took (Go's `claimFirstKey`).
 *
 * @example
 * const item = await claimFirst(etcd.kv, page.kvs, {});
 */
export async function claimFirst(
  kv: KV,
  items: readonly KeyValue[],
  options: CallOptions,
): Promise<KeyValue | undefined> {
  for (const item of items) {
    if (await claim(kv, item, options)) return item;
  }
  return undefined;
}
