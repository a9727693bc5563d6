import { closeSync, openSync, readSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { KeyValueSchema } from "../proto.ts";
import { CliError } from "./cli-error.ts";
import { ExitCode } from "./exit-codes.ts";

/** What `snapshot status` reports about a saved etcd database. */
export interface SnapshotFileStatus {
  /** CRC-32C of every bucket name, key and value, in key order. */
  hash: number;
  /** The newest revision in the key bucket. */
  revision: bigint;
  /** Keys alive at that revision (written and not deleted since), as etcdutl 3.6+ counts. */
  totalKey: number;
  /** Bytes the database uses: its high-water page count times the page size. */
  totalSize: bigint;
  /** The storage version etcd 3.6+ records in the file, such as "3.6.0"; "" before. */
  version: string;
}

// The bbolt file format (etcd's backend): fixed-size pages, each with a 16-byte header
// (id u64, flags u16, count u16, overflow u32), little-endian on every platform etcd ships.
const PAGE_HEADER = 16;
const ELEMENT = 16;
const BRANCH_PAGE = 0x01;
const LEAF_PAGE = 0x02;
const META_PAGE = 0x04;
const BUCKET_ENTRY = 0x01;
const MAGIC = 0xed0cdaed;
const KEY_BUCKET = "key";
const META_BUCKET = "meta";
const STORAGE_VERSION_KEY = "storageVersion";
/** A key-bucket entry's name: revision (8 bytes), "_", sub-revision (8), and "t" for a delete. */
const TOMBSTONE_NAME_LENGTH = 18;
const TOMBSTONE_MARK = 0x74;
/** A semantic version as etcd parses it (go-semver); anything else counts as no version. */
const SEMVER = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

interface Meta {
  pageSize: number;
  root: bigint;
  highWater: bigint;
  txid: bigint;
}

/**
 * Reads a database saved by `snapshot save` (or a member's `member/snap/db`) and computes what
 * `etcdutl snapshot status` (3.7) prints: hash, revision, total keys, total size and version.
 *
 * @example
 * const { hash, revision } = snapshotFileStatus("backup.db");
 */
export function snapshotFileStatus(path: string): SnapshotFileStatus {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    // etcdutl exits 1 for a missing or unreadable file.
    throw new CliError(error instanceof Error ? error.message : String(error), ExitCode.Error);
  }
  try {
    return new BoltReader(fd).status();
  } finally {
    closeSync(fd);
  }
}

class BoltReader {
  readonly #fd: number;
  readonly #meta: Meta;
  #hash = new Crc32c();
  #revision = 0n;
  /** Keys alive so far, in revision order: a put adds its key, a delete takes it out. */
  #liveKeys = new Set<string>();
  #version = "";

  constructor(fd: number) {
    this.#fd = fd;
    const first = this.#metaAt(0n, undefined);
    const second = first ? this.#metaAt(1n, first.pageSize) : undefined;
    const newest = [first, second]
      .filter((m): m is Meta => m !== undefined)
      .sort((a, b) => (a.txid < b.txid ? 1 : -1))[0];
    if (!newest) throw new CliError("invalid database", ExitCode.Error);
    this.#meta = newest;
  }

