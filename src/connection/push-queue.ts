/**
 * The request side of a bidi stream that the owner pushes into from outside. Unlike Connect's
 * `createWritableIterable`, `push` never waits for the message to be taken, so a thousand
 * messages queued at once cost a thousand array slots, not a promise chain each.
 *
 * @example
 * const requests = new PushQueue<{ ID: bigint }>();
 * const responses = client.leaseKeepAlive(requests, { signal });
 * requests.push({ ID: 1n });
 */
export class PushQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #head = 0;
  #waiting: ((result: IteratorResult<T, undefined>) => void) | undefined;
  #closed = false;

  /** Queues a message; ignored after `close()`. */
  push(item: T): void {
    if (this.#closed) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ done: false, value: item });
      return;
    }
    this.#items.push(item);
  }

  /** Ends the request side; queued messages not yet taken are dropped. */
  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ done: true, value: undefined });
  }

  get closed(): boolean {
    return this.#closed;
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => {
        if (this.#head < this.#items.length) {
          const value = this.#items[this.#head++] as T;
          if (this.#head === this.#items.length) {
            this.#items = [];
            this.#head = 0;
          }
          return Promise.resolve({ done: false, value });
        }
        if (this.#closed) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => {
          this.#waiting = resolve;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
      // Connect calls throw() on the request iterable when the call fails.
      throw: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
