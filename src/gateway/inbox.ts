/**
 * The responses of one stream as they arrive from callbacks (WebSocket messages, several HTTP
 * bodies), read as an async iterable; `end(error)` makes the reader throw after the messages
 * already queued.
 *
 * @example
 * const inbox = new Inbox<string>();
 * socket.onmessage = (e) => inbox.push(e.data);
 * for await (const line of inbox) handle(line);
 */
export class Inbox<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiting: ((result: IteratorResult<T, undefined>) => void) | undefined;
  #failWaiting: ((error: unknown) => void) | undefined;
  #ended = false;
  #error: unknown;
  /** Called when the reader stops (break, return, throw) before the end. */
  onReturn: (() => void) | undefined;

  push(item: T): void {
    if (this.#ended) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      this.#failWaiting = undefined;
      waiting({ done: false, value: item });
      return;
    }
    this.#items.push(item);
  }

  /** No more messages; with `error`, the reader throws it once the queue is empty. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const waiting = this.#waiting;
    const fail = this.#failWaiting;
    this.#waiting = undefined;
    this.#failWaiting = undefined;
    if (error !== undefined) fail?.(error);
    else waiting?.({ done: true, value: undefined });
  }

  get ended(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ done: false, value: item });
        if (this.#ended) {
          return this.#error === undefined
            ? Promise.resolve({ done: true, value: undefined })
            : Promise.reject(this.#error);
        }
        return new Promise((resolve, reject) => {
          this.#waiting = resolve;
          this.#failWaiting = reject;
        });
      },
      return: () => {
        this.#stop();
        return Promise.resolve({ done: true, value: undefined });
      },
      throw: () => {
        this.#stop();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  #stop(): void {
    const wasEnded = this.#ended;
    this.end();
    this.#items = [];
    if (!wasEnded) this.onReturn?.();
  }
}
