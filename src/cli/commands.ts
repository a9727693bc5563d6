import type { Command } from "./command.ts";
import { alarmCommands } from "./commands/alarm.ts";
import { authCommands } from "./commands/auth.ts";
import { compactionCommand } from "./commands/compaction.ts";
import { defragCommand } from "./commands/defrag.ts";
import { delCommand } from "./commands/del.ts";
import { downgradeCommands } from "./commands/downgrade.ts";
import { electCommand } from "./commands/elect.ts";
import { endpointCommands } from "./commands/endpoint.ts";
import { getCommand } from "./commands/get.ts";
import { leaseCommands } from "./commands/lease.ts";
import { lockCommand } from "./commands/lock.ts";
import { memberCommands } from "./commands/member.ts";
import { moveLeaderCommand } from "./commands/move-leader.ts";
import { putCommand } from "./commands/put.ts";
import { roleCommands } from "./commands/role.ts";
import { snapshotSaveCommand, snapshotStatusCommand } from "./commands/snapshot.ts";
import { txnCommand } from "./commands/txn.ts";
import { userCommands } from "./commands/user.ts";
import { watchCommand } from "./commands/watch.ts";

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
  watchCommand,
  compactionCommand,
  ...leaseCommands,
  lockCommand,
  electCommand,
  ...memberCommands,
  ...endpointCommands,
  moveLeaderCommand,
  ...alarmCommands,
  snapshotSaveCommand,
  snapshotStatusCommand,
  defragCommand,
  ...downgradeCommands,
  ...authCommands,
  ...userCommands,
  ...roleCommands,
];
