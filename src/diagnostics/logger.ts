/**
 * Where the client reports connection-level events: connections up and down, endpoints set
 * aside and back, the Watch stream reopened, watchers resumed, late renewals, leases lost,
 * tokens refreshed. Never one line per call, never a password or token. Each event is one
 * line of text, so `console`, pino and winston loggers all fit.
 *
 * @example
 * const etcd = new Etcd({ endpoints: ["http://127.0.0.1:2379"], logger: console });
 */
export interface Logger {
  /** Routine events: connected, watcher resumed, token refreshed. */
  debug(message: string): void;
  /** Recovery: endpoint back, connection closed, Watch stream reopened. */
  info(message: string): void;
  /** Trouble the client works around: endpoint set aside, lease lost, late renewal. */
  warn(message: string): void;
  /** Reserved for failures the client cannot work around. */
  error(message: string): void;
}
