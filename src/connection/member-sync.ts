import type { Client } from "@connectrpc/connect";
import type { Cluster } from "../../gen/etcdserverpb/rpc_pb.ts";
import type { CallOptions } from "../core/call-options.ts";
import { InvalidArgumentError, toEtcdError } from "../core/errors.ts";
import { connectOptions } from "./connect-options.ts";
import { normalizeEndpoints } from "./endpoints.ts";
import type { EndpointPool } from "./pool.ts";

/**
 * Keeps a client's endpoints in line with the cluster's members: asks MemberList and makes the
 * pool hold the client URLs of the voting members (learners serve no client requests; members
 * added but not started yet have no client URL). On demand with `sync()`, and every
 * `intervalMs` when given.
 *
 * @example
 * const members = new MemberSync(pool, createClient(Cluster, transport), 60_000);
 * await members.sync();
 */
export class MemberSync {
  readonly #pool: EndpointPool;
  readonly #cluster: Client<typeof Cluster>;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<string[]> | undefined;

  constructor(pool: EndpointPool, cluster: Client<typeof Cluster>, intervalMs?: number) {
    if (
      intervalMs !== undefined &&
      (typeof intervalMs !== "number" || !Number.isFinite(intervalMs) || intervalMs < 0)
    ) {
      throw new InvalidArgumentError(`autoSyncIntervalMs must be a number >= 0, got ${intervalMs}`);
    }
    this.#pool = pool;
    this.#cluster = cluster;
    if (intervalMs) {
      this.#timer = setInterval(() => {
        this.sync({ timeoutMs: Math.min(intervalMs, 30_000) }).catch(() => {
          // The next round tries again; calls keep using the endpoints known so far.
        });
      }, intervalMs);
      this.#timer.unref?.();
    }
  }

  /**
   * Asks the cluster for its members and updates the endpoints; resolves with the endpoints in
   * use. Concurrent calls share one request.
   */
  sync(options: CallOptions = {}): Promise<string[]> {
    this.#running ??= this.#sync(options).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sync(options: CallOptions): Promise<string[]> {
    let members: Awaited<ReturnType<Client<typeof Cluster>["memberList"]>>["members"];
    try {
      ({ members } = await this.#cluster.memberList(
        { linearizable: true },
        connectOptions(options),
      ));
    } catch (error) {
      throw toEtcdError(error, options);
    }
    const urls: string[] = [];
    for (const member of members) {
      if (member.isLearner) continue;
      for (const url of member.clientURLs) {
        try {
          for (const normalized of normalizeEndpoints([url])) {
            if (!urls.includes(normalized)) urls.push(normalized);
          }
        } catch {
          // A URL the client cannot use (unix socket, say): leave it out.
        }
      }
    }
    this.#pool.setUrls(urls);
    return this.#pool.urls;
  }

  /** Stops the periodic sync. */
  close(): void {
    clearInterval(this.#timer);
  }
}
