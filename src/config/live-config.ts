import type { CacheChange } from "../cache/cache-change.ts";
import { Feed } from "../cache/feed.ts";
import type { CacheOptions, WatchCache } from "../cache/watch-cache.ts";
import type { EtcdError } from "../core/errors.ts";
import { type KeyOrRange, toText } from "../core/keys.ts";
import type { KeyValue } from "../kv/key-value.ts";
import { ConfigValueError } from "./config-error.ts";
import type { StandardSchema } from "./standard-schema.ts";

/**
 * Options of `etcd.config()`.
 *
 * @example
 * await etcd.config("cfg/app", schema, { onError: (e) => log.warn(e.message), signal });
 */
export interface ConfigOptions extends CacheOptions {
  /** Turns a value's bytes into what the schema checks; default: UTF-8 text parsed as JSON. */
  parse?: (value: Uint8Array) => unknown;
  /** Called with every value that could not be used (and with the cache's own troubles). */
  onError?: (error: EtcdError) => void;
}

/** What a live configuration reads from: the client or a namespace. */
export interface ConfigSource {
  cache(target: KeyOrRange, options?: CacheOptions): Promise<WatchCache>;
}

/**
 * A typed configuration that follows etcd: one key (`etcd.config("cfg/app", schema)`) whose
 * value is `T`, or every key of a range (`etcd.config(prefix("cfg/flags/"), schema)`) as a
 * `ReadonlyMap` from key to `T`. Each value is parsed (JSON by default) and checked with a
 * Standard Schema validator (zod, valibot, arktype, or your own). A value that fails keeps the
 * last good value in place and is reported to `onError` as a `ConfigValueError`: a bad write
 * never reaches the application, and the next good write takes over. A deleted key keeps its
 * last good value too (and is reported); in a range, a deleted key leaves the map.
 *
 * Built on `etcd.cache()`: one watcher, relisted after a compaction; read it as a snapshot
 * (`current`) or as an async iterator of values (`values()`).
 *
 * @example
 * const Settings = z.object({ workers: z.number().int().positive() });
 * await using settings = await etcd.config("cfg/app", Settings, { onError: console.warn });
 * settings.current?.workers;
 * for await (const value of settings.values({ signal })) resize(value.workers);
 */
export class LiveConfig<T> implements AsyncDisposable {
  readonly #cache: WatchCache;
  readonly #schema: StandardSchema<unknown>;
  readonly #parse: (value: Uint8Array) => unknown;
  readonly #single: boolean;
  readonly #entries = new Map<string, unknown>();
  readonly #values = new Feed<T>();
  readonly #errors = new Feed<EtcdError>();
  #current: T | undefined;
  #revision = 0n;
  #queue: Promise<void> = Promise.resolve();
  readonly #offs: (() => void)[] = [];

  private constructor(
    cache: WatchCache,
    schema: StandardSchema<unknown>,
    single: boolean,
    options: ConfigOptions,
  ) {
    this.#cache = cache;
    this.#schema = schema;
    this.#single = single;
    this.#parse = options.parse ?? ((value) => JSON.parse(toText(value)));
    if (options.onError) this.#errors.subscribe(options.onError);
  }

  /** @internal Made by `etcd.config()` and `namespace.config()`. */
  static async open<T>(
    source: ConfigSource,
    target: KeyOrRange,
    schema: StandardSchema<unknown>,
    options: ConfigOptions = {},
  ): Promise<LiveConfig<T>> {
    const { parse: _parse, onError: _onError, ...cacheOptions } = options;
    const cache = await source.cache(target, cacheOptions);
    const single = typeof target === "string" || target instanceof Uint8Array;
    const config = new LiveConfig<T>(cache, schema, single, options);
    await config.#load();
    return config;
  }

  /**
   * The value now: the last good one (undefined for a key that never held a good value; for a
   * range, a map of the keys with good values).
   *
   * @example
   * const workers = settings.current?.workers ?? 1;
   */
  get current(): T | undefined {
    return this.#current;
  }

  /** The store revision `current` reflects. */
  get revision(): bigint {
    return this.#revision;
  }

