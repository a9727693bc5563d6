/**
 * `etcd.close()` against real etcd: the leases of open sessions and the kept-alive leases the
 * client granted are revoked before the connections close, so their keys and locks go at once
 * (not after the TTL); a lease adopted by ID, or granted and not kept alive, is left alone; calls
 * made once close() began are refused; and close() still returns when the only member hangs.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ClientClosedError, Etcd, LeaseNotFoundError } from "../../src/index.ts";
import { testClientOptions, uniquePrefix, useEtcd } from "../support/index.ts";

const fx = useEtcd();
/** The observer: a second client that outlives the ones being closed. */
let observer: Etcd;

function client(): Etcd {
  return new Etcd({ ...testClientOptions(), endpoints: fx.endpoints });
}

describe("close() revokes what the client keeps alive", () => {
  before(() => {
    observer = client();
  });
  after(async () => {
    await observer.close();
  });

  test("a session's lease and lock key are gone as soon as close() resolves", async () => {
    const p = uniquePrefix("close-session");
    const etcd = client();
    // A TTL long enough that only a revoke can explain the key's absence right after close().
    const session = await etcd.session({ ttl: 60 });
    const mutex = await session.mutex(`${p}lock`).lock();
    const lockKey = mutex.keyText;
    assert.ok(await observer.get(lockKey), "the lock key exists while the session is open");

    const closing = etcd.close();
    // Calls made once close() has begun are refused, while the revoke is still on its way.
    await assert.rejects(etcd.put(`${p}late`, "x"), ClientClosedError);
    await assert.rejects(etcd.lease.timeToLive(session.id), ClientClosedError);
    await closing;

    assert.equal((await observer.lease.timeToLive(session.id)).ttl, -1n, "lease revoked");
    assert.equal(await observer.get(lockKey), undefined, "lock key deleted with the lease");
    assert.equal(await observer.get(`${p}late`), undefined, "the late put was never sent");
    assert.ok(session.done);
    assert.ok(session.signal.reason instanceof ClientClosedError);
    await assert.rejects(etcd.get(lockKey), ClientClosedError);
  });

  test("a kept-alive lease the client granted is revoked; adopted and idle ones are not", async () => {
    const p = uniquePrefix("close-lease");
    const etcd = client();
    const kept = await etcd.lease.grant(60, { keepAlive: true });
    await etcd.put(`${p}kept`, "1", { lease: kept.id });
    // Granted here but never kept alive: whoever holds its ID may still rely on it.
    const idle = await etcd.lease.grant(60);
    await etcd.put(`${p}idle`, "1", { lease: idle.id });
    // Granted by another client, only kept alive here.
    const foreign = await observer.lease.grant(60);
    await observer.put(`${p}foreign`, "1", { lease: foreign.id });
    const adopted = await etcd.lease.keepAlive(foreign.id);
    assert.equal(adopted.state, "alive");
    try {
      await etcd.close();
      assert.equal(kept.state, "closed");
      assert.equal((await observer.lease.timeToLive(kept.id)).ttl, -1n, "kept-alive lease revoked");
      assert.equal(await observer.get(`${p}kept`), undefined, "its key deleted at once");

      assert.ok((await observer.lease.timeToLive(idle.id)).ttl > 0n, "idle lease left alone");
      assert.ok(await observer.get(`${p}idle`));
      assert.equal(adopted.state, "closed");
      assert.ok((await observer.lease.timeToLive(foreign.id)).ttl > 0n, "adopted lease left alone");
      assert.ok(await observer.get(`${p}foreign`));
    } finally {
      await observer.lease.revoke(idle.id).catch(() => {});
      await observer.lease.revoke(foreign.id).catch(() => {});
    }
  });

  test("a session on an adopted lease revokes it on close, as session.close() would", async () => {
    const foreign = await observer.lease.grant(60);
    const etcd = client();
    const session = await etcd.session({ lease: foreign.id });
    await etcd.close();
    assert.ok(session.done);
    await assert.rejects(observer.lease.revoke(foreign.id), LeaseNotFoundError);
  });

  test("close() returns when the only member hangs", { timeout: 60_000 }, async () => {
    const member = fx.cluster?.members[0];
    if (!member) return;
    const etcd = client();
    const session = await etcd.session({ ttl: 60 });
    const lease = await etcd.lease.grant(60, { keepAlive: true });
    member.pause();
    try {
      // The revokes cannot be answered: close() gives up on them and still resolves.
      await etcd.close();
      assert.ok(etcd.closed);
      assert.ok(session.done);
      assert.equal(lease.state, "closed");
      await assert.rejects(etcd.get("k"), ClientClosedError);
    } finally {
      member.resume();
      await fx.cluster?.waitHealthy();
      await observer.lease.revoke(session.id).catch(() => {});
      await observer.lease.revoke(lease.id).catch(() => {});
    }
  });
});
