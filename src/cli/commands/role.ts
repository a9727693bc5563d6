import type { PermissionType } from "../../index.ts";
import { KeyRange, key } from "../../index.ts";
import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import type { CommandContext } from "../context.ts";
import { keyTarget } from "../key-target.ts";
import { printRole, roleJson } from "../role-format.ts";

const rangeFlags = {
  prefix: { type: "boolean", description: "the permission covers every key with this prefix" },
  "from-key": { type: "boolean", description: "the permission covers every key >= the key" },
} as const;

function roleArg(ctx: CommandContext, command: string): string {
  ctx.expectArgs(1, 1, `role ${command} command requires role name as its argument`);
  return ctx.args[0] ?? "";
}

/** `etcd-connect role add <name>`. @example // etcd-connect role add reader */
export const roleAddCommand: Command = {
  path: "role add",
  usage: "<role name>",
  summary: "Adds a new role",
  async run(ctx) {
    const name = roleArg(ctx, "add");
    const etcd = await ctx.etcd();
    await etcd.auth.roleAdd(name, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line(`Role ${name} created`);
  },
};

/** `etcd-connect role delete <name>`. @example // etcd-connect role delete reader */
export const roleDeleteCommand: Command = {
  path: "role delete",
  usage: "<role name>",
  summary: "Deletes a role",
  async run(ctx) {
    const name = roleArg(ctx, "delete");
    const etcd = await ctx.etcd();
    await etcd.auth.roleDelete(name, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line(`Role ${name} deleted`);
  },
};

/** `etcd-connect role get <name>`: its read and write key ranges. @example // etcd-connect role get reader */
export const roleGetCommand: Command = {
  path: "role get",
  usage: "<role name>",
  summary: "Gets detailed information of a role",
  async run(ctx) {
    const name = roleArg(ctx, "get");
    const etcd = await ctx.etcd();
    const role = await etcd.auth.roleGet(name, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json(roleJson(role));
    else printRole(ctx.out, role);
  },
};

/** `etcd-connect role list`. @example // etcd-connect role list */
export const roleListCommand: Command = {
  path: "role list",
  usage: "",
  summary: "Lists all roles",
  async run(ctx) {
    ctx.expectArgs(0, 0, "role list command requires no arguments");
    const etcd = await ctx.etcd();
    const { roles } = await etcd.auth.roleList({ signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({ roles });
    else for (const role of roles) ctx.out.line(role);
  },
};

/**
 * `etcd-connect role grant-permission <role> <read|write|readwrite> <key> [range_end]`.
 *
 * @example
 * // etcd-connect role grant-permission reader read --prefix app/
 */
export const roleGrantPermissionCommand: Command = {
  path: "role grant-permission",
  usage: "<role name> <permission type> <key> [endkey]",
  summary: "Grants a key (or range) to a role",
  flags: rangeFlags,
  async run(ctx) {
    if (ctx.args.length < 3 || ctx.args.length > 4) {
      throw usageError(
        "role grant command requires role name, permission type, and key [endkey] as its argument",
      );
    }
    const [role = "", type = ""] = ctx.args;
    const permission = type.toLowerCase();
    if (permission !== "read" && permission !== "write" && permission !== "readwrite") {
      throw usageError(`invalid permission type ${type}`);
    }
    const target = keyTarget("role grant-permission", ctx.args.slice(2), {
      prefix: ctx.flags.bool("prefix"),
      fromKey: ctx.flags.bool("from-key"),
    });
    const etcd = await ctx.etcd();
    await etcd.auth.roleGrantPermission(role, target, permission as PermissionType, {
      signal: ctx.signal,
    });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line(`Role ${role} updated`);
  },
};

/**
 * `etcd-connect role revoke-permission <role> <key> [range_end]`.
 *
 * @example
 * // etcd-connect role revoke-permission reader --prefix app/
 */
export const roleRevokePermissionCommand: Command = {
  path: "role revoke-permission",
  usage: "<role name> <key> [endkey]",
  summary: "Revokes a key (or range) from a role",
  flags: rangeFlags,
  async run(ctx) {
    if (ctx.args.length < 2 || ctx.args.length > 3) {
      throw usageError(
        "role revoke-permission command requires role name and key [endkey] as its argument",
      );
    }
    const role = ctx.args[0] ?? "";
    const target = keyTarget("role revoke-permission", ctx.args.slice(1), {
      prefix: ctx.flags.bool("prefix"),
      fromKey: ctx.flags.bool("from-key"),
    });
    const etcd = await ctx.etcd();
    await etcd.auth.roleRevokePermission(role, target, { signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({});
      return;
    }
    const range = target instanceof KeyRange ? target : key(target);
    const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");
    if (range.isSingleKey) {
      ctx.out.line(`Permission of key ${text(range.key)} is revoked from role ${role}`);
    } else {
      ctx.out.line(
        `Permission of range [${text(range.key)}, ${text(range.rangeEnd)}) is revoked from role ${role}`,
      );
    }
  },
};

/** The role commands. @example commands.push(...roleCommands) */
export const roleCommands: readonly Command[] = [
  roleAddCommand,
  roleDeleteCommand,
  roleGetCommand,
  roleListCommand,
  roleGrantPermissionCommand,
  roleRevokePermissionCommand,
];
