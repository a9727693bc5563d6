/**
 * Pieces of the lease and concurrency code that need no etcd: Go's key format for mutexes and
 * elections (lease IDs beyond 2^53 included), and the push queue under the keep-alive stream.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sessionKey, withSlash } from "../../src/concurrency/mutex.ts";
import { PushQueue } from "../../src/connection/push-queue.ts";

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("latin1");

test("keys are <prefix>/<lease id in lowercase hex>, the slash always appended as Go does", () => {
  assert.equal(text(sessionKey(withSlash("locks/job"), 0x694d7c1a2b3cn)), "locks/job/694d7c1a2b3c");
  // Go's NewMutex appends "/" even when the prefix ends with one.
  assert.equal(text(withSlash("locks/")), "locks//");
  const big = 2n ** 62n + 0xabcn; // beyond 2^53: must not go through Number
  assert.equal(text(sessionKey(withSlash("e"), big)), `e/${big.toString(16)}`);
  assert.equal(big.toString(16), "4000000000000abc");
  const binary = withSlash(new Uint8Array([0xff, 0x00]));
  assert.deepEqual([...binary], [0xff, 0x00, 0x2f]);
});

test("push queue: delivers in order, to a waiting reader or buffered, and ends on close", async () => {
  const queue = new PushQueue<number>();
  const iterator = queue[Symbol.asyncIterator]();
  const waiting = iterator.next();
  queue.push(1);
  assert.deepEqual(await waiting, { done: false, value: 1 });
  for (let i = 2; i <= 1000; i++) queue.push(i);
  const seen: number[] = [];
  for (let i = 2; i <= 1000; i++) {
    const r = await iterator.next();
    assert.equal(r.done, false);
    seen.push(r.value as number);
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 999 }, (_, i) => i + 2),
  );
  const pending = iterator.next();
  queue.close();
  assert.deepEqual(await pending, { done: true, value: undefined });
  queue.push(5);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  assert.ok(queue.closed);
});

test("push queue: throw() (Connect's call failing) closes it", async () => {
  const queue = new PushQueue<number>();
  const iterator = queue[Symbol.asyncIterator]();
  queue.push(1);
  assert.ok(iterator.throw);
  await iterator.throw(new Error("call failed"));
  assert.ok(queue.closed);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});
