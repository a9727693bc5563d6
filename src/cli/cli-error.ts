import { ExitCode } from "./exit-codes.ts";

/**
 * An error the command reports as one line and an exit code: bad arguments, unreadable input,
 * a failed local file operation.
 *
 * @example
 * throw new CliError("get needs a key", ExitCode.BadArgs);
 */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode = ExitCode.Error) {
    super(message);
    this.exitCode = exitCode;
  }
}

/**
 * A usage error: wrong number of arguments or a bad flag value (exit code 128, like etcdctl).
 *
 * @example
 * throw usageError("put needs a key and a value");
 */
export function usageError(message: string): CliError {
  return new CliError(message, ExitCode.BadArgs);
}
