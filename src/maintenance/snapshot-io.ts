import type { SnapshotTarget } from "./snapshot-target.ts";
import type { Sink } from "./web-sink.ts";

/** @internal A running SHA-256 over the snapshot's bytes. */
export interface SnapshotHash {
  update(bytes: Uint8Array): void;
  /** The digest in lowercase hex; ends the hash. */
  hex(): string;
}

/** @internal Where a runtime puts snapshot bytes and how it hashes them. */
export interface SnapshotIo {
  /** The sink for `target`; `end` closes a stream target when the snapshot ends. */
  openSink(target: SnapshotTarget, end: boolean): Sink;
  sha256(): SnapshotHash;
}
