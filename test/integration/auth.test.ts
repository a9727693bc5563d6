/**
 * Authentication against real etcd started with `--auth-token-ttl=2` (simple tokens that die
 * after two idle seconds): user and role administration, RBAC refusals as typed errors, token
 * refresh for unary calls across expiry and after an auth store change, a long watch that keeps
 * delivering across expiry and a member restart, a user-supplied token that is never refreshed,
 * and no password in inspect output, JSON or errors.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { inspect } from "node:util";
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  AuthFailedError,
  all,
  Etcd,
  type EtcdOptions,
  InvalidArgumentError,
  InvalidAuthTokenError,
  NotFoundError,
  op,
  PermissionDeniedError,
  prefix,
  UserEmptyError,
} from "../../src/index.ts";
import { KV } from "../../src/proto.ts";
import { Cluster, etcdVersion, hasOpenssl, testClientOptions, useEtcd } from "../support/index.ts";

const TOKEN_TTL_S = 2;
const fx = useEtcd({ args: [`--auth-token-ttl=${TOKEN_TTL_S}`] });
const ROOT_PASSWORD = "root-pw-7f3a9c";
const READER_PASSWORD = "reader-pw-Q8zL2";
const is34 = () => etcdVersion().startsWith("3.4.");

/** Waits until etcd has dropped idle simple tokens (TTL plus its one-second sweep). */
const outliveTokens = () => new Promise((r) => setTimeout(r, (TOKEN_TTL_S + 1.5) * 1000));

/** Records every RPC attempt the transport makes: "Method" or "Method!etcd message". */
function recorder(): { calls: string[]; interceptor: Interceptor } {
  const calls: string[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    try {
      const res = await next(req);
      calls.push(req.method.name);
      return res;
    } catch (error) {
      calls.push(`${req.method.name}!${ConnectError.from(error).rawMessage}`);
      throw error;
    }
  };
  return { calls, interceptor };
}