  status(): SnapshotFileStatus {
    this.#walk(this.#page(this.#meta.root), (name, value, flags) => {
      if (!(flags & BUCKET_ENTRY)) throw invalid("a non-bucket entry at the top level");
      this.#hash.update(name);
      const bucket = Buffer.from(name).toString("latin1");
      this.#walk(this.#bucketRoot(value), (key, entry, entryFlags) => {
        this.#hash.update(key);
        // A nested bucket shows as a key with no value, as bbolt's ForEach gives it.
        const isBucket = (entryFlags & BUCKET_ENTRY) !== 0;
        if (!isBucket) this.#hash.update(entry);
        if (bucket === KEY_BUCKET && !isBucket) this.#countKey(key, entry);
        if (bucket === META_BUCKET && !isBucket) this.#readVersion(key, entry);
      });
    });
    return {
      hash: this.#hash.digest(),
      revision: this.#revision,
      totalKey: this.#liveKeys.size,
      totalSize: this.#meta.highWater * BigInt(this.#meta.pageSize),
      version: this.#version,
    };
  }

  /** One revision of a key: the entry's name is the revision, its value the key-value. */
  #countKey(name: Uint8Array, entry: Uint8Array): void {
    if (name.length !== TOMBSTONE_NAME_LENGTH - 1 && name.length !== TOMBSTONE_NAME_LENGTH) {
      throw invalid(`a revision of ${name.length} bytes in the key bucket`);
    }
    this.#revision = readU64(name, 0, "be");
    let key: string;
    try {
      key = Buffer.from(fromBinary(KeyValueSchema, entry).key).toString("latin1");
    } catch {
      throw invalid(`revision ${this.#revision} holds no key-value`);
    }
    const deleted = name.length === TOMBSTONE_NAME_LENGTH && name.at(-1) === TOMBSTONE_MARK;
    if (deleted) this.#liveKeys.delete(key);
    else this.#liveKeys.add(key);
  }

  #readVersion(name: Uint8Array, entry: Uint8Array): void {
    if (Buffer.from(name).toString("latin1") !== STORAGE_VERSION_KEY) return;
    const match = SEMVER.exec(Buffer.from(entry).toString("latin1"));
    if (!match) return;
    const [, major, minor, patch, pre = "", build = ""] = match;
    this.#version = `${Number(major)}.${Number(minor)}.${Number(patch)}${pre}${build}`;
  }

  /** The page a bucket's entries start at: its own page, or inline after its 16-byte header. */
  #bucketRoot(value: Uint8Array): Uint8Array {
    if (value.length < 16) throw invalid("a bucket header is cut short");
    const root = readU64(value, 0, "le");
    return root === 0n ? value.subarray(16) : this.#page(root);
  }

  /** Calls `visit` for every leaf entry under `page`, in key order. */
  #walk(page: Uint8Array, visit: (key: Uint8Array, value: Uint8Array, flags: number) => void) {
    const flags = readU16(page, 8);
    const count = readU16(page, 10);
    for (let i = 0; i < count; i++) {
      const at = PAGE_HEADER + i * ELEMENT;
      if (flags & BRANCH_PAGE) {
        this.#walk(this.#page(readU64(page, at + 8, "le")), visit);
      } else if (flags & LEAF_PAGE) {
        const entryFlags = readU32(page, at);
        const pos = at + readU32(page, at + 4);
        const keySize = readU32(page, at + 8);
        const valueSize = readU32(page, at + 12);
        if (pos + keySize + valueSize > page.length) throw invalid("an entry runs past its page");
        const key = page.subarray(pos, pos + keySize);
        visit(key, page.subarray(pos + keySize, pos + keySize + valueSize), entryFlags);
      } else throw invalid(`page flags ${flags} where a branch or leaf page belongs`);
    }
  }

  #page(id: bigint): Uint8Array {
    if (id < 2n || id >= this.#meta.highWater) throw invalid(`page ${id} is out of range`);
    const size = this.#meta.pageSize;
    const head = this.#read(id * BigInt(size), PAGE_HEADER);
    const overflow = readU32(head, 12);
    return this.#read(id * BigInt(size), size * (overflow + 1));
  }

  #metaAt(id: bigint, pageSize: number | undefined): Meta | undefined {
    const page = this.#read(id * BigInt(pageSize ?? 0), PAGE_HEADER + 64, true);
    if (!page || !(readU16(page, 8) & META_PAGE)) return undefined;
    const meta = page.subarray(PAGE_HEADER);
    if (readU32(meta, 0) !== MAGIC || readU32(meta, 4) !== 2) return undefined;
    if (readU64(meta, 56, "le") !== fnv64a(meta.subarray(0, 56))) return undefined;
    return {
      pageSize: readU32(meta, 8),
      root: readU64(meta, 16, "le"),
      highWater: readU64(meta, 40, "le"),
      txid: readU64(meta, 48, "le"),
    };
  }

  #read(position: bigint, length: number, mayBeShort = false): Uint8Array {
    const buffer = Buffer.alloc(length);
    const got = readSync(this.#fd, buffer, 0, length, position);
    if (got < length && !mayBeShort) throw invalid("the file ends inside a page");
    return buffer.subarray(0, got);
  }
}

function invalid(detail: string): CliError {
  return new CliError(`invalid database: ${detail}`, ExitCode.Error);
}

function readU16(bytes: Uint8Array, at: number): number {
  return (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
}

function readU32(bytes: Uint8Array, at: number): number {
  return (readU16(bytes, at) | (readU16(bytes, at + 2) << 16)) >>> 0;
}

function readU64(bytes: Uint8Array, at: number, order: "le" | "be"): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return at + 8 <= bytes.length ? view.getBigUint64(at, order === "le") : 0n;
}

/** FNV-1a, 64 bits: bbolt's meta page checksum. */
function fnv64a(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  return hash;
}

/** CRC-32 with the Castagnoli polynomial, fed piece by piece. */
class Crc32c {
  static readonly #table = Crc32c.#makeTable();
  #crc = 0xffffffff;

  static #makeTable(): Uint32Array {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  }

  update(bytes: Uint8Array): void {
    let crc = this.#crc;
    for (const byte of bytes) crc = (Crc32c.#table[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
    this.#crc = crc;
  }

  digest(): number {
    return (this.#crc ^ 0xffffffff) >>> 0;
  }
}
