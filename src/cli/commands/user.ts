import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import type { CommandContext } from "../context.ts";
import { printRole } from "../role-format.ts";

function userArg(ctx: CommandContext, command: string): string {
  ctx.expectArgs(1, 1, `user ${command} command requires user name as its argument`);
  return ctx.args[0] ?? "";
}

/**
 * `etcd-connect user add <name[:password]>`: the password from the argument,
 * `--new-user-password`, a prompt on a terminal, or the first line of stdin; `--no-password`
 * for a user that logs in with its TLS certificate only.
 *
 * @example
 * // etcd-connect user add root:secret
 */
export const userAddCommand: Command = {
  path: "user add",
  usage: "<user name or user:password>",
  summary: "Adds a new user",
  flags: {
    "new-user-password": { type: "string", description: "the new user's password" },
    "no-password": { type: "boolean", description: "a user without password (TLS CN login)" },
  },
  async run(ctx) {
    const arg = userArg(ctx, "add");
    const colon = arg.indexOf(":");
    const name = colon < 0 ? arg : arg.slice(0, colon);
    const inline = colon < 0 ? undefined : arg.slice(colon + 1);
    const flagged = ctx.flags.string("new-user-password");
    const noPassword = ctx.flags.bool("no-password");
    if ([inline, flagged].filter((p) => p !== undefined).length + (noPassword ? 1 : 0) > 1) {
      throw usageError(
        "give the password once: name:password, --new-user-password or --no-password",
      );
    }
    const etcd = await ctx.etcd();
    const password = noPassword
      ? { noPassword: true as const }
      : (inline ?? flagged ?? (await ctx.password(name)));
    await etcd.auth.userAdd(name, password, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line(`User ${name} created`);
  },
};

/** `etcd-connect user delete <name>`. @example // etcd-connect user delete app */
export const userDeleteCommand: Command = {
  path: "user delete",
  usage: "<user name>",
  summary: "Deletes a user",
  async run(ctx) {
    const name = userArg(ctx, "delete");
    const etcd = await ctx.etcd();
    await etcd.auth.userDelete(name, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line(`User ${name} deleted`);
  },
};

/** `etcd-connect user get <name> [--detail]`. @example // etcd-connect user get app --detail */
export const userGetCommand: Command = {
  path: "user get",
  usage: "<user name>",
  summary: "Gets detailed information of a user",
  flags: { detail: { type: "boolean", description: "also show each role's permissions" } },
  async run(ctx) {
    const name = userArg(ctx, "get");
    const etcd = await ctx.etcd();
    const user = await etcd.auth.userGet(name, { signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({ roles: user.roles });
      return;
    }
    ctx.out.line(`User: ${user.name}`);
    if (!ctx.flags.bool("detail")) {
      ctx.out.line(`Roles:${user.roles.map((r) => ` ${r}`).join("")}`);
      return;
    }
    for (const roleName of user.roles) {
      ctx.out.line();
      printRole(ctx.out, await etcd.auth.roleGet(roleName, { signal: ctx.signal }));
    }
  },
};

/** `etcd-connect user list`. @example // etcd-connect user list */
export const userListCommand: Command = {
  path: "user list",
  usage: "",
  summary: "Lists all users",
  async run(ctx) {
    ctx.expectArgs(0, 0, "user list command requires no arguments");
    const etcd = await ctx.etcd();
    const { users } = await etcd.auth.userList({ signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({ users });
    else for (const user of users) ctx.out.line(user);
  },
};

/** `etcd-connect user passwd <name>`: the new password prompted for or read from stdin. @example // etcd-connect user passwd app < new-password.txt */
export const userPasswdCommand: Command = {
  path: "user passwd",
  usage: "<user name>",
  summary: "Changes password of user",
  async run(ctx) {
    const name = userArg(ctx, "passwd");
    const etcd = await ctx.etcd();
    const password = await ctx.password(name);
    await etcd.auth.userChangePassword(name, password, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line("Password updated");
  },
};

/** `etcd-connect user grant-role <user> <role>`. @example // etcd-connect user grant-role app reader */
export const userGrantRoleCommand: Command = {
  path: "user grant-role",
  usage: "<user name> <role name>",
  summary: "Grants a role to a user",
  async run(ctx) {
    ctx.expectArgs(2, 2, "user grant command requires user name and role name as its argument");
    const [user = "", role = ""] = ctx.args;
    const etcd = await ctx.etcd();
    await etcd.auth.userGrantRole(user, role, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line(`Role ${role} is granted to user ${user}`);
  },
};

/** `etcd-connect user revoke-role <user> <role>`. @example // etcd-connect user revoke-role app reader */
export const userRevokeRoleCommand: Command = {
  path: "user revoke-role",
  usage: "<user name> <role name>",
  summary: "Revokes a role from a user",
  async run(ctx) {
    ctx.expectArgs(2, 2, "user revoke-role requires user name and role name as its argument");
    const [user = "", role = ""] = ctx.args;
    const etcd = await ctx.etcd();
    await etcd.auth.userRevokeRole(user, role, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line(`Role ${role} is revoked from user ${user}`);
  },
};

/** The user commands. @example commands.push(...userCommands) */
export const userCommands: readonly Command[] = [
  userAddCommand,
  userDeleteCommand,
  userGetCommand,
  userListCommand,
  userPasswdCommand,
  userGrantRoleCommand,
  userRevokeRoleCommand,
];
