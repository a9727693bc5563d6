/**
 * The token providers' own rules, with an `authenticate` function standing in for the RPC: one
 * login shared by concurrent callers, refresh only when the rejected token is the current one,
 * "auth not enabled" means no token until etcd asks for one, a caller's signal abandons only
 * that caller's wait, and the password shows nowhere. (The integration tests drive the same
 * providers against etcd.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspect } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuthFailedError, CanceledError } from "../../src/index.ts";
import { isStaleTokenError, PasswordAuth, StaticToken } from "../../src/transport.ts";

const SECRET = "unit-secret-8812";

function provider(answer: (n: number) => Promise<string>) {
  let calls = 0;
  const auth = new PasswordAuth("app", SECRET, (name, password) => {
    assert.equal(name, "app");
    assert.equal(password, SECRET);
    calls++;
    return answer(calls);
  });
  return { auth, calls: () => calls };
}

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

describe("PasswordAuth", () => {
  test("concurrent first calls share one login; later calls use the token without one", async () => {
    const gate = deferred<string>();
    const { auth, calls } = provider(() => gate.promise);
    const waiting = Array.from({ length: 10 }, () => auth.token());
    gate.resolve("t1");
    assert.deepEqual(await Promise.all(waiting), Array(10).fill("t1"));
    assert.equal(auth.token(), "t1");
    assert.equal(calls(), 1);
  });

  test("refresh replaces the rejected token once, however many callers saw it rejected", async () => {
    const { auth, calls } = provider(async (n) => `t${n}`);
    assert.equal(await auth.token(), "t1");
    const refreshed = await Promise.all([
      auth.refresh("t1"),
      auth.refresh("t1"),
      auth.refresh("t1"),
    ]);
    assert.deepEqual(refreshed, [true, true, true]);
    assert.equal(auth.token(), "t2");
    assert.equal(calls(), 2);
    // A caller late with an old rejection just uses the new token.
    assert.equal(await auth.refresh("t1"), true);
    assert.equal(calls(), 2);
    // Not knowing which token was rejected (a stream owner): log in again.
    assert.equal(await auth.refresh(undefined), true);
    assert.equal(auth.token(), "t3");
  });

  test("auth not enabled: no token and no new login until a refresh", async () => {
    let enabled = false;
    const { auth, calls } = provider(async (n) => {
      if (!enabled) {
        throw new ConnectError(
          "etcdserver: authentication is not enabled",
          Code.FailedPrecondition,
        );
      }
      return `t${n}`;
    });
    assert.equal(await auth.token(), undefined);
    assert.equal(auth.token(), undefined);
    assert.equal(calls(), 1);
    enabled = true; // etcd now answers "user name is empty" to token-less calls
    assert.equal(await auth.refresh(undefined), true);
    assert.equal(auth.token(), "t2");
  });

  test("a failed login rejects with the typed error and is tried again next time", async () => {
    const { auth, calls } = provider(async (n) => {
      if (n === 1) {
        throw new ConnectError(
          "etcdserver: authentication failed, invalid user ID or password",
          Code.InvalidArgument,
        );
      }
      return "t2";
    });
    const error = await Promise.resolve(auth.token()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthFailedError);
    assert.ok(!inspect(error, { depth: 10 }).includes(SECRET));
    assert.equal(await auth.token(), "t2");
    assert.equal(calls(), 2);
  });

  test("a caller's signal abandons its own wait, not the shared login", async () => {
    const gate = deferred<string>();
    const { auth } = provider(() => gate.promise);
    const controller = new AbortController();
    const abandoned = auth.token(controller.signal);
    const patient = auth.token();
    controller.abort();
    await assert.rejects(Promise.resolve(abandoned), CanceledError);
    gate.resolve("t1");
    assert.equal(await patient, "t1");
  });

  test("the password is in neither inspect output nor JSON", () => {
    const { auth } = provider(async () => "t");
    for (const text of [
      inspect(auth, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(auth),
      String(auth),
    ]) {
      assert.ok(!text.includes(SECRET), text);
    }
    assert.match(inspect(auth), /app/);
  });
});

describe("StaticToken", () => {
  test("sent as is, never refreshed, not printed", async () => {
    const auth = new StaticToken("given-token-77");
    assert.equal(auth.token(), "given-token-77");
    assert.equal(await auth.refresh(), false);
    assert.ok(!inspect(auth, { showHidden: true }).includes("given-token-77"));
    assert.ok(!JSON.stringify(auth).includes("given-token-77"));
  });
});

describe("isStaleTokenError", () => {
  test("knows etcd's token refusals in errors and watch cancel reasons", () => {
    for (const message of [
      "etcdserver: invalid auth token",
      "etcdserver: user name is empty",
      "etcdserver: revision of auth store is old",
    ]) {
      assert.ok(isStaleTokenError(message));
      assert.ok(isStaleTokenError(new ConnectError(message, Code.Unauthenticated)));
    }
    assert.ok(!isStaleTokenError("etcdserver: permission denied"));
    assert.ok(!isStaleTokenError(new Error("etcdserver: invalid auth token")));
    assert.ok(!isStaleTokenError(undefined));
  });
});
