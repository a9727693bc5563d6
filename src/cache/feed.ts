interface Subscriber<T> {
  push(item: T): void;
  end(error?: unknown): void;
}

/**
 * Fans one stream of items out to any number of local subscribers: callbacks, and async
 * iterators that each buffer what their consumer has not read yet. Closing the feed ends every
 * iterator (with an error if one is given, after the buffered items).
 *
 * @example
 * const feed = new Feed<number>();
 * const off = feed.subscribe((n) => console.log(n));
 * for await (const n of feed.iterate(signal)) console.log(n);
 */
export class Feed<T> {
  readonly #subscribers = new Set<Subscriber<T>>();
  #ended = false;
  #error: unknown;

  /** Local subscribers (callbacks and open iterators). */
  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * Calls `listener` with every item from now on; returns a function that stops it. A listener
   * that throws does not stop the others: the error is rethrown on its own, like an uncaught
   * error in an event handler.
   */
  subscribe(listener: (item: T) => void): () => void {
    if (this.#ended) return () => {};
    const subscriber: Subscriber<T> = {
      push: (item) => {
        try {
          listener(item);
        } catch (error) {
          queueMicrotask(() => {
            throw error;
          });
        }
      },
      end: () => {},
    };
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  /**
   * The items from now on as an async iterator, starting with `first` when given. It ends when
   * the signal fires or the loop breaks (quietly), or when the feed closes (with its error, if
   * any, once the buffered items are read).
   */
  iterate(signal?: AbortSignal, first?: readonly T[]): AsyncIterableIterator<T> {
    const buffer: T[] = first ? [...first] : [];
    let waiter:
      | { resolve(r: IteratorResult<T, undefined>): void; reject(e: unknown): void }
      | undefined;
    let done = false;
    let failure: unknown;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      failure = error;
      this.#subscribers.delete(subscriber);
      signal?.removeEventListener("abort", onAbort);
      if (waiter && buffer.length === 0) {
        const w = waiter;
        waiter = undefined;
        if (error === undefined) w.resolve({ done: true, value: undefined });
        else w.reject(error);
      }
    };
    const onAbort = () => {
      buffer.length = 0;
      finish();
    };
    const subscriber: Subscriber<T> = {
      push: (item) => {
        if (waiter) {
          const w = waiter;
          waiter = undefined;
          w.resolve({ done: false, value: item });
        } else buffer.push(item);
      },
      end: (error) => finish(error),
    };
    if (this.#ended) finish(this.#error);
    else if (signal?.aborted) finish();
    else {
      this.#subscribers.add(subscriber);
      signal?.addEventListener("abort", onAbort, { once: true });
    }
    const iterator: AsyncIterableIterator<T> = {
      next: () => {
        if (buffer.length > 0) {
          return Promise.resolve({ done: false, value: buffer.shift() as T });
        }
        if (done) {
          if (failure === undefined) return Promise.resolve({ done: true, value: undefined });
          const error = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        return new Promise((resolve, reject) => {
          waiter = { resolve, reject };
        });
      },
      return: () => {
        buffer.length = 0;
        finish();
        failure = undefined;
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Delivers an item to every subscriber. */
  emit(item: T): void {
    for (const subscriber of [...this.#subscribers]) subscriber.push(item);
  }

  /** Ends every subscriber; later subscriptions end at once. */
  close(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    for (const subscriber of [...this.#subscribers]) subscriber.end(error);
    this.#subscribers.clear();
  }
}
