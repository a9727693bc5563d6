import type { AlarmKind } from "../../index.ts";
import { usageError } from "../cli-error.ts";
import type { Command } from "../command.ts";
import type { CommandContext } from "../context.ts";
import { headerJson } from "../kv-format.ts";
import { rejectTable } from "../output.ts";

/** An alarm as etcd's API numbers it (1 NOSPACE, 2 CORRUPT). */
interface AlarmEntry {
  memberId: bigint;
  type: number;
}

const ALARM_NAMES = ["NONE", "NOSPACE", "CORRUPT"];
const ALARM_NUMBERS: Record<AlarmKind, number> = { nospace: 1, corrupt: 2, unknown: 0 };

function printAlarms(ctx: CommandContext, alarms: AlarmEntry[]): void {
  // etcdctl prints each alarm as the message's text form (etcdctl 3.4 and 3.5 ended it with a
  // space; 3.7 does not).
  for (const a of alarms) {
    ctx.out.line(`memberID:${a.memberId} alarm:${ALARM_NAMES[a.type] ?? a.type}`);
  }
}

function alarmsJson(alarms: AlarmEntry[]) {
  return alarms.map((a) => ({ memberID: a.memberId, alarm: a.type }));
}

/**
 * `etcd-connect alarm list`: every alarm raised in the cluster, one line each.
 *
 * @example
 * // etcd-connect alarm list
 * // memberID:13668033151171901709 alarm:NOSPACE
 */
export const alarmListCommand: Command = {
  path: "alarm list",
  usage: "",
  summary: "Lists all alarms",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError("alarm list command accepts no arguments");
    rejectTable(ctx.out);
    const etcd = await ctx.etcd();
    const listed = await etcd.maintenance.alarmList({ signal: ctx.signal });
    const alarms = listed.alarms.map((a) => ({
      memberId: a.memberId,
      type: ALARM_NUMBERS[a.alarm],
    }));
    if (ctx.out.format === "json") {
      // etcd 3.4 sends no header when there is no alarm (it reads as zeros); etcdctl then
      // prints none.
      const header = listed.header.memberId === 0n ? undefined : headerJson(listed.header);
      ctx.out.json({ header, alarms: alarmsJson(alarms) });
    } else printAlarms(ctx, alarms);
  },
};

/**
 * `etcd-connect alarm disarm`: clears every alarm raised (free space first when one is NOSPACE:
 * it comes back while the quota is exceeded) and prints the ones cleared.
 *
 * @example
 * // etcd-connect alarm disarm
 */
export const alarmDisarmCommand: Command = {
  path: "alarm disarm",
  usage: "",
  summary: "Disarms all alarms",
  async run(ctx) {
    if (ctx.args.length > 0) throw usageError("alarm disarm command accepts no arguments");
    rejectTable(ctx.out);
    const etcd = await ctx.etcd();
    const cleared = await etcd.maintenance.alarmDisarm(undefined, { signal: ctx.signal });
    const alarms = cleared.alarms.map((a) => ({
      memberId: a.memberId,
      type: ALARM_NUMBERS[a.alarm],
    }));
    // No header: etcdctl's disarm answer gathers one answer per alarm, without one.
    if (ctx.out.format === "json") ctx.out.json({ alarms: alarmsJson(alarms) });
    else printAlarms(ctx, alarms);
  },
};

/** The alarm commands. @example commands.push(...alarmCommands) */
export const alarmCommands: readonly Command[] = [alarmListCommand, alarmDisarmCommand];
