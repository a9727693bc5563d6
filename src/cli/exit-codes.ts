/**
 * Exit codes of the `etcd-connect` command, the same numbers etcdctl uses.
 *
 * @example
 * process.exitCode = ExitCode.BadArgs;
 */
export const ExitCode = {
  /** The command did what was asked. */
  Success: 0,
  /** etcd refused the request, or it failed for another reason. */
  Error: 1,
  /** No endpoint could be reached in time. */
  BadConnection: 2,
  /** The input (stdin, a file) could not be understood. */
  InvalidInput: 3,
  /** The output format asked for is not one this command prints (such as `-w table`). */
  BadFeature: 4,
  /** Interrupted by a signal (Ctrl-C) before the command finished. */
  Interrupted: 5,
  /** Reading or writing a local file failed. */
  IO: 6,
  /** Wrong arguments or flags. */
  BadArgs: 128,
} as const;

/** One of the `ExitCode` values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
