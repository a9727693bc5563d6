import type { Command } from "./command.ts";
import { compactionCommand } from "./commands/compaction.ts";
import { delCommand } from "./commands/del.ts";
import { getCommand } from "./commands/get.ts";
import { putCommand } from "./commands/put.ts";
import { txnCommand } from "./commands/txn.ts";

/**
 * Every command of `etcd-connect`, in the order the help lists them.
 *
 * @example
 * commands.find((c) => c.path === "get");
 */
export const commands: readonly Command[] = [
  getCommand,
  putCommand,
  delCommand,
  txnCommand,
  compactionCommand,
];
