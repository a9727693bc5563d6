import type { Etcd, MemberStatus } from "../../src/index.ts";

/**
 * The member's status once it reports its own line as storage version. etcd 3.6+ writes the
 * storage version shortly after it settles the cluster version, so a member just started may
 * still answer "", or an older line's version on the way (3.7.1 was seen answering "3.5.0"
 * first, under load); older lines never report one: their first answer is returned. Polls up to
 * `timeoutMs`.
 *
 * @example
 * const status = await settledStatus(etcd); // status.storageVersion is "3.7.0" on 3.7
 */
export async function settledStatus(etcd: Etcd, timeoutMs = 30_000): Promise<MemberStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await etcd.maintenance.status();
    const [major, minor] = status.version.split(".").map(Number);
    if ((minor ?? 0) < 6 || status.storageVersion === `${major}.${minor}.0`) return status;
    if (Date.now() > deadline) {
      throw new Error(`etcd ${status.version} reported no storage version in ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
