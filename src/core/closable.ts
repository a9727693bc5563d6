import type { Transport } from "@connectrpc/connect";

/**
 * Something the client closes when it closes (watch and keep-alive streams, sessions).
 *
 * @example
 * const untrack = etcd.track({ close: () => controller.abort() });
 */
export interface Closable {
  /** Called once by `etcd.close()`, with what is still usable for last calls. */
  close(closing?: CloseContext): void | Promise<void>;
}

/**
 * What `etcd.close()` hands each tracked `Closable`: the client already refuses its users' calls,
 * but `transport` still carries the closable's last calls (revoking leases, say) until `signal`
 * fires, a short deadline after `close()` began, or every closable is done. Then the connections
 * close.
 *
 * @example
 * etcd.track({
 *   close: (closing) =>
 *     closing && createClient(Lease, closing.transport).leaseRevoke({ ID: id }, { signal: closing.signal }),
 * });
 */
export interface CloseContext {
  readonly transport: Transport;
  readonly signal: AbortSignal;
}
