import type { HashKVResult, MemberStatus } from "../../index.ts";
import { PermissionDeniedError } from "../../index.ts";
import { CliError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import type { CommandContext } from "../context.ts";
import { ExitCode } from "../exit-codes.ts";
import { kept } from "../go-json.ts";
import { goDuration, humanBytes } from "../humanize.ts";
import { memberHex } from "../ids.ts";
import { headerJson } from "../kv-format.ts";

const clusterFlag = {
  cluster: {
    type: "boolean",
    description: "use every member's client URLs (from member list) instead of --endpoints",
  },
} as const;

/**
 * The endpoints a per-member command runs on: `--endpoints`, or with `--cluster` every
 * member's client URLs.
 *
 * @example
 * for (const endpoint of await targetEndpoints(ctx)) { ... }
 */
export async function targetEndpoints(ctx: CommandContext): Promise<string[]> {
  if (!ctx.flags.bool("cluster")) return ctx.endpoints;
  const etcd = await ctx.etcd();
  const { members } = await etcd.cluster.memberList({ signal: ctx.signal });
  return [...new Set(members.flatMap((m) => m.clientUrls))];
}

// etcdctl 3.7's columns; members before 3.6 leave the storage version, quota and downgrade
// ones empty (0 B, false).
const STATUS_HEADERS = [
  "Endpoint",
  "ID",
  "Version",
  "Storage Version",
  "DB Size",
  "In Use",
  "Percentage Not In Use",
  "Quota",
  "Is Leader",
  "Is Learner",
  "Raft Term",
  "Raft Index",
  "Raft Applied Index",
  "Errors",
  "Downgrade Target Version",
  "Downgrade Enabled",
];

function statusRow(endpoint: string, s: MemberStatus): string[] {
  return [
    endpoint,
    memberHex(s.memberId),
    s.version,
    s.storageVersion,
    humanBytes(s.dbSize),
    humanBytes(s.dbSizeInUse),
    `${notInUsePercent(s)}%`,
    humanBytes(s.dbSizeQuota),
    String(s.isLeader),
    String(s.isLearner),
    String(s.raftTerm),
    String(s.raftIndex),
    String(s.raftAppliedIndex),
    s.errors.join(", "),
    s.downgradeInfo.targetVersion,
    String(s.downgradeInfo.enabled),
  ];
}

/** The share of the database file not in use, in whole percent, rounded down as etcdctl does. */
function notInUsePercent(s: MemberStatus): bigint {
  return s.dbSize === 0n ? 0n : 100n - (s.dbSizeInUse * 100n) / s.dbSize;
}

/**
 * The status as etcdctl's JSON: etcd 3.6+ always sends `downgradeInfo` (empty or not) with a
 * non-zero quota, older members send neither, and etcdctl prints what was sent.
 */
function statusJson(s: MemberStatus) {
  const since36 = s.dbSizeQuota !== 0n;
  return {
    header: headerJson(s.header),
    version: s.version,
    dbSize: s.dbSize,
    leader: s.leader,
    raftIndex: s.raftIndex,
    raftTerm: s.raftTerm,
    raftAppliedIndex: s.raftAppliedIndex,
    errors: s.errors,
    dbSizeInUse: s.dbSizeInUse,
    isLearner: s.isLearner,
    storageVersion: s.storageVersion,
    dbSizeQuota: s.dbSizeQuota,
    downgradeInfo: since36
      ? { enabled: s.downgradeInfo.enabled, targetVersion: s.downgradeInfo.targetVersion }
      : undefined,
  };
}

/**
 * `etcd-connect endpoint status`: each member's version, database size, leadership and raft
 * position (`-w table` for a table).
 *
 * @example
 * // etcd-connect endpoint status --cluster -w table
 */
export const endpointStatusCommand: Command = {
  path: "endpoint status",
  usage: "",
  summary: "Prints out the status of endpoints specified in `--endpoints` flag",
  flags: clusterFlag,
  async run(ctx) {
    const endpoints = await targetEndpoints(ctx);
    const results = await Promise.all(
      endpoints.map(async (endpoint) => {
        try {
          const etcd = await ctx.etcdAt(endpoint);
          return { endpoint, status: await etcd.maintenance.status({ signal: ctx.signal }) };
        } catch (error) {
          ctx.out.note(`Failed to get the status of endpoint ${endpoint} (${message(error)})\n`);
          return { endpoint, status: undefined };
        }
      }),
    );
    const ok = results.flatMap((r) =>
      r.status ? [{ endpoint: r.endpoint, status: r.status }] : [],
    );
    if (ctx.out.format === "json") {
      ctx.out.json(
        ok.map(({ endpoint, status: s }) => ({
          Endpoint: kept(endpoint),
          Status: statusJson(s),
        })),
      );
    } else if (ctx.out.format === "table") {
      ctx.out.table(
        STATUS_HEADERS,
        ok.map((r) => statusRow(r.endpoint, r.status)),
      );
    } else {
      for (const r of ok) ctx.out.line(statusRow(r.endpoint, r.status).join(", "));
    }
    if (ok.length < results.length) {
      throw new CliError("some endpoints did not answer", ExitCode.Error);
    }
  },
};

interface Health {
  endpoint: string;
  health: boolean;
  took: string;
  error: string;
}

/**
 * `etcd-connect endpoint health`: commits a read through each member (as etcdctl does: a
 * linearizable get of the key "health"; permission denied still proves a healthy member) and
 * checks for alarms.
 *
 * @example
 * // etcd-connect endpoint health -w table
 */
export const endpointHealthCommand: Command = {
  path: "endpoint health",
  usage: "",
  summary: "Checks the healthiness of endpoints specified in `--endpoints` flag",
  flags: clusterFlag,
  async run(ctx) {
    const endpoints = await targetEndpoints(ctx);
    const results = await Promise.all(endpoints.map((e) => checkHealth(ctx, e)));
    if (ctx.out.format === "json") {
      ctx.out.json(
        results.map((h) => ({
          endpoint: kept(h.endpoint),
          health: kept(h.health),
          took: kept(h.took),
          error: h.error,
        })),
      );
    } else if (ctx.out.format === "table") {
      ctx.out.table(
        ["Endpoint", "Health", "Took", "Error"],
        results.map((h) => [h.endpoint, String(h.health), h.took, h.error]),
      );
    } else {
      for (const h of results) {
        if (h.health) {
          ctx.out.line(
            `${h.endpoint} is healthy: successfully committed proposal: took = ${h.took}`,
          );
        } else {
          ctx.out.note(`${h.endpoint} is unhealthy: failed to commit proposal: ${h.error}\n`);
        }
      }
    }
    if (results.some((h) => !h.health)) throw new CliError("unhealthy cluster", ExitCode.Error);
  },
};

async function checkHealth(ctx: CommandContext, endpoint: string): Promise<Health> {
  const started = process.hrtime.bigint();
  let took = "0s";
  try {
    const etcd = await ctx.etcdAt(endpoint);
    try {
      await etcd.get("health", { signal: ctx.signal });
    } catch (error) {
      if (!(error instanceof PermissionDeniedError)) throw error;
    }
    took = goDuration(process.hrtime.bigint() - started);
    const { alarms } = await etcd.maintenance.alarmList({ signal: ctx.signal }).catch((error) => {
      if (error instanceof PermissionDeniedError) return { alarms: [] };
      throw error;
    });
    if (alarms.length > 0) {
      const kinds = alarms.map((a) => a.alarm.toUpperCase()).join(", ");
      return { endpoint, health: false, took, error: `Active Alarm(s): ${kinds}` };
    }
    return { endpoint, health: true, took, error: "" };
  } catch (error) {
    took = goDuration(process.hrtime.bigint() - started);
    return { endpoint, health: false, took, error: message(error) };
  }
}

function message(error: unknown): string {
  return error instanceof Error
    ? ("rawMessage" in error ? String(error.rawMessage) : "") || error.message
    : String(error);
}

/**
 * `etcd-connect endpoint hashkv`: each member's hash of its key-value history up to `--rev`
 * (default: all of it). Members that agree on the data give the same hash at the same revision.
 *
 * @example
 * // etcd-connect endpoint hashkv --cluster --rev 1000
 */
export const endpointHashKvCommand: Command = {
  path: "endpoint hashkv",
  usage: "",
  summary: "Prints the KV history hash for each endpoint in --endpoints",
  flags: {
    ...clusterFlag,
    rev: { type: "string", description: "highest revision to hash (default: all revisions)" },
  },
  async run(ctx) {
    const revision = ctx.flags.int("rev") ?? 0n;
    const endpoints = await targetEndpoints(ctx);
    const results = await Promise.all(
      endpoints.map(async (endpoint) => {
        try {
          const etcd = await ctx.etcdAt(endpoint);
          return {
            endpoint,
            hash: await etcd.maintenance.hashKV({ revision, signal: ctx.signal }),
          };
        } catch (error) {
          ctx.out.note(`Failed to get the hash of endpoint ${endpoint} (${message(error)})\n`);
          return { endpoint, hash: undefined };
        }
      }),
    );
    const ok = results.flatMap((r) => (r.hash ? [{ endpoint: r.endpoint, hash: r.hash }] : []));
    if (ctx.out.format === "json") {
      ctx.out.json(
        ok.map(({ endpoint, hash }) => ({
          Endpoint: kept(endpoint),
          HashKV: {
            header: headerJson(hash.header),
            hash: hash.hash,
            compact_revision: hash.compactRevision,
            hash_revision: hash.hashRevision,
          },
        })),
      );
    } else if (ctx.out.format === "table") {
      ctx.out.table(
        ["Endpoint", "Hash", "Hash Revision"],
        ok.map((r) => hashRow(r.endpoint, r.hash)),
      );
    } else {
      for (const r of ok) ctx.out.line(hashRow(r.endpoint, r.hash).join(", "));
    }
    if (ok.length < results.length) {
      throw new CliError("some endpoints did not answer", ExitCode.Error);
    }
  },
};

/** A hashkv row: etcdctl 3.7 prints the hash revision too (0 from members before 3.6). */
function hashRow(endpoint: string, hash: HashKVResult): string[] {
  return [endpoint, String(hash.hash), String(hash.hashRevision)];
}

/** The endpoint commands. @example commands.push(...endpointCommands) */
export const endpointCommands: readonly Command[] = [
  endpointStatusCommand,
  endpointHealthCommand,
  endpointHashKvCommand,
];
