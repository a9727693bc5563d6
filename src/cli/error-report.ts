import { EtcdError, NoEndpointsError, TlsError, UnavailableError } from "../index.ts";
import { CliError } from "./cli-error.ts";
import { ExitCode } from "./exit-codes.ts";

/**
 * What the command prints for a failure (one line, never a stack) and the exit code it returns.
 * etcd errors show the error class, the gRPC code and etcd's own message.
 *
 * @example
 * const { line, exitCode } = reportError(error);
 * process.stderr.write(`${line}\n`);
 */
export function reportError(
  error: unknown,
  interrupted = false,
): { line: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { line: oneLine(error.message), exitCode: error.exitCode };
  if (error instanceof EtcdError) {
    const line = oneLine(`${error.name} (${error.codeName}): ${error.rawMessage}`);
    if (interrupted) return { line, exitCode: ExitCode.Interrupted };
    const connection =
      error instanceof NoEndpointsError ||
      error instanceof UnavailableError ||
      error instanceof TlsError;
    return { line, exitCode: connection ? ExitCode.BadConnection : ExitCode.Error };
  }
  if (isParseArgsError(error)) {
    // Node's advice about "--" fits scripts, not a command line: keep the first sentence.
    const message = error.message.replace(/\. To specify a positional argument.*$/s, "");
    return { line: oneLine(message), exitCode: ExitCode.BadArgs };
  }
  if (isSystemError(error)) {
    return { line: oneLine(error.message), exitCode: ExitCode.IO };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: oneLine(message), exitCode: interrupted ? ExitCode.Interrupted : ExitCode.Error };
}

function oneLine(message: string): string {
  return `Error: ${message.replace(/\s*\n\s*/g, " ").trim()}`;
}

function isParseArgsError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

function isSystemError(error: unknown): error is Error & { code: string } {
  const e = error as { code?: unknown; syscall?: unknown } | null;
  return error instanceof Error && typeof e?.code === "string" && typeof e.syscall === "string";
}
