import { setTimeout } from "node:timers/promises";
import { LeaseNotFoundError } from "../../index.ts";
import type { Command } from "../command.ts";
import type { CommandContext } from "../context.ts";
import { parseInteger } from "../flags.ts";
import { kept } from "../go-json.ts";
import { leaseHex, parseHexId } from "../ids.ts";
import { headerFields, headerJson } from "../kv-format.ts";

function leaseArg(ctx: CommandContext, command: string): bigint {
  ctx.expectArgs(1, 1, `lease ${command} command needs 1 argument`);
  return parseHexId(ctx.args[0] ?? "", "lease ID");
}

/** `etcd-connect lease grant <ttl>`. @example // etcd-connect lease grant 60 */
export const leaseGrantCommand: Command = {
  path: "lease grant",
  usage: "<ttl in seconds>",
  summary: "Creates leases",
  async run(ctx) {
    ctx.expectArgs(1, 1, "lease grant command needs TTL argument");
    const ttl = parseInteger(ctx.args[0] ?? "", "TTL");
    const etcd = await ctx.etcd();
    const lease = await etcd.lease.grant(ttl, { signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({ ID: lease.id, TTL: lease.grantedTtl, Error: kept("") });
    } else {
      ctx.out.line(`lease ${leaseHex(lease.id)} granted with TTL(${lease.grantedTtl}s)`);
    }
  },
};

/** `etcd-connect lease revoke <id>`: its keys are deleted. @example // etcd-connect lease revoke 694d7b0b3c5ba20a */
export const leaseRevokeCommand: Command = {
  path: "lease revoke",
  usage: "<lease ID>",
  summary: "Revokes leases (their keys are deleted)",
  async run(ctx) {
    const id = leaseArg(ctx, "revoke");
    const etcd = await ctx.etcd();
    const { header } = await etcd.lease.revoke(id, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({ header: headerJson(header) });
    else ctx.out.line(`lease ${leaseHex(id)} revoked`);
  },
};

/** `etcd-connect lease timetolive <id> [--keys]`. @example // etcd-connect lease timetolive 694d7b0b3c5ba20a --keys */
export const leaseTimeToLiveCommand: Command = {
  path: "lease timetolive",
  usage: "<lease ID>",
  summary: "Get lease information",
  flags: { keys: { type: "boolean", description: "also list the keys attached to the lease" } },
  async run(ctx) {
    const id = leaseArg(ctx, "timetolive");
    const withKeys = ctx.flags.bool("keys");
    const etcd = await ctx.etcd();
    const info = await etcd.lease.timeToLive(id, { keys: withKeys, signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({
        ...headerFields(info.header),
        id: kept(info.id),
        ttl: kept(info.ttl),
        "granted-ttl": kept(info.grantedTtl),
        keys: kept(info.keys.length > 0 ? info.keys : null),
      });
      return;
    }
    if (info.ttl === -1n) {
      ctx.out.line(`lease ${leaseHex(id)} already expired`);
      return;
    }
    let text = `lease ${leaseHex(id)} granted with TTL(${info.grantedTtl}s), remaining(${info.ttl}s)`;
    if (withKeys) {
      const names = info.keys.map((k) => Buffer.from(k).toString("utf8")).join(" ");
      text += `, attached keys([${names}])`;
    }
    ctx.out.line(text);
  },
};

/** `etcd-connect lease list`. @example // etcd-connect lease list */
export const leaseListCommand: Command = {
  path: "lease list",
  usage: "",
  summary: "List all active leases",
  async run(ctx) {
    ctx.expectArgs(0, 0, "lease list command takes no arguments");
    const etcd = await ctx.etcd();
    const { leases: ids } = await etcd.lease.list({ signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({ leases: ids.map((id) => ({ id })) });
      return;
    }
    ctx.out.line(`found ${ids.length} leases`);
    for (const id of ids) ctx.out.line(leaseHex(id));
  },
};

/**
 * `etcd-connect lease keep-alive <id>`: renews the lease until Ctrl-C (or once with `--once`),
 * printing each renewal; ends when the lease expires or is revoked.
 *
 * @example
 * // etcd-connect lease keep-alive 694d7b0b3c5ba20a
 */
export const leaseKeepAliveCommand: Command = {
  path: "lease keep-alive",
  usage: "<lease ID>",
  summary: "Keeps leases alive (renew) until interrupted",
  flags: { once: { type: "boolean", description: "renew once, then exit" } },
  async run(ctx) {
    const id = leaseArg(ctx, "keep-alive");
    const once = ctx.flags.bool("once");
    const etcd = await ctx.etcd();
    while (!ctx.signal.aborted) {
      let renewal: Awaited<ReturnType<typeof etcd.lease.keepAliveOnce>>;
      try {
        renewal = await etcd.lease.keepAliveOnce(id, { signal: ctx.signal });
      } catch (error) {
        if (ctx.signal.aborted) return;
        if (error instanceof LeaseNotFoundError && !once) {
          if (ctx.out.format !== "json") ctx.out.line(`lease ${leaseHex(id)} expired or revoked.`);
          return;
        }
        throw error;
      }
      if (ctx.out.format === "json") {
        ctx.out.json({ ...headerFields(renewal.header), ID: renewal.id, TTL: renewal.ttl });
      } else {
        ctx.out.line(`lease ${leaseHex(id)} keepalived with TTL(${renewal.ttl})`);
      }
      if (once) return;
      // Renew at a third of the TTL, as the library's keep-alive does.
      // Ctrl-C ends the wait; the loop then sees the signal and stops.
      await setTimeout(Math.max(500, (Number(renewal.ttl) * 1000) / 3), undefined, {
        signal: ctx.signal,
      }).catch(() => {});
    }
  },
};

/** The lease commands. @example commands.push(...leaseCommands) */
export const leaseCommands: readonly Command[] = [
  leaseGrantCommand,
  leaseRevokeCommand,
  leaseTimeToLiveCommand,
  leaseListCommand,
  leaseKeepAliveCommand,
];
