/**
 * What etcd 3.6 added to maintenance, on one member of whichever line runs: status' storage
 * version, quota and downgrade state, hashKV's hash revision, the snapshot's storage version,
 * and the Downgrade RPC (validate, enable, cancel). Each test reads the member's version and
 * asserts that line's answer: 3.6+ fills the fields, 3.4/3.5 leave them empty; 3.5 has a
 * Downgrade RPC with its own answers, 3.4 none.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { Code, DowngradeError, Etcd, type MemberStatus, NotCapableError } from "../../src/index.ts";
import {
  SNAPSHOT_ON_DENO,
  settledStatus,
  testClientOptions,
  unsupportedOn,
  useEtcd,
} from "../support/index.ts";

const fx = useEtcd();

/** The member's major and minor version, from what it reports about itself. */
function line(status: MemberStatus): { major: number; minor: number } {
  const [major = 0, minor = 0] = status.version.split(".").map(Number);
  return { major, minor };
}

describe("maintenance: what etcd 3.6 added, per line", () => {
  let etcd: Etcd;
  let status: MemberStatus;
  let since36: boolean;
  let major: number;
  let minor: number;

  before(async () => {
    etcd = new Etcd({ ...testClientOptions(), endpoints: fx.endpoints, timeoutMs: 20_000 });
    status = await settledStatus(etcd);
    ({ major, minor } = line(status));
    assert.equal(major, 3, `a 3.x member: ${status.version}`);
    since36 = minor >= 6;
  });

  after(async () => {
    await etcd?.close();
  });

  test("status: storage version, quota and downgrade state from 3.6, empty before", () => {
    if (since36) {
      assert.equal(status.storageVersion, `${major}.${minor}.0`);
      // No --quota-backend-bytes: etcd reports its default, 2 GiB.
      assert.equal(status.dbSizeQuota, 2n * 1024n ** 3n);
    } else {
      assert.equal(status.storageVersion, "");
      assert.equal(status.dbSizeQuota, 0n);
    }
    assert.deepEqual(status.downgradeInfo, { enabled: false, targetVersion: "" });
  });

  test("hashKV: the revision hashed from 3.6 (asked or latest), 0n before", async () => {
    const first = await etcd.put("versions/a", "1");
    const second = await etcd.put("versions/a", "2");
    const atFirst = await etcd.maintenance.hashKV({ revision: first.revision });
    const latest = await etcd.maintenance.hashKV();
    assert.notEqual(atFirst.hash, latest.hash, "two revisions, two hashes");
    if (since36) {
      assert.equal(atFirst.hashRevision, first.revision);
      assert.equal(latest.hashRevision, second.revision);
    } else {
      assert.equal(atFirst.hashRevision, 0n);
      assert.equal(latest.hashRevision, 0n);
    }
  });

  test("snapshot: the member's storage version from 3.6, empty before", {
    skip: unsupportedOn({ deno: SNAPSHOT_ON_DENO }),
  }, async () => {
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const result = await etcd.maintenance.snapshot(sink);
    assert.ok(result.bytes > 0);
    assert.equal(result.storageVersion, since36 ? `${major}.${minor}.0` : "");
  });

  test("downgrade validate: the previous minor passes, others are refused with etcd's reason", async () => {
    const previous = `${major}.${minor - 1}`;
    if (minor <= 4) {
      // 3.4 has no Downgrade RPC.
      const error = await etcd.maintenance.downgradeValidate(previous).catch((e: unknown) => e);
      assert.ok(error instanceof NotCapableError, String(error));
      assert.equal(error.code, Code.Unimplemented);
      assert.match(error.rawMessage, /unknown method Downgrade/);
      return;
    }
    const valid = await etcd.maintenance.downgradeValidate(previous);
    // The cluster version as it stands: 3.5 writes it with a patch, 3.6+ without.
    assert.equal(valid.clusterVersion, since36 ? `${major}.${minor}` : `${major}.${minor}.0`);
    assert.equal(valid.header.memberId, status.memberId);

    const malformed = await etcd.maintenance.downgradeValidate("bogus").catch((e: unknown) => e);
    assert.ok(malformed instanceof DowngradeError, String(malformed));
    assert.equal(malformed.code, Code.InvalidArgument);
    assert.equal(malformed.rawMessage, "etcdserver: wrong downgrade target version format");

    for (const target of [`${major}.${minor - 2}`, `${major}.${minor}`, `${major}.${minor + 1}`]) {
      const refused = await etcd.maintenance.downgradeValidate(target).catch((e: unknown) => e);
      assert.ok(refused instanceof DowngradeError, `${target}: ${refused}`);
      assert.equal(refused.code, Code.InvalidArgument);
      assert.equal(refused.rawMessage, "etcdserver: invalid downgrade target version");
    }
  });

  test("downgrade enable then cancel (3.6+); cancel without a downgrade (3.5, 3.4)", async () => {
    const previous = `${major}.${minor - 1}`;
    if (minor <= 4) {
      await assert.rejects(etcd.maintenance.downgradeCancel(), NotCapableError);
      return;
    }
    if (!since36) {
      // etcd 3.5 refuses to cancel what was never enabled. (Its enable is left out: on a
      // 3.5 member it waits for a downgrade the binaries cannot finish.)
      const error = await etcd.maintenance.downgradeCancel().catch((e: unknown) => e);
      assert.ok(error instanceof DowngradeError, String(error));
      assert.equal(error.rawMessage, "etcdserver: no inflight downgrade job");
      assert.equal(error.code, Code.FailedPrecondition);
      return;
    }
    const enabled = await etcd.maintenance.downgradeEnable(previous);
    assert.equal(enabled.clusterVersion, `${major}.${minor}`);
    try {
      const during = await etcd.maintenance.status();
      assert.deepEqual(during.downgradeInfo, { enabled: true, targetVersion: `${previous}.0` });
      const again = await etcd.maintenance.downgradeEnable(previous).catch((e: unknown) => e);
      assert.ok(again instanceof DowngradeError, String(again));
      assert.equal(again.rawMessage, "etcdserver: cluster has a downgrade job in progress");
      assert.equal(again.code, Code.FailedPrecondition);
    } finally {
      const cancelled = await etcd.maintenance.downgradeCancel();
      // The cluster version when cancelled: still this minor, unless the member had already
      // lowered it to the target.
      assert.ok(
        [`${major}.${minor}`, previous].includes(cancelled.clusterVersion),
        cancelled.clusterVersion,
      );
    }
    const afterCancel = await etcd.maintenance.status();
    assert.equal(afterCancel.downgradeInfo.enabled, false);
    // 3.6+ answers success to a cancel with nothing in progress.
    const idle = await etcd.maintenance.downgradeCancel();
    assert.equal(idle.header.memberId, status.memberId);
  });
});
