/**
 * The lease IDs sent on one keep-alive stream and not answered yet, oldest first. etcd renews
 * one request at a time and answers in order, so an answer settles its request and every older
 * one; when etcd ends the stream with an error, the oldest is the lease it refused. Answering
 * moves a head index instead of shifting the array, so a burst of a thousand answers costs no
 * copying.
 *
 * @example
 * const sent = new SentRenewals();
 * sent.push(7n);
 * sent.answered(7n); // sent.oldest() === undefined
 */
export class SentRenewals {
  #ids: bigint[] = [];
  #head = 0;

  push(id: bigint): void {
    this.#ids.push(id);
  }

  /** The oldest request still waiting for its answer. */
  oldest(): bigint | undefined {
    return this.#ids[this.#head];
  }

  /** Settles the oldest request for `id` and every request sent before it; unknown IDs are ignored. */
  answered(id: bigint): void {
    const ids = this.#ids;
    for (let i = this.#head; i < ids.length; i++) {
      if (ids[i] !== id) continue;
      this.#head = i + 1;
      if (this.#head === ids.length) {
        this.#ids = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= ids.length) {
        this.#ids = ids.slice(this.#head);
        this.#head = 0;
      }
      return;
    }
  }
}