  /** True once closed (by `close()`, the signal, or the client closing). */
  get closed(): boolean {
    return this.#cache.closed;
  }

  /**
   * The current value (when there is one), then every new good value, as an async iterator.
   * It ends when the signal fires, the loop breaks or the configuration closes.
   *
   * @example
   * for await (const value of settings.values({ signal })) apply(value);
   */
  values(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<T> {
    const first = this.#current === undefined ? [] : [this.#current];
    return this.#values.iterate(options.signal, first);
  }

  /**
   * Calls `listener` with every new good value; returns a function that stops it.
   *
   * @example
   * const off = settings.onChange((value) => apply(value));
   */
  onChange(listener: (value: T) => void): () => void {
    return this.#values.subscribe(listener);
  }

  /**
   * Calls `listener` with every value that could not be used (`ConfigValueError`) and with the
   * underlying cache's troubles; returns a function that stops it.
   *
   * @example
   * settings.onError((error) => log.warn(error.message));
   */
  onError(listener: (error: EtcdError) => void): () => void {
    return this.#errors.subscribe(listener);
  }

  /**
   * Stops following etcd; `current` keeps the last value. Idempotent.
   *
   * @example
   * await settings.close();
   */
  async close(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
    await this.#cache.close();
    await this.#queue;
    this.#values.close();
    this.#errors.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #load(): Promise<void> {
    const cache = this.#cache;
    this.#offs.push(
      cache.onChange((change) => {
        this.#queue = this.#queue.then(() => this.#apply(change));
      }),
      cache.onError((error) => this.#errors.emit(error)),
    );
    const initial: CacheChange = {
      kind: "resync",
      revision: cache.revision,
      events: cache.range().kvs.map((kv) => ({ type: "put" as const, kv, prevKv: undefined })),
    };
    this.#queue = this.#queue.then(() => this.#apply(initial, true));
    await this.#queue;
    // The cache closing (its signal, the client) ends the iterators too.
    const poll = cache.changes();
    void (async () => {
      try {
        for await (const _ of poll) {
          // Only the end matters here.
        }
      } catch {
        // The client closed: the end of the values too.
      }
      await this.#queue;
      this.#values.close();
      this.#errors.close();
    })();
  }

  async #apply(change: CacheChange, initial = false): Promise<void> {
    let changed = false;
    for (const event of change.events) {
      const name = event.kv.keyText;
      if (event.type === "delete") {
        if (this.#single) {
          this.#report(
            new ConfigValueError(`${name} was deleted; keeping the last good value`, {
              key: name,
              revision: change.revision,
              reason: "deleted",
            }),
          );
        } else if (this.#entries.delete(name)) changed = true;
        continue;
      }
      const value = await this.#decode(event.kv);
      if (value === FAILED) continue;
      this.#entries.set(name, value);
      changed = true;
    }
    this.#revision = change.revision;
    if (!changed && !(initial && !this.#single)) return;
    this.#current = (
      this.#single ? this.#entries.values().next().value : new Map(this.#entries)
    ) as T;
    if (!initial) this.#values.emit(this.#current);
  }

  async #decode(kv: KeyValue): Promise<unknown> {
    const key = kv.keyText;
    let parsed: unknown;
    try {
      parsed = this.#parse(kv.value);
    } catch (cause) {
      this.#report(
        new ConfigValueError(`${key} does not parse: ${String(cause)}`, {
          key,
          revision: kv.modRevision,
          reason: "parse",
          cause,
        }),
      );
      return FAILED;
    }
    const result = await this.#schema["~standard"].validate(parsed);
    if (result.issues) {
      const issues = result.issues;
      this.#report(
        new ConfigValueError(`${key} is not valid: ${issues.map(describe).join("; ")}`, {
          key,
          revision: kv.modRevision,
          reason: "schema",
          issues,
        }),
      );
      return FAILED;
    }
    return result.value;
  }

  #report(error: ConfigValueError): void {
    this.#errors.emit(error);
  }
}

const FAILED = Symbol("failed");

function describe(issue: {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined;
}): string {
  const path = issue.path?.map((p) => String(typeof p === "object" ? p.key : p)).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}
