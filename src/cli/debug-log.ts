import type { Logger } from "../index.ts";
import type { Sink } from "./output.ts";

/**
 * The client's connection-level events as lines on stderr, for `--debug`: connections, endpoints
 * set aside and back, watch streams reopened, leases lost, tokens refreshed (never a secret).
 *
 * @example
 * new Etcd({ ...options, logger: debugLogger(process.stderr) });
 */
export function debugLogger(sink: Sink): Logger {
  const line = (level: string) => (message: string) => {
    sink.write(`${new Date().toISOString()} ${level} ${message}\n`);
  };
  return { debug: line("DEBUG"), info: line("INFO"), warn: line("WARN"), error: line("ERROR") };
}
