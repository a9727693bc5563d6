import { prefix } from "../../core/keys.ts";
import type { KeyValue } from "../../kv/key-value.ts";
import type { RangeOptions } from "../../kv/txn.ts";
import { retrying } from "../retry.ts";
import type { ConcurrencyScope, Waiting } from "../scope.ts";
import { claim, claimFirst } from "./claim.ts";
import { waitEvent } from "./wait-event.ts";

/**
 * Go's queue `Dequeue`: read the first key of `prefixBytes` in `order`, claim it (delete it if
 * unchanged); when someone else claimed it, read again; when the prefix is empty, wait for the
 * next put under it and claim that. Reads are repeated after transient failures; a claim is a
 * write and is sent once.
 *
 * @example
 * const item = await takeFirst(scope, toBytes("jobs/"), { sortTarget: "modRevision" }, waiting);
 */
export async function takeFirst(
  scope: ConcurrencyScope,
  prefixBytes: Uint8Array,
  order: Pick<RangeOptions, "sortTarget">,
  waiting: Waiting,
): Promise<KeyValue> {
  const write = { signal: waiting.signal };
  for (;;) {
    const page = await retrying(waiting.signal, waiting.attemptTimeoutMs, waiting.reason, (o) =>
      scope.kv.range(prefix(prefixBytes), { ...order, sortOrder: "ascend", limit: 1, ...o }),
    );
    const taken = await claimFirst(scope.kv, page.kvs, write);
    if (taken) return taken;
    if (page.more) continue;
    const event = await waitEvent(scope, prefix(prefixBytes), page.revision, "put", waiting);
    if (await claim(scope.kv, event.kv, write)) return event.kv;
  }
}
