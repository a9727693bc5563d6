import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { usageError } from "./cli-error.ts";
import type { Command } from "./command.ts";
import { commands } from "./commands.ts";
import {
  type ConnectFlags,
  connectOptions,
  endpointList,
  gatewayAddress,
  timeouts,
} from "./connect-options.ts";
import { CommandContext } from "./context.ts";
import { debugLogger } from "./debug-log.ts";
import { reportError } from "./error-report.ts";
import { ExitCode } from "./exit-codes.ts";
import { Flags, type FlagValues } from "./flags.ts";
import { globalFlags } from "./global-flags.ts";
import { commandHelp, generalHelp } from "./help.ts";
import { Output, type OutputFormat, type Sink } from "./output.ts";

/** The process around one run of the command, so tests can run it in-process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Sink;
  stderr: Sink;
  stdin: AsyncIterable<Uint8Array | string>;
  /** Fires on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
  /** True when stdin is a terminal (passwords are then prompted for, else read from stdin). */
  stdinIsTTY: boolean;
  /** Asks for the password of `user` on the terminal. */
  askPassword(user: string): Promise<string>;
}

const FORMATS: readonly OutputFormat[] = ["simple", "json", "table"];
const VALUE_FLAGS = new Set(
  Object.entries(globalFlags).flatMap(([name, spec]) =>
    spec.type === "string"
      ? [`--${name}`, ...("short" in spec && spec.short ? [`-${spec.short}`] : [])]
      : [],
  ),
);

/**
 * Runs `etcd-connect` with these arguments and returns the exit code. Errors are printed as one
 * line on stderr, never as a stack.
 *
 * @example
 * process.exitCode = await run(process.argv.slice(2), processIo());
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const out = new Output("simple", io.stdout, io.stderr);
  let context: CommandContext | undefined;
  try {
    const { command, rest } = findCommand(argv);
    if (!command) {
      const { values } = parseArgs({ args: rest, options: globalFlags, allowPositionals: true });
      out.line(generalHelp(commands));
      return values.help || rest.length === 0 ? ExitCode.Success : ExitCode.BadArgs;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...globalFlags, ...command.flags } as ParseArgsOptionsConfig,
      allowPositionals: true,
      strict: true,
    });
    const flags = values as FlagValues;
    if (flags.help === true) {
      out.line(commandHelp(command));
      return ExitCode.Success;
    }
    const format = (flags["write-out"] ?? "simple") as OutputFormat;
    if (!FORMATS.includes(format)) {
      throw usageError(`--write-out must be one of ${FORMATS.join(", ")}, got "${format}"`);
    }
    const connectFlags = flags as ConnectFlags;
    const endpoints = endpointList(connectFlags, io.env);
    // --debug shows what the client does, so its reads go through the client.
    const address = flags.debug === true ? undefined : gatewayAddress(connectFlags, io.env);
    context = new CommandContext({
      args: positionals,
      flags: new Flags(flags),
      out: new Output(format, io.stdout, io.stderr, flags.hex === true),
      signal: io.signal,
      stdin: io.stdin,
      endpoints,
      askPassword: io.stdinIsTTY ? io.askPassword : undefined,
      gateway: address && { address, timeouts: () => timeouts(connectFlags) },
      connect: async (endpoint, spentMs) => {
        const options = await connectOptions(
          endpoint === undefined ? connectFlags : { ...connectFlags, endpoints: endpoint },
          io.env,
          (user) => context?.password(user) ?? io.askPassword(user),
        );
        // What a read over the gateway took counts against the command's timeouts.
        if (spentMs > 0 && options.timeoutMs !== undefined) {
          options.timeoutMs = Math.max(1, Math.round(options.timeoutMs - spentMs));
          options.dialTimeoutMs = Math.min(
            options.dialTimeoutMs ?? options.timeoutMs,
            options.timeoutMs,
          );
        }
        // Loaded here, not up front: help and argument errors then answer without the client
        // (with it, `--help` took 106 ms against 61 ms without; `node -e 0` took 38).
        const { Etcd } = await import("../client/etcd.ts");
        return new Etcd(
          flags.debug === true ? { ...options, logger: debugLogger(io.stderr) } : options,
        );
      },
    });
    await command.run(context);
    return context.exitCode;
  } catch (error) {
    const { line, exitCode } = reportError(error, io.signal.aborted);
    io.stderr.write(`${line}\n`);
    return exitCode;
  } finally {
    await context?.close();
  }
}

/** The command named by the first words that are not flags (or flag values). */
function findCommand(argv: string[]): { command: Command | undefined; rest: string[] } {
  const words: number[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") break;
    if (arg.startsWith("-") && arg !== "-") {
      if (VALUE_FLAGS.has(arg)) i++;
      continue;
    }
    words.push(i);
  }
  const word = (n: number) => (words[n] === undefined ? undefined : argv[words[n]]);
  const two = `${word(0)} ${word(1)}`;
  const byTwo = words.length === 2 ? commands.find((c) => c.path === two) : undefined;
  if (byTwo) return { command: byTwo, rest: without(argv, words) };
  const first = word(0);
  if (first === undefined) return { command: undefined, rest: argv };
  const byOne = commands.find((c) => c.path === first);
  const firstIndex = words[0] ?? 0;
  if (byOne) return { command: byOne, rest: without(argv, [firstIndex]) };
  const group = commands.filter((c) => c.path.startsWith(`${first} `));
  if (group.length > 0 && word(1) === undefined && argv.some((a) => a === "--help" || a === "-h")) {
    return { command: undefined, rest: ["--help"] };
  }
  if (group.length > 0) {
    const names = group.map((c) => c.path.slice(first.length + 1)).join(", ");
    throw usageError(
      word(1) === undefined
        ? `${first} needs a subcommand: ${names}`
        : `unknown subcommand "${first} ${word(1)}"; try one of: ${names}`,
    );
  }
  throw usageError(`unknown command "${first}"; run etcd-connect --help for the list`);
}

function without(argv: string[], indexes: number[]): string[] {
  return argv.filter((_, i) => !indexes.includes(i));
}
