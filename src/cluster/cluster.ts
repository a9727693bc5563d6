import type { Client } from "@connectrpc/connect";
import type {
  Cluster as ClusterService,
  Member as WireMember,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { connectOptions } from "../connection/connect-options.ts";
import type { CallOptions } from "../core/call-options.ts";
import { InvalidArgumentError, toEtcdError } from "../core/errors.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import { type ResponseHeader, toHeader } from "../kv/key-value.ts";

/**
 * A member of the cluster. `name` and `clientUrls` are empty until an added member has started.
 *
 * @example
 * const { members } = await etcd.cluster.memberList();
 * members.map((m) => `${m.id.toString(16)} ${m.name} ${m.isLearner ? "learner" : "voter"}`);
 */
export interface Member {
  /** Member ID (etcdctl prints it in hex: `id.toString(16)`). */
  id: bigint;
  name: string;
  /** URLs the other members reach this one on. */
  peerUrls: string[];
  /** URLs this member serves clients on. */
  clientUrls: string[];
  /** True for a non-voting learner. */
  isLearner: boolean;
}

/**
 * The members after a membership call, with the response header (whose `memberId` is the member
 * that answered).
 *
 * @example
 * const { members, header } = await etcd.cluster.memberList();
 */
export interface MemberListResult {
  header: ResponseHeader;
  members: Member[];
}

/**
 * The result of adding a member: the new member (its ID is what `memberPromote` and
 * `memberRemove` take) and every member after the change.
 *
 * @example
 * const { member, members } = await etcd.cluster.memberAdd(["http://10.0.0.4:2380"], { isLearner: true });
 */
export interface MemberAddResult extends MemberListResult {
  member: Member;
}

/**
 * Cluster membership: list, add (as voter or learner), remove, update peer URLs, promote a
 * learner. Changes are sent once (never retried on another member); a refused change throws a
 * `MembershipError` (or `UnhealthyClusterError` when it would cost the cluster its quorum).
 *
 * @example
 * const { member } = await etcd.cluster.memberAdd(["http://10.0.0.4:2380"], { isLearner: true });
 * // start etcd on 10.0.0.4 with --initial-cluster-state=existing, then:
 * await etcd.cluster.memberPromote(member.id);
 */
export class ClusterClient {
  readonly #client: Client<typeof ClusterService>;

  /** @internal */
  constructor(client: Client<typeof ClusterService>) {
    this.#client = client;
  }

  /**
   * Every member. With `linearizable` (etcd 3.5+; older servers ignore it) the list is read
   * through the leader, so it reflects every change committed before the call.
   *
   * @example
   * const { members } = await etcd.cluster.memberList({ linearizable: true });
   */
  async memberList(
    options: { linearizable?: boolean } & CallOptions = {},
  ): Promise<MemberListResult> {
    try {
      const response = await this.#client.memberList(
        { linearizable: options.linearizable === true },
        connectOptions(options),
      );
      return { header: toHeader(response.header), members: response.members.map(toMember) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Adds a member that will use `peerUrls`; with `isLearner`, as a non-voting learner that can
   * be promoted once it has caught up. Start the new etcd afterwards with
   * `--initial-cluster-state=existing` and an `--initial-cluster` listing `members`.
   *
   * @example
   * const { member } = await etcd.cluster.memberAdd("http://10.0.0.4:2380", { isLearner: true });
   */
  async memberAdd(
    peerUrls: string | string[],
    options: { isLearner?: boolean } & CallOptions = {},
  ): Promise<MemberAddResult> {
    const urls = toUrls(peerUrls);
    try {
      const response = await this.#client.memberAdd(
        { peerURLs: urls, isLearner: options.isLearner === true },
        connectOptions(options),
      );
      if (!response.member) throw new InvalidArgumentError("etcd returned no member");
      return {
        header: toHeader(response.header),
        member: toMember(response.member),
        members: response.members.map(toMember),
      };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Removes a member. The removed etcd process stops by itself.
   *
   * @example
   * await etcd.cluster.memberRemove(member.id);
   */
  async memberRemove(id: Int64, options: CallOptions = {}): Promise<MemberListResult> {
    const memberId = toMemberId(id);
    try {
      const response = await this.#client.memberRemove({ ID: memberId }, connectOptions(options));
      return { header: toHeader(response.header), members: response.members.map(toMember) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Changes the peer URLs of a member.
   *
   * @example
   * await etcd.cluster.memberUpdate(member.id, ["http://10.0.0.5:2380"]);
   */
  async memberUpdate(
    id: Int64,
    peerUrls: string | string[],
    options: CallOptions = {},
  ): Promise<MemberListResult> {
    const memberId = toMemberId(id);
    const urls = toUrls(peerUrls);
    try {
      const response = await this.#client.memberUpdate(
        { ID: memberId, peerURLs: urls },
        connectOptions(options),
      );
      return { header: toHeader(response.header), members: response.members.map(toMember) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Makes a learner a voting member. etcd refuses (`MembershipError`, "learner member not
   * ready" / "which is in sync with leader") until the learner has caught up with the leader:
   * retry after a while.
   *
   * @example
   * await etcd.cluster.memberPromote(member.id);
   */
  async memberPromote(id: Int64, options: CallOptions = {}): Promise<MemberListResult> {
    const memberId = toMemberId(id);
    try {
      const response = await this.#client.memberPromote({ ID: memberId }, connectOptions(options));
      return { header: toHeader(response.header), members: response.members.map(toMember) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }
}

/**
 * A wire member as a `Member`.
 *
 * @example
 * toMember(response.member);
 */
export function toMember(member: WireMember): Member {
  return {
    id: member.ID,
    name: member.name,
    peerUrls: [...member.peerURLs],
    clientUrls: [...member.clientURLs],
    isLearner: member.isLearner,
  };
}

const MAX_UINT64 = 2n ** 64n - 1n;

/**
 * A member ID as a bigint: IDs are unsigned 64-bit; a negative int64 (as some tools print) is
 * read as its two's complement.
 *
 * @example
 * toMemberId(0x8e9e05c52164694dn);
 */
export function toMemberId(id: Int64): bigint {
  if (typeof id === "bigint" && id > 0n && id <= MAX_UINT64) return id;
  const value = toInt64(id, "member ID", true);
  if (value === 0n) throw new InvalidArgumentError("member ID must not be 0");
  return value < 0n ? value + 2n ** 64n : value;
}

function toUrls(peerUrls: string | string[]): string[] {
  const list = typeof peerUrls === "string" ? [peerUrls] : peerUrls;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError("peerUrls must name at least one URL");
  }
  for (const url of list) {
    if (typeof url !== "string" || !/^https?:\/\/[^/]+\/?$/.test(url)) {
      throw new InvalidArgumentError(
        `peer URL must look like http://host:port, got ${String(url)}`,
      );
    }
  }
  return [...list];
}
