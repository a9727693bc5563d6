import type { CommandContext } from "./context.ts";

/** One flag of a command, for `node:util` parseArgs and for the help text. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  /** The flag may be given several times. */
  multiple?: boolean;
  description: string;
}

/**
 * One subcommand of `etcd-connect`: the words that select it, its flags, and what it does.
 *
 * @example
 * const compaction: Command = {
 *   path: "compaction",
 *   usage: "<revision>",
 *   summary: "Compacts the event history in etcd",
 *   run: async (ctx) => { ... },
 * };
 */
export interface Command {
  /** The words that select it, such as "get" or "lease grant". */
  path: string;
  /** The positional arguments, for the help text. */
  usage: string;
  /** One line for the command list. */
  summary: string;
  flags?: Record<string, FlagSpec>;
  run(ctx: CommandContext): Promise<void>;
}
