import { Event_EventType, type Event as WireEvent } from "../../gen/mvccpb/kv_pb.ts";
import type { ResponseHeader } from "../kv/key-value.ts";
import { type KeyValue, toKeyValue } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";

/**
 * One change to one key. `kv.modRevision` is the revision of the change (for a delete, the
 * revision of the deletion; `kv.value` is then empty). `prevKv` is the key's state before the
 * change, when the watch asked for `prevKv` and that state was not compacted yet.
 *
 * @example
 * for await (const event of watcher.events()) {
 *   if (event.type === "put") console.log(event.kv.keyText, "=", event.kv.text);
 *   else console.log(event.kv.keyText, "deleted at", event.kv.modRevision);
 * }
 */
export interface WatchEvent {
  readonly type: "put" | "delete";
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | undefined;
}

/**
 * What a watcher yields. `kind: "events"`: every event of one revision, in the order etcd applied
 * them (a revision is never split across batches). `kind: "progress"`: a bookmark, no events:
 * etcd has sent this watcher every event up to and including `revision`.
 *
 * @example
 * for await (const batch of etcd.watch(prefix("cfg/"), { progressNotify: true })) {
 *   if (batch.kind === "progress") checkpoint(batch.revision);
 *   for (const event of batch.events) apply(event);
 * }
 */
export interface WatchBatch {
  readonly kind: "events" | "progress";
  /** The revision of every event in the batch; for progress, the revision reached. */
  readonly revision: bigint;
  /** The events; empty for progress. */
  readonly events: readonly WatchEvent[];
  /** The header of the response that carried the batch. */
  readonly header: ResponseHeader;
}

/**
 * A wire event as a `WatchEvent`, keys without the keyspace prefix.
 *
 * @example
 * const event = toWatchEvent(wire, keyspace);
 */
export function toWatchEvent(wire: WireEvent, keyspace: Keyspace): WatchEvent {
  const kv = wire.kv;
  if (!kv) throw new TypeError("etcd sent a watch event without a key");
  return {
    type: wire.type === Event_EventType.DELETE ? "delete" : "put",
    kv: toKeyValue(kv, keyspace),
    prevKv: wire.prevKv ? toKeyValue(wire.prevKv, keyspace) : undefined,
  };
}

/**
 * Splits a response's events into one batch per revision (etcd sends them in revision order).
 *
 * @example
 * const batches = toBatches(reply.events(keyspace), reply.header);
 */
export function toBatches(events: readonly WatchEvent[], header: ResponseHeader): WatchBatch[] {
  const batches: WatchBatch[] = [];
  let start = 0;
  let revision = -1n;
  for (let i = 0; i < events.length; i++) {
    const rev = (events[i] as WatchEvent).kv.modRevision;
    if (rev !== revision) {
      if (i > start)
        batches.push({ kind: "events", revision, events: events.slice(start, i), header });
      start = i;
      revision = rev;
    }
  }
  if (events.length > start) {
    const rest = start === 0 ? events : events.slice(start);
    batches.push({ kind: "events", revision, events: rest, header });
  }
  return batches;
}

/**
 * A bookmark batch.
 *
 * @example
 * const mark = progressBatch(header);
 */
export function progressBatch(header: ResponseHeader): WatchBatch {
  return { kind: "progress", revision: header.revision, events: [], header };
}
