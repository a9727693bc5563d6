import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type {
  KV as KVService,
  RangeRequestSchema,
  RangeResponse,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { canceledError, deadlineError } from "../connection/signals.ts";
import type { CallOptions } from "../core/call-options.ts";
import { nextTurn } from "../core/next-turn.ts";

/** etcd's default limit of operations in one txn (`--max-txn-ops`). */
export const MAX_COALESCED = 128;

type RangeInit = MessageInitShape<typeof RangeRequestSchema>;

interface Waiter {
  readonly request: RangeInit;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number | undefined;
  readonly startedAt: number;
  readonly resolve: (response: RangeResponse) => void;
  readonly reject: (error: unknown) => void;
  settled: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * Gathers linearizable single-key reads issued in the same turn of the event loop and sends them
 * as one Txn of range operations (at most 128), which etcd serves at one revision with one
 * quorum round. Each caller gets a `RangeResponse` exactly as its own Range call would have
 * returned (the txn's header, its own kvs, more and count). A failed batch is retried as single
 * calls, so errors and retries are those of an unbatched read. A caller's own signal and
 * timeout end only its read.
 *
 * @example
 * const coalescer = new ReadCoalescer(createClient(KV, transport));
 * const response = await coalescer.range({ key: encodeKey("a") }, {});
 */
export class ReadCoalescer {
  readonly #client: Client<typeof KVService>;
  #queue: Waiter[] = [];
  #scheduled = false;

  constructor(client: Client<typeof KVService>) {
    this.#client = client;
  }

  /** Reads one key (the request must have no range end, revision or serializable flag). */
  range(request: RangeInit, options: CallOptions): Promise<RangeResponse> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(canceledError(signal));
    return new Promise<RangeResponse>((resolve, reject) => {
      const waiter: Waiter = {
        request,
        signal,
        timeoutMs: options.timeoutMs,
        startedAt: options.timeoutMs ? Date.now() : 0,
        resolve,
        reject,
        settled: false,
        timer: undefined,
        onAbort: undefined,
      };
      if (signal) {
        waiter.onAbort = () => this.#fail(waiter, canceledError(signal));
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      if (options.timeoutMs && options.timeoutMs > 0) {
        const ms = options.timeoutMs;
        waiter.timer = setTimeout(() => this.#fail(waiter, deadlineError(ms)), ms);
      }
      this.#queue.push(waiter);
      if (this.#queue.length >= MAX_COALESCED) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        nextTurn(this.#onTurn);
      }
    });
  }

  readonly #onTurn = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const queued = this.#queue;
    this.#queue = [];
    const batch = queued.filter((w) => !w.settled);
    if (batch.length === 0) return;
    if (batch.length === 1) {
      this.#single(batch[0] as Waiter);
      return;
    }
    const timeoutMs = batchTimeout(batch);
    this.#client
      .txn(
        { success: batch.map((w) => ({ request: { case: "requestRange", value: w.request } })) },
        timeoutMs === undefined ? {} : { timeoutMs },
      )
      .then(
        (response) => {
          const results = response.responses;
          for (let i = 0; i < batch.length; i++) {
            const waiter = batch[i] as Waiter;
            if (waiter.settled) continue;
            const result = results[i]?.response;
            if (result?.case !== "responseRange") {
              this.#single(waiter);
              continue;
            }
            // Inside a txn etcd fills only the revision of a range's header; the txn's header
            // is the one a Range call would have carried.
            result.value.header = response.header;
            this.#succeed(waiter, result.value);
          }
        },
        () => {
          for (const waiter of batch) if (!waiter.settled) this.#single(waiter);
        },
      );
  }

  /** One read on its own, with what is left of its caller's deadline. */
  #single(waiter: Waiter): void {
    let timeoutMs = waiter.timeoutMs;
    if (timeoutMs && timeoutMs > 0) {
      timeoutMs = Math.max(1, timeoutMs - (Date.now() - waiter.startedAt));
    }
    const options: { signal?: AbortSignal; timeoutMs?: number } = {};
    if (waiter.signal) options.signal = waiter.signal;
    if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
    this.#client.range(waiter.request, options).then(
      (response) => this.#succeed(waiter, response),
      (error: unknown) => this.#fail(waiter, error),
    );
  }

  #succeed(waiter: Waiter, response: RangeResponse): void {
    if (this.#settle(waiter)) waiter.resolve(response);
  }

  #fail(waiter: Waiter, error: unknown): void {
    if (this.#settle(waiter)) waiter.reject(error);
  }

  #settle(waiter: Waiter): boolean {
    if (waiter.settled) return false;
    waiter.settled = true;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    return true;
  }
}

/**
 * The batch's deadline: the client default when any caller relies on it, none when any caller
 * has none, else the longest of the callers' (each caller's own timer ends its read sooner).
 */
function batchTimeout(batch: Waiter[]): number | undefined {
  let longest = 0;
  for (const waiter of batch) {
    if (waiter.timeoutMs === undefined) return undefined;
    if (waiter.timeoutMs <= 0) return 0;
    longest = Math.max(longest, waiter.timeoutMs - (Date.now() - waiter.startedAt));
  }
  return Math.max(1, longest);
}
