import type { Writable } from "node:stream";

/**
 * Where a snapshot goes: a file path (written to `<path>.part`, then renamed), a Node `Writable`,
 * or a web `WritableStream`.
 *
 * @example
 * await etcd.maintenance.snapshot("/backups/etcd.db");
 */
export type SnapshotTarget = string | Writable | NodeJS.WritableStream | WritableStream<Uint8Array>;
