import type { WatchResponse } from "../../gen/etcdserverpb/rpc_pb.ts";
import { type ResponseHeader, toHeader } from "../kv/key-value.ts";
import type { Keyspace } from "../kv/keyspace.ts";
import { toBatches, toWatchEvent, type WatchEvent } from "./events.ts";
import type { BufferedBatch } from "./pending-batch.ts";

/**
 * One WatchResponse as the watch stream reads it, whichever way it was decoded: its fields, and
 * its events built only once the stream knows the watcher (and so the keyspace) they are for.
 * Read it during the call that hands it over; keep only what `header`, `events` and `batches`
 * return.
 *
 * @example
 * if (reply.created) onCreated(reply.watchId, reply.header.revision);
 * else deliver(reply.events(state.keyspace));
 */
export interface WatchReply {
  readonly header: ResponseHeader;
  readonly watchId: bigint;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: bigint;
  readonly cancelReason: string;
  readonly fragment: boolean;
  readonly eventCount: number;
  /** The events, keys without the keyspace's prefix; a new array on each call. */
  events(keyspace: Keyspace): WatchEvent[];
  /** The events in one batch per revision; their objects may be built only when taken. */
  batches(keyspace: Keyspace): BufferedBatch[];
}

/**
 * A `WatchReply` over a decoded `WatchResponse` message (the stream on Connect's bidi call).
 *
 * @example
 * for await (const response of responses) handle(messageReply(response));
 */
export function messageReply(response: WatchResponse): WatchReply {
  const header = toHeader(response.header);
  const events = (keyspace: Keyspace) =>
    response.events.map((event) => toWatchEvent(event, keyspace));
  return {
    header,
    watchId: response.watchId,
    created: response.created,
    canceled: response.canceled,
    compactRevision: response.compactRevision,
    cancelReason: response.cancelReason,
    fragment: response.fragment,
    eventCount: response.events.length,
    events,
    batches: (keyspace) => toBatches(events(keyspace), header),
  };
}
