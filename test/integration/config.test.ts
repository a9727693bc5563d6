/**
 * Typed live configuration against etcd: a value the schema refuses (or that is not JSON)
 * leaves the last good value in place and is reported through onError, and a fixed value takes
 * over; with zod, and with a hand-written Standard Schema object (async validate) on a range of
 * keys; values as a snapshot and as an async iterator; namespaces; the signal ends it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import {
  ConfigValueError,
  Etcd,
  type EtcdError,
  type LiveConfig,
  prefix,
  type StandardSchema,
} from "../../src/index.ts";
import { testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();

const Settings = z.object({ workers: z.number().int().positive(), mode: z.enum(["a", "b"]) });

/** The next value or error the configuration reports. */
function next<T>(config: LiveConfig<T>): Promise<{ value: T } | { error: EtcdError }> {
  return new Promise((resolve) => {
    const offs = [
      config.onChange((value) => {
        for (const off of offs) off();
        resolve({ value });
      }),
      config.onError((error) => {
        for (const off of offs) off();
        resolve({ error });
      }),
    ];
  });
}

/** A hand-written Standard Schema: a port number, checked asynchronously. */
const Port: StandardSchema<number> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: async (value) => {
      await Promise.resolve();
      return typeof value === "number" && Number.isInteger(value) && value > 0 && value < 65536
        ? { value }
        : { issues: [{ message: "expected a port number", path: ["port"] }] };
    },
  },
};

describe("config", () => {
  let etcd: Etcd;

  before(() => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 10_000 });
  });

  after(async () => {
    await etcd?.close();
  });

  test("zod: a bad value keeps the last good one and is reported; a fixed value takes over", async () => {
    const key = `${uniquePrefix("config-zod")}app`;
    await etcd.put(key, JSON.stringify({ workers: 2, mode: "a" }));
    const errors: EtcdError[] = [];
    await using settings = await etcd.config(key, Settings, { onError: (e) => errors.push(e) });
    assert.deepEqual(settings.current, { workers: 2, mode: "a" });
    const seen = settings.values();
    assert.deepEqual((await seen.next()).value, { workers: 2, mode: "a" });

    let reported = next(settings);
    const bad = await etcd.put(key, JSON.stringify({ workers: -1, mode: "c" }));
    const schemaError = await reported;
    assert.ok("error" in schemaError && schemaError.error instanceof ConfigValueError);
    assert.equal(schemaError.error.reason, "schema");
    assert.equal(schemaError.error.key, key);
    assert.equal(schemaError.error.revision, bad.revision);
    assert.ok(schemaError.error.issues.some((i) => i.path?.includes("workers")));
    assert.deepEqual(settings.current, { workers: 2, mode: "a" });

    reported = next(settings);
    await etcd.put(key, "{not json");
    const parseError = await reported;
    assert.ok("error" in parseError && parseError.error instanceof ConfigValueError);
    assert.equal(parseError.error.reason, "parse");
    assert.deepEqual(settings.current, { workers: 2, mode: "a" });

    reported = next(settings);
    const fixed = await etcd.put(key, JSON.stringify({ workers: 8, mode: "b" }));
    assert.deepEqual(await reported, { value: { workers: 8, mode: "b" } });
    assert.deepEqual(settings.current, { workers: 8, mode: "b" });
    assert.equal(settings.revision, fixed.revision);
    // The iterator saw only good values: the first, then the fix.
    assert.deepEqual((await seen.next()).value, { workers: 8, mode: "b" });
    assert.equal(errors.length, 2);

    reported = next(settings);
    await etcd.delete(key);
    const deleted = await reported;
    assert.ok("error" in deleted && deleted.error instanceof ConfigValueError);
    assert.equal(deleted.error.reason, "deleted");
    assert.deepEqual(settings.current, { workers: 8, mode: "b" });
  });

  test("a key that never held a good value: undefined until one is written", async () => {
    const key = `${uniquePrefix("config-empty")}app`;
    await etcd.put(key, JSON.stringify({ workers: 0, mode: "a" }));
    const errors: EtcdError[] = [];
    await using settings = await etcd.config(key, Settings, { onError: (e) => errors.push(e) });
    assert.equal(settings.current, undefined);
    assert.equal(errors.length, 1);
    const reported = next(settings);
    await etcd.put(key, JSON.stringify({ workers: 1, mode: "a" }));
    assert.deepEqual(await reported, { value: { workers: 1, mode: "a" } });
  });

  test("a hand-written schema over a range: one bad key keeps its last good value", async () => {
    const p = uniquePrefix("config-range");
    await etcd.put(`${p}api`, "8080");
    await etcd.put(`${p}admin`, "9090");
    await using ports = await etcd.config(prefix(p), Port);
    assert.deepEqual(
      [...(ports.current ?? [])],
      [
        [`${p}admin`, 9090],
        [`${p}api`, 8080],
      ],
    );

    let reported = next(ports);
    await etcd.put(`${p}api`, "70000");
    const refused = await reported;
    assert.ok("error" in refused && refused.error instanceof ConfigValueError);
    assert.equal(refused.error.issues[0]?.message, "expected a port number");
    assert.equal(ports.current?.get(`${p}api`), 8080);

    reported = next(ports);
    await etcd.put(`${p}api`, "8081");
    await reported;
    assert.equal(ports.current?.get(`${p}api`), 8081);

    reported = next(ports);
    await etcd.delete(`${p}admin`);
    await reported;
    assert.deepEqual([...(ports.current ?? [])], [[`${p}api`, 8081]]);
  });

  test("in a namespace, with a custom parse, ended by its signal", async () => {
    const ns = etcd.namespace(uniquePrefix("config-ns"));
    await ns.put("level", "debug");
    const Level: StandardSchema<"debug" | "info"> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) =>
          value === "debug" || value === "info"
            ? { value }
            : { issues: [{ message: `unknown level ${String(value)}` }] },
      },
    };
    const controller = new AbortController();
    const level = await ns.config("level", Level, {
      parse: (bytes) => new TextDecoder().decode(bytes),
      signal: controller.signal,
    });
    const values = level.values();
    assert.equal((await values.next()).value, "debug");
    await ns.put("level", "info");
    assert.equal((await values.next()).value, "info");
    controller.abort();
    assert.deepEqual(await values.next(), { done: true, value: undefined });
    assert.equal(level.closed, true);
    assert.equal(level.current, "info");
  });
});
