import { errorText } from "../core/error-text.ts";
import { latin1 } from "../core/latin1.ts";
import {
  connectionDownChannel,
  connectionUpChannel,
  endpointAsideChannel,
  endpointBackChannel,
  leaseLostChannel,
  leaseRenewedChannel,
  tokenChannel,
  watchEventsChannel,
  watchOpenChannel,
  watchResumeChannel,
} from "./channels.ts";
import type { Logger } from "./logger.ts";

/**
 * The connection-level events of one client: each goes to its diagnostics channel
 * (built only when the channel has subscribers) and to the client's logger, if any. The parts of
 * the client call these; nothing here is per call.
 */
export class ClientEvents {
  readonly logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.logger = logger;
  }

  connectionUp(endpoint: string): void {
    if (connectionUpChannel.hasSubscribers) connectionUpChannel.publish({ endpoint });
    this.logger?.debug(`etcd-connect: connected to ${endpoint}`);
  }

  connectionDown(endpoint: string, error?: unknown): void {
    if (connectionDownChannel.hasSubscribers) {
      connectionDownChannel.publish(error === undefined ? { endpoint } : { endpoint, error });
    }
    this.logger?.info(`etcd-connect: connection to ${endpoint} closed${because(error)}`);
  }

  endpointAside(endpoint: string, failures: number, probeInMs: number, reason?: unknown): void {
    if (endpointAsideChannel.hasSubscribers) {
      endpointAsideChannel.publish(
        reason === undefined
          ? { endpoint, failures, probeInMs }
          : { endpoint, failures, probeInMs, reason },
      );
    }
    const logger = this.logger;
    if (!logger) return;
    if (failures === 1) {
      logger.warn(
        `etcd-connect: endpoint ${endpoint} set aside${because(reason)}; probing it in ${probeInMs} ms`,
      );
    } else {
      logger.debug(
        `etcd-connect: endpoint ${endpoint} still failing (${failures} in a row); next probe in ${probeInMs} ms`,
      );
    }
  }

  endpointBack(endpoint: string, failures: number): void {
    if (endpointBackChannel.hasSubscribers) endpointBackChannel.publish({ endpoint, failures });
    this.logger?.info(`etcd-connect: endpoint ${endpoint} serves again`);
  }

  watchOpened(opens: number, reopened: boolean, watchers: number): void {
    if (watchOpenChannel.hasSubscribers) watchOpenChannel.publish({ opens, reopened, watchers });
    const logger = this.logger;
    if (!logger) return;
    if (reopened) {
      logger.info(`etcd-connect: watch stream reopened, ${watchers} watcher(s) to create again`);
    } else logger.debug("etcd-connect: watch stream opened");
  }

  watchResumed(key: Uint8Array, revision: bigint, reason: "stream" | "consumer"): void {
    if (watchResumeChannel.hasSubscribers) watchResumeChannel.publish({ key, revision, reason });
    this.logger?.debug(
      `etcd-connect: watcher on ${JSON.stringify(latin1(key))} resumed at revision ${revision}${reason === "consumer" ? " after its consumer caught up" : ""}`,
    );
  }

  /** Per batch: channel only, never logged. */
  get watchEventsObserved(): boolean {
    return watchEventsChannel.hasSubscribers;
  }

  watchEvents(events: number, revision: bigint, headRevision: bigint): void {
    const lag = headRevision > revision ? headRevision - revision : 0n;
    watchEventsChannel.publish({ events, revision, headRevision, lag });
  }

  leaseRenewed(id: bigint, ttl: bigint, roundTripMs: number, lateMs: number): void {
    if (leaseRenewedChannel.hasSubscribers) {
      leaseRenewedChannel.publish({ id, ttl, roundTripMs, lateMs });
    }
    // A renewal that went out later than a third of the TTL ate into the lease's margin.
    if (this.logger && lateMs > (Number(ttl) * 1000) / 3) {
      this.logger.warn(
        `etcd-connect: lease ${id.toString(16)} renewed ${Math.round(lateMs)} ms late (TTL ${ttl} s)`,
      );
    }
  }

  leaseLost(id: bigint, error: Error): void {
    if (leaseLostChannel.hasSubscribers) leaseLostChannel.publish({ id, error });
    this.logger?.warn(`etcd-connect: lease ${id.toString(16)} lost: ${error.message}`);
  }

  tokenRefreshed(username: string, initial: boolean): void {
    if (tokenChannel.hasSubscribers) tokenChannel.publish({ username, initial });
    this.logger?.debug(
      `etcd-connect: ${initial ? "authenticated" : "token refreshed"} as ${JSON.stringify(username)}`,
    );
  }
}

/** A client with no logger and nobody subscribed: every method is a cheap no-op. */
export const silentEvents = new ClientEvents();

function because(error: unknown): string {
  if (error === undefined || error === null) return "";
  const message = errorText(error);
  return message ? `: ${message}` : "";
}
