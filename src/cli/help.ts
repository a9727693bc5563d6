import type { Command, FlagSpec } from "./command.ts";
import { globalFlags } from "./global-flags.ts";

/**
 * The text of `etcd-connect --help`: every command and the global flags.
 *
 * @example
 * out.line(generalHelp(commands));
 */
export function generalHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.length));
  return [
    "etcd-connect: a command-line client for etcd v3 (etcdctl's commands and output formats)",
    "",
    "Usage: etcd-connect [global flags] <command> [flags] [arguments]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.path.padEnd(width)}  ${c.summary}`),
    "",
    "Global flags:",
    flagLines(globalFlags),
    "",
    "Environment: ETCD_ENDPOINTS (default endpoints).",
    "Exit codes: 0 ok, 1 error, 2 no connection, 3 bad input, 4 output format not supported,",
    "5 interrupted, 6 file error, 128 bad arguments.",
    "Run 'etcd-connect <command> --help' for a command's flags.",
  ].join("\n");
}

/**
 * The text of `etcd-connect <command> --help`.
 *
 * @example
 * out.line(commandHelp(getCommand));
 */
export function commandHelp(command: Command): string {
  return [
    `${command.summary}`,
    "",
    `Usage: etcd-connect ${command.path} [flags]${command.usage ? ` ${command.usage}` : ""}`,
    ...(command.flags && Object.keys(command.flags).length > 0
      ? ["", "Flags:", flagLines(command.flags)]
      : []),
    "",
    "Global flags:",
    flagLines(globalFlags),
  ].join("\n");
}

function flagLines(flags: Record<string, FlagSpec>): string {
  const entries = Object.entries(flags).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? " <value>" : "";
    return [`  ${short}--${name}${value}`, spec.description] as const;
  });
  const width = Math.max(...entries.map(([left]) => left.length));
  return entries.map(([left, text]) => `${left.padEnd(width)}  ${text}`).join("\n");
}
