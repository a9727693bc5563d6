import type { ResponseHeader } from "../kv/key-value.ts";
import type { WatchBatch, WatchEvent } from "./events.ts";

/** Where a pending batch's events are decoded from: a response's bytes, already checked. */
export interface EncodedEvents {
  /**
   * The events at indexes [from, to), all of mod revision `revision`; never throws for events
   * the decoder checked.
   */
  decode(from: number, to: number, revision: bigint): WatchEvent[];
}

/**
 * One revision's events, still as the bytes they came in, until the consumer takes the batch.
 * A watcher catching up gets up to 1000 revisions (100,000 events in the watch-events bench)
 * in one response: built at once, all of their objects outlive several young-generation
 * collections and are copied by each; built as they are taken, they die young.
 *
 * @example
 * const batch = pending.toBatch();
 */
export class PendingBatch {
  readonly kind = "events";
  readonly revision: bigint;
  readonly header: ResponseHeader;
  /** How many events. */
  readonly size: number;
  readonly #source: EncodedEvents;
  readonly #from: number;

  constructor(
    revision: bigint,
    header: ResponseHeader,
    size: number,
    source: EncodedEvents,
    from: number,
  ) {
    this.revision = revision;
    this.header = header;
    this.size = size;
    this.#source = source;
    this.#from = from;
  }

  /** The batch, its events decoded now. */
  toBatch(): WatchBatch {
    const events = this.#source.decode(this.#from, this.#from + this.size, this.revision);
    return { kind: "events", revision: this.revision, events, header: this.header };
  }
}

/**
 * A batch as a watcher buffers it: ready, or pending (its events not decoded yet).
 *
 * @example
 * const count = bufferedSize(batch);
 */
export type BufferedBatch = WatchBatch | PendingBatch;

/** The number of events in a buffered batch. */
export function bufferedSize(batch: BufferedBatch): number {
  return batch instanceof PendingBatch ? batch.size : batch.events.length;
}

/** The batch for the consumer. */
export function readyBatch(batch: BufferedBatch): WatchBatch {
  return batch instanceof PendingBatch ? batch.toBatch() : batch;
}
