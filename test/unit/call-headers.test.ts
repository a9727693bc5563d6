/**
 * How a call's own headers and what the client adds (the auth token, a tracer's `traceparent`)
 * combine. The auth integration test sends each shape to etcd; these pin the merge itself.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { withHeaders } from "../../src/connection/call-headers.ts";

test("without headers of the call, the added ones are the headers", () => {
  const extra = { token: "t" };
  assert.equal(withHeaders(undefined, extra), extra);
});

test("a record stays a record: names lowercased, same-name values joined, added ones replace", () => {
  const merged = withHeaders(
    { "X-Tenant": "a", "x-tenant": "b", Token: "callers", skipped: undefined } as unknown as Record<
      string,
      string
    >,
    { token: "clients" },
  );
  assert.ok(!(merged instanceof Headers));
  assert.deepEqual(merged, { "x-tenant": "a, b", token: "clients" });
  // An added name replaces the caller's whatever the case of either.
  assert.deepEqual(withHeaders({ token: "callers" }, { Token: "clients" }), { token: "clients" });
});

test("the record means what a Headers object made from it means", () => {
  const header = { "X-Tenant": "a", "x-tenant": "b", Token: "callers" };
  const viaHeaders = new Headers(header);
  viaHeaders.set("token", "clients");
  assert.deepEqual(withHeaders(header, { token: "clients" }), Object.fromEntries(viaHeaders));
});

test("a Headers object or a list of pairs becomes a Headers object with the added ones set", () => {
  for (const header of [
    new Headers({ token: "callers", a: "1" }),
    [
      ["token", "callers"],
      ["a", "1"],
    ],
  ]) {
    const merged = withHeaders(header as HeadersInit, { token: "clients", traceparent: "00-x" });
    assert.ok(merged instanceof Headers);
    assert.deepEqual(Object.fromEntries(merged), { a: "1", token: "clients", traceparent: "00-x" });
  }
  const given = new Headers({ a: "1" });
  withHeaders(given, { token: "t" });
  assert.equal(given.get("token"), null, "the caller's Headers object is left as it was");
});
