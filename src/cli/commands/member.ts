import type { Member } from "../../index.ts";
import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import type { GoJsonValue } from "../go-json.ts";
import { memberHex, parseHexId } from "../ids.ts";
import { headerJson } from "../kv-format.ts";
import type { Output } from "../output.ts";

const MEMBER_HEADERS = ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"];

function memberJson(m: Member): GoJsonValue {
  return {
    ID: m.id,
    name: m.name,
    peerURLs: m.peerUrls,
    clientURLs: m.clientUrls,
    isLearner: m.isLearner,
  };
}

function memberRow(m: Member): string[] {
  return [
    memberHex(m.id),
    m.name === "" ? "unstarted" : "started",
    m.name,
    m.peerUrls.join(","),
    m.clientUrls.join(","),
    String(m.isLearner),
  ];
}

/** etcdctl's `%16x`: hex, padded with spaces to 16. */
function paddedHex(id: bigint): string {
  return id.toString(16).padStart(16, " ");
}

function printMembers(out: Output, members: Member[]): void {
  if (out.format === "table") out.table(MEMBER_HEADERS, members.map(memberRow));
  else for (const m of members) out.line(memberRow(m).join(", "));
}

function memberIdArg(args: string[], command: string): bigint {
  if (args.length !== 1) throw usageError(`member ID is not provided`);
  return parseHexId(args[0] ?? "", `member ID for member ${command}`);
}

function peerUrls(text: string | undefined): string[] {
  const urls = (text ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) throw usageError("member peer urls not provided (--peer-urls)");
  return urls;
}

/** `etcd-connect member list`. @example // etcd-connect member list -w table */
export const memberListCommand: Command = {
  path: "member list",
  usage: "",
  summary: "Lists all members in the cluster",
  flags: {
    consistency: {
      type: "string",
      description: "l (linearizable: read through the leader, etcd 3.5+) or s (default)",
    },
  },
  async run(ctx) {
    ctx.expectArgs(0, 0, "member list command takes no arguments");
    const consistency = ctx.flags.string("consistency") ?? "s";
    if (consistency !== "l" && consistency !== "s") {
      throw usageError(`unknown consistency flag "${consistency}"`);
    }
    const etcd = await ctx.etcd();
    const result = await etcd.cluster.memberList({
      linearizable: consistency === "l",
      signal: ctx.signal,
    });
    if (ctx.out.format === "json") {
      ctx.out.json({ header: headerJson(result.header), members: result.members.map(memberJson) });
    } else printMembers(ctx.out, result.members);
  },
};

/**
 * `etcd-connect member add <name> --peer-urls=...`: prints the settings to start the new member
 * with, like etcdctl.
 *
 * @example
 * // etcd-connect member add m4 --peer-urls=http://10.0.0.4:2380 --learner
 */
export const memberAddCommand: Command = {
  path: "member add",
  usage: "<name>",
  summary: "Adds a member into the cluster",
  flags: {
    "peer-urls": { type: "string", description: "comma-separated peer URLs of the new member" },
    learner: { type: "boolean", description: "add as a non-voting learner" },
  },
  async run(ctx) {
    ctx.expectArgs(1, 1, "member name not provided");
    const name = ctx.args[0] ?? "";
    const urls = peerUrls(ctx.flags.string("peer-urls"));
    const etcd = await ctx.etcd();
    const result = await etcd.cluster.memberAdd(urls, {
      isLearner: ctx.flags.bool("learner"),
      signal: ctx.signal,
    });
    if (ctx.out.format === "json") {
      ctx.out.json({
        header: headerJson(result.header),
        member: memberJson(result.member),
        members: result.members.map(memberJson),
      });
      return;
    }
    const as = result.member.isLearner ? " as learner " : " ";
    ctx.out.line(
      `Member ${paddedHex(result.member.id)} added${as}to cluster ${paddedHex(result.header.clusterId)}`,
    );
    const initialCluster = result.members.flatMap((m) =>
      m.peerUrls.map((u) => `${m.id === result.member.id ? name : m.name}=${u}`),
    );
    ctx.out.line();
    ctx.out.line(`ETCD_NAME=${JSON.stringify(name)}`);
    ctx.out.line(`ETCD_INITIAL_CLUSTER=${JSON.stringify(initialCluster.join(","))}`);
    ctx.out.line(`ETCD_INITIAL_ADVERTISE_PEER_URLS=${JSON.stringify(urls.join(","))}`);
    ctx.out.line(`ETCD_INITIAL_CLUSTER_STATE="existing"`);
  },
};

/** `etcd-connect member remove <id>`. @example // etcd-connect member remove 8e9e05c52164694d */
export const memberRemoveCommand: Command = {
  path: "member remove",
  usage: "<member ID>",
  summary: "Removes a member from the cluster",
  async run(ctx) {
    const id = memberIdArg(ctx.args, "remove");
    const etcd = await ctx.etcd();
    const result = await etcd.cluster.memberRemove(id, { signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({ header: headerJson(result.header), members: result.members.map(memberJson) });
    } else {
      ctx.out.line(
        `Member ${paddedHex(id)} removed from cluster ${paddedHex(result.header.clusterId)}`,
      );
    }
  },
};

/** `etcd-connect member promote <id>`: a caught-up learner becomes a voter. @example // etcd-connect member promote 8e9e05c52164694d */
export const memberPromoteCommand: Command = {
  path: "member promote",
  usage: "<member ID>",
  summary: "Promotes a non-voting member in the cluster",
  async run(ctx) {
    const id = memberIdArg(ctx.args, "promote");
    const etcd = await ctx.etcd();
    const result = await etcd.cluster.memberPromote(id, { signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({ header: headerJson(result.header), members: result.members.map(memberJson) });
    } else {
      ctx.out.line(
        `Member ${paddedHex(id)} promoted in cluster ${paddedHex(result.header.clusterId)}`,
      );
    }
  },
};

/** `etcd-connect member update <id> --peer-urls=...`. @example // etcd-connect member update 8e9e05c52164694d --peer-urls=http://10.0.0.5:2380 */
export const memberUpdateCommand: Command = {
  path: "member update",
  usage: "<member ID>",
  summary: "Updates the peer URLs of a member",
  flags: {
    "peer-urls": { type: "string", description: "comma-separated new peer URLs" },
  },
  async run(ctx) {
    const id = memberIdArg(ctx.args, "update");
    const urls = peerUrls(ctx.flags.string("peer-urls"));
    const etcd = await ctx.etcd();
    const result = await etcd.cluster.memberUpdate(id, urls, { signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({ header: headerJson(result.header), members: result.members.map(memberJson) });
    } else {
      ctx.out.line(
        `Member ${paddedHex(id)} updated in cluster ${paddedHex(result.header.clusterId)}`,
      );
    }
  },
};

/** The member commands. @example commands.push(...memberCommands) */
export const memberCommands: readonly Command[] = [
  memberListCommand,
  memberAddCommand,
  memberRemoveCommand,
  memberPromoteCommand,
  memberUpdateCommand,
];
