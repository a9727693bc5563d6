import {
  type Client,
  type CallOptions as ConnectCallOptions,
  createContextValues,
} from "@connectrpc/connect";
import {
  AlarmRequest_AlarmAction,
  AlarmType,
  type Maintenance as MaintenanceService,
  type StatusResponse,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { toMemberId } from "../cluster/cluster.ts";
import { connectOptions } from "../connection/connect-options.ts";
import { endpointKey } from "../connection/pool-transport.ts";
import type { CallOptions } from "../core/call-options.ts";
import {
  type EtcdError,
  InvalidArgumentError,
  NoEndpointsError,
  PermissionDeniedError,
  SnapshotError,
  toEtcdError,
} from "../core/errors.ts";
import { type Int64, toInt64 } from "../core/numbers.ts";
import { type ResponseHeader, toHeader } from "../kv/key-value.ts";
import type { HeaderResult } from "../kv/results.ts";
import { type DowngradeResult, type DowngradeState, sendDowngrade } from "./downgrade.ts";
import type { SnapshotIo } from "./snapshot-io.ts";
import type { SnapshotTarget } from "./snapshot-target.ts";

/**
 * Options of calls that concern one member: `endpoint` sends the call to that endpoint of the
 * client (one of `etcd.endpoints`), and to no other. Without it any endpoint answers.
 *
 * @example
 * await etcd.maintenance.status({ endpoint: "http://127.0.0.1:2379" });
 */
export interface EndpointOptions extends CallOptions {
  endpoint?: string;
}

/**
 * One member's state as its `Status` reports it.
 *
 * @example
 * const s = await etcd.maintenance.status({ endpoint });
 * console.log(s.version, s.dbSize, s.isLeader);
 */
export interface MemberStatus {
  /** The endpoint asked, when the call was pinned to one. */
  endpoint: string | undefined;
  header: ResponseHeader;
  /** ID of the member that answered. */
  memberId: bigint;
  /** Its etcd version, such as "3.5.16". */
  version: string;
  /** Bytes of its database file. */
  dbSize: bigint;
  /** Bytes of the database in use; the rest is free space that `defragment` returns. */
  dbSizeInUse: bigint;
  /** ID of the member it believes is leader (0n: none). */
  leader: bigint;
  /** True when the answering member is the leader. */
  isLeader: boolean;
  isLearner: boolean;
  raftIndex: bigint;
  raftTerm: bigint;
  raftAppliedIndex: bigint;
  /** Alarm and health messages. */
  errors: string[];
  /**
   * The data format of its database file, such as "3.6.0" (it may trail `version` during an
   * upgrade or a downgrade). "" from members before etcd 3.6, which do not report it.
   */
  storageVersion: string;
  /** Its backend quota in bytes (`--quota-backend-bytes`); 0n from members before etcd 3.6. */
  dbSizeQuota: bigint;
  /** Whether a downgrade is enabled, and to which version; never enabled before etcd 3.6. */
  downgradeInfo: DowngradeState;
}

/**
 * `statusAll` per endpoint: the status, or why it could not be had.
 *
 * @example
 * for (const s of await etcd.maintenance.statusAll()) console.log(s.endpoint, s.status?.version ?? s.error?.message);
 */
export interface EndpointStatus {
  endpoint: string;
  status: MemberStatus | undefined;
  error: EtcdError | undefined;
}

/**
 * Kinds of alarm: the backend quota is exhausted ("nospace"), members' data disagree
 * ("corrupt"), or a kind this client does not know ("unknown").
 *
 * @example
 * if (alarm.alarm === "nospace") await etcd.maintenance.alarmDisarm(alarm);
 */
export type AlarmKind = "nospace" | "corrupt" | "unknown";

/**
 * An alarm raised on a member.
 *
 * @example
 * const alarms = await etcd.maintenance.alarmList();
 */
export interface Alarm {
  memberId: bigint;
  alarm: AlarmKind;
}

/**
 * What `alarmList` and `alarmDisarm` return: the alarms (raised, or cleared) and the header.
 *
 * @example
 * const { alarms } = await etcd.maintenance.alarmList();
 */
export interface AlarmListResult {
  header: ResponseHeader;
  alarms: Alarm[];
}

/**
 * Options of `defragment`: the member to defragment is required.
 *
 * @example
 * await etcd.maintenance.defragment({ endpoint: "http://10.0.0.1:2379", timeoutMs: 60_000 });
 */
export interface DefragmentOptions extends EndpointOptions {
  endpoint: string;
}

/**
 * A hash of a member's data; compare members to find inconsistencies.
 *
 * @example
 * const { hash, memberId } = await etcd.maintenance.hashKV({ endpoint });
 */
export interface HashResult {
  header: ResponseHeader;
  memberId: bigint;
  /** CRC-32 (Castagnoli) of the data. */
  hash: number;
}

/**
 * A hash of a member's key space up to a revision.
 *
 * @example
 * const { hash, compactRevision } = await etcd.maintenance.hashKV({ revision: 100n });
 */
export interface HashKVResult extends HashResult {
  /** The store's compaction revision when hashing started. */
  compactRevision: bigint;
  /**
   * The revision the hash covers (the one asked for, or the latest); 0n from members before
   * etcd 3.6, which do not report it.
   */
  hashRevision: bigint;
}

/**
 * How far a snapshot has come.
 *
 * @example
 * onProgress: ({ bytes, remaining }) => console.log(`${bytes} written, ${remaining} to go`)
 */
export interface SnapshotProgress {
  /** Bytes received and written so far. */
  bytes: number;
  /** Bytes the server says are still to come. */
  remaining: number;
}

/**
 * Options of `snapshot`.
 *
 * @example
 * await etcd.maintenance.snapshot(path, { onProgress: (p) => console.log(p.bytes) });
 */
export interface SnapshotOptions extends EndpointOptions {
  /** Called after each chunk is written. */
  onProgress?: (progress: SnapshotProgress) => void;
  /** End (close) a stream target when done; default true. Files are always closed. */
  end?: boolean;
}

/**
 * What a snapshot wrote.
 *
 * @example
 * const { bytes, sha256 } = await etcd.maintenance.snapshot("/backups/etcd.db");
 */
export interface SnapshotResult {
  /** Bytes written: the database followed by its 32-byte SHA-256, as etcdctl saves it. */
  bytes: number;
  /** The SHA-256 etcd appended, hex; checked against the bytes received. */
  sha256: string;
  /** The revision the snapshot was taken at, when the server says (0n otherwise). */
  revision: bigint;
  /**
   * The storage version of the member that made it, such as "3.6.0": the oldest etcd that can
   * restore it. "" from members before etcd 3.6, which do not send it.
   */
  storageVersion: string;
}

const SHA256_SIZE = 32;

/**
 * Operating etcd: member status, alarms, defragmentation, hashes, leader transfer,
 * snapshots and downgrades. Calls about one member take `endpoint` to choose it.
 *
 * @example
 * for (const endpoint of etcd.endpoints) console.log((await etcd.maintenance.status({ endpoint })).dbSize);
 */
export class MaintenanceClient {
  readonly #client: Client<typeof MaintenanceService>;
  readonly #endpoints: () => readonly string[];
  readonly #io: SnapshotIo;

  /** @internal */
  constructor(
    client: Client<typeof MaintenanceService>,
    endpoints: () => readonly string[],
    io: SnapshotIo,
  ) {
    this.#client = client;
    this.#endpoints = endpoints;
    this.#io = io;
  }

  /**
   * The state of one member: the one at `endpoint`, or whichever answers.
   *
   * @example
   * const { version, leader, isLeader } = await etcd.maintenance.status({ endpoint });
   */
  async status(options: EndpointOptions = {}): Promise<MemberStatus> {
    try {
      const response = await this.#client.status({}, callOptions(options));
      return toStatus(response, options.endpoint);
    } catch (error) {
      throw explainStatusRefusal(toEtcdError(error, options));
    }
  }

  /**
   * The status of every endpoint of the client, asked in parallel; an endpoint that fails has
   * `error` set instead of `status`.
   *
   * @example
   * const leader = (await etcd.maintenance.statusAll()).find((s) => s.status?.isLeader);
   */
  statusAll(options: CallOptions = {}): Promise<EndpointStatus[]> {
    return Promise.all(
      this.#endpoints().map(async (endpoint): Promise<EndpointStatus> => {
        try {
          return {
            endpoint,
            status: await this.status({ ...options, endpoint }),
            error: undefined,
          };
        } catch (error) {
          return { endpoint, status: undefined, error: toEtcdError(error) };
        }
      }),
    );
  }

  /**
   * The alarms raised in the cluster.
   *
   * @example
   * const { alarms } = await etcd.maintenance.alarmList();
   * const full = alarms.some((a) => a.alarm === "nospace");
   */
  async alarmList(options: CallOptions = {}): Promise<AlarmListResult> {
    try {
      const response = await this.#client.alarm(
        { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
        connectOptions(options),
      );
      return {
        header: toHeader(response.header),
        alarms: response.alarms.map((a) => ({ memberId: a.memberID, alarm: alarmKind(a.alarm) })),
      };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Clears an alarm, or every alarm raised when none is given (free space first: a NOSPACE
   * alarm comes back while the quota is still exceeded). Returns the alarms cleared.
   *
   * @example
   * await etcd.maintenance.alarmDisarm();
   */
  async alarmDisarm(alarm?: Alarm, options: CallOptions = {}): Promise<AlarmListResult> {
    const listed = alarm ? undefined : await this.alarmList(options);
    const targets = alarm ? [alarm] : (listed?.alarms ?? []);
    let header = listed?.header;
    const cleared: Alarm[] = [];
    for (const target of targets) {
      const code = alarmCodes[target.alarm];
      if (code === undefined) throw new InvalidArgumentError(`unknown alarm "${target.alarm}"`);
      try {
        const response = await this.#client.alarm(
          {
            action: AlarmRequest_AlarmAction.DEACTIVATE,
            memberID: toMemberId(target.memberId),
            alarm: code,
          },
          connectOptions(options),
        );
        header = toHeader(response.header);
        for (const a of response.alarms) {
          cleared.push({ memberId: a.memberID, alarm: alarmKind(a.alarm) });
        }
      } catch (error) {
        throw toEtcdError(error, options);
      }
    }
    return { header: header ?? toHeader(undefined), alarms: cleared };
  }

  /**
   * Defragments one member's database, returning free space to the file system. The member
   * does not serve requests meanwhile: do one member at a time.
   *
   * @example
   * for (const endpoint of etcd.endpoints) await etcd.maintenance.defragment({ endpoint });
   */
  async defragment(options: DefragmentOptions): Promise<HeaderResult> {
    const endpoint = options?.endpoint;
    if (typeof endpoint !== "string" || !endpoint) {
      throw new InvalidArgumentError(
        "defragment needs { endpoint }: the member to defragment, one at a time",
      );
    }
    try {
      const response = await this.#client.defragment({}, callOptions(options));
      return { header: toHeader(response.header) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * A hash of a member's whole backend (for debugging; `hashKV` is the one to compare members).
   *
   * @example
   * const { hash } = await etcd.maintenance.hash({ endpoint });
   */
  async hash(options: EndpointOptions = {}): Promise<HashResult> {
    try {
      const response = await this.#client.hash({}, callOptions(options));
      const header = toHeader(response.header);
      return { header, memberId: header.memberId, hash: response.hash };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * A hash of a member's keys and their history up to `revision` (default: latest). Members
   * that agree on the data give the same hash for the same revision.
   *
   * @example
   * const rev = (await etcd.get("x", {}))?.modRevision;
   * const hashes = await Promise.all(etcd.endpoints.map((endpoint) => etcd.maintenance.hashKV({ endpoint, revision: rev })));
   */
  async hashKV(options: EndpointOptions & { revision?: Int64 } = {}): Promise<HashKVResult> {
    const revision = options.revision === undefined ? 0n : toInt64(options.revision, "revision");
    try {
      const response = await this.#client.hashKV({ revision }, callOptions(options));
      const header = toHeader(response.header);
      return {
        header,
        memberId: header.memberId,
        hash: response.hash,
        compactRevision: response.compactRevision,
        hashRevision: response.hashRevision,
      };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Hands leadership to another voting member. The request goes to the current leader, which
   * must be one of the client's endpoints.
   *
   * @example
   * const { members } = await etcd.cluster.memberList();
   * await etcd.maintenance.moveLeader(members[1].id);
   */
  async moveLeader(targetId: Int64, options: CallOptions = {}): Promise<HeaderResult> {
    const target = toMemberId(targetId);
    const statuses = await this.statusAll(options);
    const leader = statuses.find((s) => s.status?.isLeader);
    if (!leader) {
      const reasons = statuses.map((s) => `${s.endpoint}: ${s.error?.message ?? "not leader"}`);
      throw new NoEndpointsError(
        `moveLeader: the leader is not among the client's endpoints (${reasons.join("; ")})`,
      );
    }
    try {
      const response = await this.#client.moveLeader(
        { targetID: target },
        callOptions({ ...options, endpoint: leader.endpoint }),
      );
      return { header: toHeader(response.header) };
    } catch (error) {
      throw toEtcdError(error, options);
    }
  }

  /**
   * Asks whether the cluster could be downgraded to `version` (the previous minor version, such
   * as "3.6" on a 3.7 cluster), changing nothing. etcd 3.5 and later; a 3.4 member throws
   * `NotCapableError`. A refused target throws `DowngradeError` with etcd's reason.
   *
   * @example
   * const { clusterVersion } = await etcd.maintenance.downgradeValidate("3.6");
   */
  downgradeValidate(version: string, options: CallOptions = {}): Promise<DowngradeResult> {
    return sendDowngrade(this.#client, "validate", version, options);
  }

  /**
   * Starts a downgrade of the cluster to `version` (the previous minor version): members
   * rewrite their storage for it, after which they can be replaced one at a time by binaries of
   * that version. Once enabled, `status()` shows it in `downgradeInfo`. A write: not retried
   * once it may have been sent. Throws `DowngradeError` when one is already in progress.
   *
   * @example
   * await etcd.maintenance.downgradeEnable("3.6");
   */
  downgradeEnable(version: string, options: CallOptions = {}): Promise<DowngradeResult> {
    return sendDowngrade(this.#client, "enable", version, options);
  }

  /**
   * Cancels the downgrade in progress. etcd 3.6 and later answer success also when none is in
   * progress; etcd 3.5 throws `DowngradeError` ("no inflight downgrade job").
   *
   * @example
   * await etcd.maintenance.downgradeCancel();
   */
  downgradeCancel(options: CallOptions = {}): Promise<DowngradeResult> {
    return sendDowngrade(this.#client, "cancel", "", options);
  }

  /**
   * Streams a snapshot of one member's database (the one at `endpoint`, or whichever answers)
   * to a file or stream, with progress after each chunk. What is written is exactly what
   * `etcdctl snapshot save` writes: the database followed by the 32-byte SHA-256 etcd appends,
   * which is checked; a mismatch, a missing checksum or a broken stream throws and (for a
   * file) leaves no file behind. Restore it with `etcdutl snapshot restore`.
   *
   * @example
   * const { bytes } = await etcd.maintenance.snapshot("/backups/etcd.db", {
   *   onProgress: ({ bytes, remaining }) => console.log(bytes, remaining),
   * });
   */
  async snapshot(target: SnapshotTarget, options: SnapshotOptions = {}): Promise<SnapshotResult> {
    const sink = this.#io.openSink(target, options.end !== false);
    const aborter = new AbortController();
    const stop = () => aborter.abort(options.signal?.reason);
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    const hash = this.#io.sha256();
    let tail = new Uint8Array(0);
    let bytes = 0;
    let revision = 0n;
    let storageVersion = "";
    let first = true;
    try {
      await sink.ready();
      const stream = this.#client.snapshot(
        {},
        callOptions({
          signal: aborter.signal,
          timeoutMs: options.timeoutMs ?? 0,
          ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        }),
      );
      for await (const message of stream) {
        if (first) {
          revision = message.header?.revision ?? 0n;
          storageVersion = message.version;
          first = false;
        }
        const chunk = message.blob;
        if (chunk.length === 0) continue;
        // Hash everything but the last 32 bytes seen: those may be the checksum.
        if (chunk.length >= SHA256_SIZE) {
          hash.update(tail);
          hash.update(chunk.subarray(0, chunk.length - SHA256_SIZE));
          tail = chunk.slice(chunk.length - SHA256_SIZE);
        } else {
          const joined = new Uint8Array(tail.length + chunk.length);
          joined.set(tail, 0);
          joined.set(chunk, tail.length);
          const cut = Math.max(0, joined.length - SHA256_SIZE);
          hash.update(joined.subarray(0, cut));
          tail = joined.slice(cut);
        }
        await sink.write(chunk);
        bytes += chunk.length;
        options.onProgress?.({ bytes, remaining: Number(message.remainingBytes) });
      }
      if (bytes % 512 !== SHA256_SIZE) {
        throw new SnapshotError(`snapshot has no sha256 checksum (received ${bytes} bytes)`);
      }
      const expected = toHex(tail);
      const actual = hash.hex();
      if (expected !== actual) {
        throw new SnapshotError(
          `snapshot sha256 mismatch: etcd sent ${expected}, the data hashes to ${actual}`,
        );
      }
      await sink.finish();
      return { bytes, sha256: expected, revision, storageVersion };
    } catch (error) {
      aborter.abort();
      await sink.fail(error);
      throw toEtcdError(error);
    } finally {
      options.signal?.removeEventListener("abort", stop);
      aborter.abort();
    }
  }
}

function callOptions(options: EndpointOptions): ConnectCallOptions {
  const call = connectOptions(options);
  if (options.endpoint === undefined) return call;
  const contextValues = (call.contextValues ?? createContextValues()).set(
    endpointKey,
    options.endpoint,
  );
  return {
    ...(call.signal === undefined ? {} : { signal: call.signal }),
    ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
    contextValues,
  };
}

function toStatus(response: StatusResponse, endpoint: string | undefined): MemberStatus {
  const header = toHeader(response.header);
  return {
    endpoint,
    header,
    memberId: header.memberId,
    version: response.version,
    dbSize: response.dbSize,
    dbSizeInUse: response.dbSizeInUse,
    leader: response.leader,
    isLeader: response.leader !== 0n && response.leader === header.memberId,
    isLearner: response.isLearner,
    raftIndex: response.raftIndex,
    raftTerm: response.raftTerm,
    raftAppliedIndex: response.raftAppliedIndex,
    errors: [...response.errors],
    storageVersion: response.storageVersion,
    dbSizeQuota: response.dbSizeQuota,
    downgradeInfo: {
      enabled: response.downgradeInfo?.enabled ?? false,
      targetVersion: response.downgradeInfo?.targetVersion ?? "",
    },
  };
}

const alarmCodes: Partial<Record<AlarmKind, AlarmType>> = {
  nospace: AlarmType.NOSPACE,
  corrupt: AlarmType.CORRUPT,
};

function alarmKind(code: AlarmType): AlarmKind {
  if (code === AlarmType.NOSPACE) return "nospace";
  if (code === AlarmType.CORRUPT) return "corrupt";
  return "unknown";
}

/**
 * Who may call Status depends on the etcd line: 3.4 and 3.5 before 3.5.28 answer anyone, 3.5.28
 * and later 3.5 releases only the root role, 3.6+ any authenticated user. A refusal says so.
 */
function explainStatusRefusal(error: EtcdError): EtcdError {
  if (!(error instanceof PermissionDeniedError)) return error;
  return new PermissionDeniedError(
    `${error.rawMessage}: on etcd 3.5.28 and later 3.5 releases only users with the root ` +
      "(admin) role may ask a member's status; 3.6 and later answer any authenticated user",
    error.code,
    { cause: error, rawMessage: error.rawMessage },
  );
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}
