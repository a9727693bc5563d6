import type { Command } from "../command.ts";

/** `etcd-connect auth enable` (needs user root with role root). @example // etcd-connect auth enable */
export const authEnableCommand: Command = {
  path: "auth enable",
  usage: "",
  summary: "Enables authentication",
  async run(ctx) {
    ctx.expectArgs(0, 0, "auth enable command does not accept any arguments");
    const etcd = await ctx.etcd();
    await etcd.auth.enable({ signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line("Authentication Enabled");
  },
};

/** `etcd-connect auth disable` (as root). @example // etcd-connect --user root:secret auth disable */
export const authDisableCommand: Command = {
  path: "auth disable",
  usage: "",
  summary: "Disables authentication",
  async run(ctx) {
    ctx.expectArgs(0, 0, "auth disable command does not accept any arguments");
    const etcd = await ctx.etcd();
    await etcd.auth.disable({ signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json({});
    else ctx.out.line("Authentication Disabled");
  },
};

/** `etcd-connect auth status` (etcd 3.5+). @example // etcd-connect auth status */
export const authStatusCommand: Command = {
  path: "auth status",
  usage: "",
  summary: "Returns authentication status (etcd 3.5+)",
  async run(ctx) {
    ctx.expectArgs(0, 0, "auth status command does not accept any arguments");
    const etcd = await ctx.etcd();
    const status = await etcd.auth.status({ signal: ctx.signal });
    if (ctx.out.format === "json") {
      ctx.out.json({ enabled: status.enabled, authRevision: status.authRevision });
    } else {
      ctx.out.line(`Authentication Status: ${status.enabled}`);
      ctx.out.line(`AuthRevision: ${status.authRevision}`);
    }
  },
};

/** The auth commands. @example commands.push(...authCommands) */
export const authCommands: readonly Command[] = [
  authEnableCommand,
  authDisableCommand,
  authStatusCommand,
];
