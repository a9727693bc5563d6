import { once } from "node:events";
import { open, rename, rm } from "node:fs/promises";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { InvalidArgumentError } from "../core/errors.ts";
import type { SnapshotTarget } from "./snapshot-target.ts";
import { type Sink, webSink } from "./web-sink.ts";

/** @internal The sink for `target`; `end` closes a stream target when the snapshot ends. */
export function openSink(target: SnapshotTarget, end: boolean): Sink {
  if (typeof target === "string") return fileSink(target);
  if (typeof WritableStream !== "undefined" && target instanceof WritableStream) {
    return webSink(target, end);
  }
  if (target && typeof (target as Writable).write === "function") {
    return nodeSink(target as Writable, end);
  }
  throw new InvalidArgumentError(
    "snapshot target must be a file path, a Node Writable or a WritableStream",
  );
}

function fileSink(path: string): Sink {
  if (!path) throw new InvalidArgumentError("snapshot path must not be empty");
  const part = `${path}.part`;
  let file: Awaited<ReturnType<typeof open>> | undefined;
  return {
    async ready() {
      file = await open(part, "w", 0o600);
    },
    async write(chunk) {
      await file?.write(chunk);
    },
    async finish() {
      await file?.sync();
      await file?.close();
      file = undefined;
      await rename(part, path);
    },
    async fail() {
      await file?.close().catch(() => {});
      file = undefined;
      await rm(part, { force: true });
    },
  };
}

function nodeSink(writable: Writable, end: boolean): Sink {
  return {
    async ready() {},
    async write(chunk) {
      if (!writable.write(chunk)) await once(writable, "drain");
    },
    async finish() {
      if (end) {
        writable.end();
        await finished(writable);
      }
    },
    async fail(error) {
      if (end) writable.destroy(error instanceof Error ? error : new Error(String(error)));
    },
  };
}
