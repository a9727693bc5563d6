import type { Compare, Op } from "../../index.ts";
import type { Command } from "../command.ts";
import { printTxn, txnJson } from "../kv-format.ts";
import { lines } from "../lines.ts";
import { parseCompare, parseOp } from "../txn-input.ts";

const PROMPTS = [
  "compares:",
  "success requests (get, put, del):",
  "failure requests (get, put, del):",
];

/**
 * `etcd-connect txn`: one transaction read from stdin in etcdctl's format: compare lines, an
 * empty line, success requests, an empty line, failure requests, an empty line.
 *
 * @example
 * // printf 'value("k") = "a"\n\nput k b\n\nget k\n\n' | etcd-connect txn
 */
export const txnCommand: Command = {
  path: "txn",
  usage: "< input",
  summary: "Txn processes all the requests in one transaction (read from stdin)",
  flags: {
    interactive: { type: "boolean", short: "i", description: "prompt for each part" },
  },
  async run(ctx) {
    ctx.expectArgs(0, 0, "txn command does not accept argument");
    const interactive = ctx.flags.bool("interactive");
    const compares: Compare[] = [];
    const success: Op[] = [];
    const failure: Op[] = [];
    let section = 0;
    if (interactive) ctx.out.line(PROMPTS[0]);
    for await (const line of lines(ctx.stdin)) {
      if (line.trim() === "") {
        section++;
        if (section > 2) break;
        if (interactive) ctx.out.line(`\n${PROMPTS[section]}`);
        continue;
      }
      if (section === 0) compares.push(parseCompare(line));
      else if (section === 1) success.push(parseOp(line));
      else failure.push(parseOp(line));
    }
    if (interactive) ctx.out.line();
    const etcd = await ctx.etcd();
    const result = await etcd.txn({ compare: compares, success, failure }, { signal: ctx.signal });
    if (ctx.out.format === "json") ctx.out.json(txnJson(result));
    else printTxn(ctx.out, result);
  },
};
