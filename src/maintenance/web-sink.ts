/**
 * @internal One destination of snapshot bytes: made ready, written chunk by chunk, then
 * finished (renamed into place, ended) or failed (partial file removed).
 */
export interface Sink {
  ready(): Promise<void>;
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  fail(error: unknown): Promise<void>;
}

/** @internal A sink writing into a web `WritableStream`; `end` closes it when the snapshot ends. */
export function webSink(stream: WritableStream<Uint8Array>, end: boolean): Sink {
  const writer = stream.getWriter();
  return {
    async ready() {
      await writer.ready;
    },
    async write(chunk) {
      await writer.ready;
      await writer.write(chunk);
    },
    async finish() {
      if (end) await writer.close();
      else writer.releaseLock();
    },
    async fail(error) {
      if (end) await writer.abort(error).catch(() => {});
      else writer.releaseLock();
    },
  };
}

/** `connectOptions`, plus the pin to `endpoint` when one is given. */