function client(options: Partial<EtcdOptions> = {}): Etcd {
  return new Etcd({
    ...testClientOptions(),
    endpoints: fx.endpoints,
    timeoutMs: 10_000,
    ...options,
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e,
  );
}

describe("auth", () => {
  let root: Etcd;

  before(async () => {
    const admin = client();
    try {
      await admin.auth.userAdd("root", ROOT_PASSWORD);
      await admin.auth.userGrantRole("root", "root");
      await admin.auth.roleAdd("reader");
      await admin.auth.roleGrantPermission("reader", prefix("shared/"), "read");
      await admin.auth.userAdd("reader", READER_PASSWORD);
      await admin.auth.userGrantRole("reader", "reader");
      await admin.put("shared/a", "visible");
      await admin.put("private/a", "hidden");
      await admin.auth.enable();
    } finally {
      await admin.close();
    }
    root = client({ username: "root", password: ROOT_PASSWORD });
  });

  after(async () => {
    await root?.close();
  });

  test("status, users and roles: add, get, list, grant, revoke, delete", async () => {
    if (!is34()) {
      const status = await root.auth.status();
      assert.equal(status.enabled, true);
      assert.ok(status.authRevision > 0n);
    }
    await root.auth.userAdd("ops", "ops-pw");
    await root.auth.userAdd("svc", { noPassword: true });
    assert.ok(
      (await rejection(root.auth.userAdd("ops", "again"))) instanceof AlreadyExistsError,
      "adding a user twice is AlreadyExistsError",
    );
    const { users } = await root.auth.userList();
    for (const name of ["root", "reader", "ops", "svc"]) assert.ok(users.includes(name), name);

    await root.auth.roleAdd("ops");
    await root.auth.roleGrantPermission("ops", prefix("ops/"), "readwrite");
    await root.auth.roleGrantPermission("ops", "flag", "write");
    const role = await root.auth.roleGet("ops");
    const shown = role.permissions.map((p) => [
      p.type,
      Buffer.from(p.range.key).toString(),
      Buffer.from(p.range.rangeEnd).toString(),
    ]);
    assert.deepEqual(
      shown.sort(),
      [
        ["readwrite", "ops/", "ops0"],
        ["write", "flag", ""],
      ].sort(),
    );
    assert.ok((await root.auth.roleList()).roles.includes("ops"));

    await root.auth.userGrantRole("ops", "ops");
    assert.deepEqual((await root.auth.userGet("ops")).roles, ["ops"]);
    await root.auth.userRevokeRole("ops", "ops");
    assert.deepEqual((await root.auth.userGet("ops")).roles, []);

    await root.auth.roleRevokePermission("ops", "flag");
    assert.equal((await root.auth.roleGet("ops")).permissions.length, 1);

    await root.auth.userChangePassword("ops", "ops-pw-2");
    const ops = client({ username: "ops", password: "ops-pw-2" });
    try {
      await ops.auth.userList().catch(() => undefined); // not root: refused, but it logged in
      assert.ok(
        (await rejection(ops.get("ops/x"))) instanceof PermissionDeniedError,
        "no role: permission denied",
      );
    } finally {
      await ops.close();
    }

    await root.auth.userDelete("ops");
    await root.auth.userDelete("svc");
    await root.auth.roleDelete("ops");
    assert.ok((await rejection(root.auth.userGet("ops"))) instanceof NotFoundError);
    assert.ok((await rejection(root.auth.roleGet("ops"))) instanceof NotFoundError);
    assert.ok(
      (await rejection(root.auth.roleGrantPermission("nobody", "k", "read"))) instanceof
        NotFoundError,
    );
  });

  test("bad input is refused before anything is sent", async () => {
    await assert.rejects(root.auth.userAdd("", "pw"), InvalidArgumentError);
    await assert.rejects(root.auth.userAdd("x", ""), InvalidArgumentError);
    await assert.rejects(
      root.auth.roleGrantPermission("reader", "k", "all" as "read"),
      InvalidArgumentError,
    );
  });

  test("RBAC: read-only on a prefix reads it, cannot write it, cannot read outside it", async () => {
    const reader = client({ username: "reader", password: READER_PASSWORD });
    try {
      assert.equal((await reader.get("shared/a"))?.text, "visible");
      const listed = await reader.range(prefix("shared/"));
      assert.deepEqual(
        listed.kvs.map((kv) => kv.keyText),
        ["shared/a"],
      );
      const denied: Array<[string, () => Promise<unknown>]> = [
        ["put inside", () => reader.put("shared/a", "overwritten")],
        ["delete inside", () => reader.delete(prefix("shared/"))],
        ["txn put inside", () => reader.txn({ compare: [], success: [op.put("shared/b", "x")] })],
        ["get outside", () => reader.get("private/a")],
        ["range outside", () => reader.range(prefix("private/"))],
        ["range of everything", () => reader.range(all())],
      ];
      for (const [what, call] of denied) {
        const error = await rejection(call());
        assert.ok(error instanceof PermissionDeniedError, `${what}: ${String(error)}`);
      }
      assert.equal((await root.get("shared/a"))?.text, "visible", "nothing was written");
    } finally {
      await reader.close();
    }
  });

  test("no credentials: UserEmptyError; wrong password: AuthFailedError", async () => {
    const anonymous = client();
    const wrong = client({ username: "reader", password: "not-the-password-91x" });
    try {
      assert.ok((await rejection(anonymous.get("shared/a"))) instanceof UserEmptyError);
      const error = await rejection(wrong.get("shared/a"));
      assert.ok(error instanceof AuthFailedError, String(error));
      const printed = `${inspect(error, { depth: 10, showHidden: true })} ${(error as Error).stack}`;
      assert.ok(!printed.includes("not-the-password-91x"), "password not in the error");
    } finally {
      await anonymous.close();
      await wrong.close();
    }
  });

  test("unary calls keep working across token expiry (token fetched again once)", async () => {
    const { calls, interceptor } = recorder();
    const reader = client({
      username: "reader",
      password: READER_PASSWORD,
      interceptors: [interceptor],
    });
    try {
      assert.equal((await reader.get("shared/a"))?.text, "visible");
      await outliveTokens();
      assert.equal((await reader.get("shared/a"))?.text, "visible");
      assert.equal((await reader.get("shared/a"))?.text, "visible");
      assert.deepEqual(calls, [
        "Authenticate",
        "Range",
        "Range!etcdserver: invalid auth token",
        "Authenticate",
        "Range",
        "Range",
      ]);
    } finally {
      await reader.close();
    }
  });

  test("concurrent first calls share one authentication", async () => {
    const { calls, interceptor } = recorder();
    const reader = client({
      username: "reader",
      password: READER_PASSWORD,
      interceptors: [interceptor],
    });
    try {
      await Promise.all(Array.from({ length: 20 }, () => reader.get("shared/a")));
      assert.equal(calls.filter((c) => c.startsWith("Authenticate")).length, 1);
    } finally {
      await reader.close();
    }
  });

  test("a token the user supplied is sent as is and never refreshed", async () => {
    const login = client();
    let token: string;
    try {
      token = (await login.raw.auth.authenticate({ name: "reader", password: READER_PASSWORD }))
        .token;
    } finally {
      await login.close();
    }
    const { calls, interceptor } = recorder();
    const withToken = client({ token, interceptors: [interceptor] });
    try {
      assert.equal((await withToken.get("shared/a"))?.text, "visible");
      await outliveTokens();
      const error = await rejection(withToken.get("shared/a"));
      assert.ok(error instanceof InvalidAuthTokenError, String(error));
      assert.ok(!calls.some((c) => c.startsWith("Authenticate")), calls.join(", "));
      assert.equal(await withToken.core.transport.refreshAuth(), false);
    } finally {
      await withToken.close();
    }
  });

  test("a call's own headers go along with the token, which replaces a `token` header among them", async () => {
    const range = { key: new TextEncoder().encode("shared/a") };
    const shapes: [string, HeadersInit][] = [
      ["a record", { Token: "not-a-token", "X-Request-Id": "1" }],
      ["a list of pairs", [["token", "not-a-token"]]],
      ["a Headers object", new Headers({ token: "not-a-token" })],
    ];
    for (const [shape, headers] of shapes) {
      const response = await root.client(KV).range(range, { headers });
      assert.equal(response.count, 1n, shape);
    }
    // Sent as is without the client's credentials: etcd refuses the token.
    const anonymous = client();
    try {
      const error = await rejection(
        anonymous.client(KV).range(range, { headers: { token: "not-a-token" } }),
      );
      // The generated client's errors are Connect's, with etcd's message.
      assert.ok(error instanceof ConnectError, String(error));
      assert.equal(error.rawMessage, "etcdserver: invalid auth token");
    } finally {
      await anonymous.close();
    }
  });

  test("the password is in no inspect output, JSON or string of the client", async () => {
    const secret = "pw-that-must-not-leak-5521";
    await root.auth.userAdd("leaky", secret);
    const etcd = client({ username: "leaky", password: secret });
    try {
      await assert.rejects(etcd.get("private/a"), PermissionDeniedError); // logged in, token held
      const outputs = [
        inspect(etcd, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        inspect(etcd.core.transport, { depth: 8, showHidden: true }),
        inspect(etcd.core.transport.auth, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
        JSON.stringify(etcd),
        JSON.stringify(etcd.core.transport.auth),
        String(etcd),
        `${etcd.core.transport.auth}`,
      ];
      for (const output of outputs) assert.ok(!output.includes(secret), output);
      assert.match(outputs[0] ?? "", /leaky/);
    } finally {
      await etcd.close();
      await root.auth.userDelete("leaky");
    }
  });

  test("a watch keeps delivering across token expiry and a member restart", async (t) => {
    if (typeof (root as { watch?: unknown }).watch !== "function") {
      t.skip("etcd.watch is not available in this build");
      return;
    }
    const member = fx.cluster?.members[0];
    if (!member) {
      t.skip("needs a spawned etcd");
      return;
    }
    const reader = client({ username: "reader", password: READER_PASSWORD });
    const writer = root;
    const watcher = reader.watch(prefix("shared/w/"));
    try {
      const events = watcher.events()[Symbol.asyncIterator]();
      const next = async () => {
        const r = await events.next();
        assert.ok(!r.done, "watch ended");
        return r.value;
      };
      await watcher.ready();
      await writer.put("shared/w/1", "a");
      assert.equal((await next()).kv.keyText, "shared/w/1");
      await outliveTokens();
      await writer.put("shared/w/2", "b");
      assert.equal((await next()).kv.keyText, "shared/w/2");
      // A restarted member has forgotten every simple token: the watch must log in again.
      await member.restart();
      await fx.cluster?.waitHealthy();
      await writer.put("shared/w/3", "c");
      assert.equal((await next()).kv.keyText, "shared/w/3");
    } finally {
      await watcher.close();
      await reader.close();
    }
  });

  test("disable and enable again", async () => {
    await root.auth.disable();
    const anonymous = client();
    try {
      await anonymous.put("private/b", "open");
      if (!is34()) assert.equal((await anonymous.auth.status()).enabled, false);
    } finally {
      await anonymous.close();
    }
    const { calls, interceptor } = recorder();
    const late = client({ username: "root", password: ROOT_PASSWORD, interceptors: [interceptor] });
    try {
      // Auth is off: the client sends no token until etcd asks for one.
      assert.equal((await late.get("private/b"))?.text, "open");
      await late.auth.enable();
      assert.equal((await late.get("private/b"))?.text, "open");
      assert.ok(calls.includes("Range!etcdserver: user name is empty"), calls.join(", "));
    } finally {
      await late.close();
    }
  });
});

describe("auth with JWT tokens", { skip: hasOpenssl() ? false : "needs openssl" }, () => {
  let cluster: Cluster | undefined;
  let keyDir: string | undefined;

  before(async () => {
    keyDir = mkdtempSync(join(tmpdir(), "etcd-connect-jwt-"));
    const priv = join(keyDir, "jwt.key");
    const pub = join(keyDir, "jwt.pub");
    execFileSync("openssl", ["genrsa", "-out", priv, "2048"], { stdio: "ignore" });
    execFileSync("openssl", ["rsa", "-in", priv, "-pubout", "-out", pub], { stdio: "ignore" });
    cluster = await Cluster.start({
      args: [`--auth-token=jwt,pub-key=${pub},priv-key=${priv},sign-method=RS256,ttl=10m`],
    });
    const admin = new Etcd({ ...testClientOptions(), endpoints: cluster.endpoints });
    try {
      await admin.auth.userAdd("root", ROOT_PASSWORD);
      await admin.auth.userGrantRole("root", "root");
      await admin.auth.roleAdd("reader");
      await admin.auth.roleGrantPermission("reader", prefix("shared/"), "read");
      await admin.auth.userAdd("reader", READER_PASSWORD);
      await admin.auth.userGrantRole("reader", "reader");
      await admin.put("shared/a", "visible");
      await admin.auth.enable();
    } finally {
      await admin.close();
    }
  });

  after(async () => {
    await cluster?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  test("a token older than the auth store is replaced, and the call repeated", async () => {
    const endpoints = cluster?.endpoints ?? [];
    const { calls, interceptor } = recorder();
    const reader = new Etcd({
      ...testClientOptions(),
      endpoints,
      username: "reader",
      password: READER_PASSWORD,
      interceptors: [interceptor],
    });
    const root = new Etcd({
      ...testClientOptions(),
      endpoints,
      username: "root",
      password: ROOT_PASSWORD,
    });
    try {
      assert.equal((await reader.get("shared/a"))?.text, "visible");
      // Any user or role change bumps the auth revision; JWTs carry the one they were made at.
      await root.auth.roleGrantPermission("reader", "extra", "read");
      assert.equal((await reader.get("shared/a"))?.text, "visible");
      assert.deepEqual(calls, [
        "Authenticate",
        "Range",
        "Range!etcdserver: revision of auth store is old",
        "Authenticate",
        "Range",
      ]);
    } finally {
      await reader.close();
      await root.close();
    }
  });
});
