import { createClient } from "@connectrpc/connect";
import { Lease as LeaseService } from "../../gen/etcdserverpb/rpc_pb.ts";
import type { PooledEndpoint } from "../connection/pool.ts";
import { isStaleTokenError, type PoolTransport } from "../connection/pool-transport.ts";
import type { Closable, CloseContext } from "../core/closable.ts";
import { LeaseLostError, PermissionDeniedError, toEtcdError } from "../core/errors.ts";
import type { KeepAliveFrameCodec } from "./keep-alive-frame-codec.ts";
import { type KeepAliveWire, openKeepAliveWire } from "./keep-alive-wire.ts";
import { SentRenewals } from "./sent-renewals.ts";

/** What the keep-alive machinery needs from the client. */
export interface KeepAliveHost {
  readonly transport: PoolTransport;
  /** The renewals' bytes for the lean transport's frame stream; absent: Connect's bidi call. */
  readonly keepAliveFrames?: KeepAliveFrameCodec | undefined;
  readonly closed: boolean;
  track(closable: Closable): () => void;
}

/**
 * The side of a lease handle that the shared keep-alive stream talks to.
 *
 * @example
 * keepAlive.add({ id, renewed: (ttl, deadline) => {}, lost: (error) => {} }, 10_000, deadline);
 */
export interface KeepAliveOwner {
  readonly id: bigint;
  /** After each successful renewal: the TTL etcd granted and the new deadline (`performance.now()` ms). */
  renewed(ttl: bigint, deadline: number): void;
  /** Once, when the lease is lost; the owner is no longer kept alive. */
  lost(error: LeaseLostError): void;
  /** Once, when the client closes while the lease is kept alive. */
  closed(): void;
  /** Whether closing the client revokes the lease (asked when it closes). */
  revokeOnClose(): boolean;
}

/**
 * Numbers describing the keep-alive machinery of one client.
 *
 * @example
 * const { leases, streamsOpened } = etcd.lease.keepAliveStats();
 */
export interface KeepAliveStats {
  /** Leases kept alive now. */
  leases: number;
  /** LeaseKeepAlive streams opened since the client started (one, unless streams failed). */
  streamsOpened: number;
  /** Whether a stream is open now. */
  streamOpen: boolean;
  /** The endpoint the open stream goes to. */
  endpoint: string | undefined;
  /** Renewals etcd confirmed. */
  renewals: number;
  /** Leases reported lost. */
  lost: number;
}

interface Entry {
  readonly id: bigint;
  readonly owners: Set<KeepAliveOwner>;
  ttlMs: number;
  /** When the next renewal is due. */
  nextAt: number;
  /** When the renewal in flight was sent; 0 when none is. */
  sentAt: number;
  /** Local deadline: the lease is lost when no renewal succeeds before it. */
  deadline: number;
}

interface StreamState {
  wire: KeepAliveWire | undefined;
  readonly endpoint: PooledEndpoint;
  /**
   * Lease IDs sent and not answered yet, oldest first. etcd renews one request at a time and
   * answers in order, so when it ends the stream with an error the head is the lease it refused.
   */
  readonly unanswered: SentRenewals;
  /** When etcd last answered on this stream (or when it opened). */
  heardAt: number;
}

/** Renewals due this close to the one that woke the timer go out with it. */
const COALESCE_MS = 100;
const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2_000;
const MIN_STALL_MS = 500;
const MAX_STALL_MS = 5_000;

const shared = new WeakMap<KeepAliveHost, LeaseKeepAlive>();

/**
 * The one keep-alive machine of a client (namespaces of the same client share it).
 *
 * @example
 * sharedKeepAlive(etcd).add(owner, ttlMs, deadline);
 */
export function sharedKeepAlive(host: KeepAliveHost): LeaseKeepAlive {
  let keepAlive = shared.get(host);
  if (!keepAlive) {
    keepAlive = new LeaseKeepAlive(host);
    shared.set(host, keepAlive);
  }
  return keepAlive;
}

/**
 * Keeps leases alive over ONE LeaseKeepAlive bidi stream per client, following Go's clientv3:
 * each lease is renewed at a third of its TTL; a reply with TTL <= 0 means the lease is gone; a
 * lease with no successful renewal before its deadline is lost. The deadline is counted from
 * when the successful renewal was *sent* (etcd restarts the TTL when it receives it, later), so
 * the owner hears of the loss no later than etcd expires the lease.
 *
 * The stream carries `hasleader: true` (a member without quorum ends it instead of staying
 * silent), no deadline, and is pinned to one endpoint. When it fails, or a renewal goes
 * unanswered for a sixth of the TTL (between 0.5 and 5 s: a hung member), the endpoint is set
 * aside and the stream reopens on the next one at once (after further failures with a backoff
 * bounded by the TTLs), renewing every lease at once.
 * The stream closes when no lease is left.
 *
 * @example
 * const keepAlive = sharedKeepAlive(etcd);
 * keepAlive.add(owner, 10_000, performance.now() + 10_000);
 */
export class LeaseKeepAlive {
  readonly #host: KeepAliveHost;
  readonly #entries = new Map<bigint, Entry>();
  #stream: StreamState | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #reopenTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #avoid: PooledEndpoint | undefined;
  #lastError: unknown;
  #untrack: (() => void) | undefined;
  #closed = false;
  #stats = { streamsOpened: 0, renewals: 0, lost: 0 };

  constructor(host: KeepAliveHost) {
    this.#host = host;
  }

  /**
   * Starts keeping `owner.id` alive; `ttlMs` and `deadline` (on the monotonic `performance.now()`
   * clock, so wall-clock jumps cannot delay a loss) are what the caller knows so far.
   */
  add(owner: KeepAliveOwner, ttlMs: number, deadline: number): void {
    if (this.#closed || this.#host.closed) {
      owner.closed();
      return;
    }
    if (!this.#untrack) this.#untrack = this.#host.track(this);
    const existing = this.#entries.get(owner.id);
    if (existing) {
      existing.owners.add(owner);
      return;
    }
    const entry: Entry = {
      id: owner.id,
      owners: new Set([owner]),
      ttlMs,
      nextAt: 0,
      sentAt: 0,
      deadline,
    };
    this.#entries.set(owner.id, entry);
    if (this.#stream) this.#send(entry, performance.now());
    else this.#open();
    this.#arm(Math.min(entry.deadline, performance.now() + this.#stallMs(entry)));
  }

  /** Stops keeping `owner` alive (the lease itself is left as it is). */
  remove(owner: KeepAliveOwner): void {
    const entry = this.#entries.get(owner.id);
    if (!entry?.owners.delete(owner)) return;
    if (entry.owners.size === 0) {
      this.#entries.delete(entry.id);
      if (this.#entries.size === 0) this.#idle();
    }
  }

  stats(): KeepAliveStats {
    return {
      leases: this.#entries.size,
      streamsOpened: this.#stats.streamsOpened,
      streamOpen: this.#stream !== undefined,
      endpoint: this.#stream?.endpoint.url,
      renewals: this.#stats.renewals,
      lost: this.#stats.lost,
    };
  }

  /**
   * Ends the stream and tells every owner the client closed. When the client is closing
   * (`closing` given), then revokes the leases an owner wants revoked, over the transport and
   * within the time the client allows; a revoke that fails leaves the lease to expire.
   */
  async close(closing?: CloseContext): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    this.#idle();
    const revoke: bigint[] = [];
    for (const entry of entries) {
      if ([...entry.owners].some((owner) => owner.revokeOnClose())) revoke.push(entry.id);
      for (const owner of entry.owners) owner.closed();
    }
    if (!closing || revoke.length === 0) return;
    const client = createClient(LeaseService, closing.transport);
    await Promise.all(
      revoke.map((ID) =>
        client.leaseRevoke({ ID }, { signal: closing.signal }).then(
          () => {},
          () => {},
        ),
      ),
    );
  }

  #idle(): void {
    this.#endStream();
    clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#untrack?.();
    this.#untrack = undefined;
  }

  #endStream(): void {
    const stream = this.#stream;
    if (!stream) return;
    this.#stream = undefined;
    stream.wire?.end();
  }

  #open(): void {
    if (this.#stream || this.#reopenTimer || this.#closed || this.#entries.size === 0) return;
    if (this.#host.closed) {
      this.close();
      return;
    }
    const transport = this.#host.transport;
    const endpoint = transport.pool.pick(this.#avoid);
    const stream: StreamState = {
      wire: undefined,
      endpoint,
      unanswered: new SentRenewals(),
      heardAt: performance.now(),
    };
    this.#stream = stream;
    this.#stats.streamsOpened++;
    stream.wire = openKeepAliveWire(
      transport,
      endpoint,
      {
        renewed: (id, ttl) => {
          if (stream === this.#stream) this.#onResponse(stream, id, ttl);
        },
        failed: (error) => {
          if (stream === this.#stream) this.#fail(stream, error);
        },
      },
      this.#host.keepAliveFrames,
    );
    const now = performance.now();
    for (const entry of this.#entries.values()) this.#send(entry, now);
    this.#arm(now + MIN_STALL_MS);
  }

  #onResponse(stream: StreamState, id: bigint, ttl: bigint): void {
    stream.heardAt = performance.now();
    stream.unanswered.answered(id);
    const entry = this.#entries.get(id);
    if (this.#failures !== 0 || this.#avoid) {
      this.#failures = 0;
      this.#avoid = undefined;
      this.#host.transport.pool.markHealthy(stream.endpoint);
    }
    if (!entry) return;
    const now = performance.now();
    if (ttl <= 0n) {
      this.#lose(entry, `lease ${entry.id.toString(16)} expired or was revoked`);
      return;
    }
    const ttlMs = Number(ttl) * 1000;
    const events = this.#host.transport.pool.events;
    if (entry.sentAt !== 0) {
      // Late: sent after the planned time (the first renewal has none).
      const late = entry.nextAt === 0 ? 0 : Math.max(0, entry.sentAt - entry.nextAt);
      events.leaseRenewed(entry.id, ttl, now - entry.sentAt, late);
    }
    entry.ttlMs = ttlMs;
    const base = entry.sentAt || now;
    entry.deadline = base + ttlMs;
    entry.sentAt = 0;
    // A third of the TTL after the renewal was sent: at once when the answer took that long.
    entry.nextAt = base + ttlMs / 3;
    this.#stats.renewals++;
    this.#arm(entry.nextAt);
    if (entry.owners.size === 1) {
      for (const owner of entry.owners) owner.renewed(ttl, entry.deadline);
    } else for (const owner of [...entry.owners]) owner.renewed(ttl, entry.deadline);
  }

  #send(entry: Entry, now: number): void {
    const stream = this.#stream;
    if (!stream || entry.sentAt !== 0) return;
    entry.sentAt = now;
    stream.unanswered.push(entry.id);
    stream.wire?.send(entry.id);
  }

  /**
   * How long a renewal may go unanswered before the member counts as hung: a sixth of the TTL
   * (0.5 to 5 s). Sent a third of the TTL after the last renewal, a renewal found stalled then
   * leaves half the TTL to renew on another member (a third left a lease of 2 s, etcd's
   * shortest, some 200 ms).
   */
  #stallMs(entry: Entry): number {
    return Math.min(MAX_STALL_MS, Math.max(MIN_STALL_MS, entry.ttlMs / 6));
  }

  /**
   * The wait before reopening after `#failures` failures in a row: none after the first (the
   * stream goes to another member), then doubling from 100 ms up to 2 s, but never more than a
   * tenth of the shortest TTL kept alive: during an election every member ends the stream
   * ("no leader"), and a lease of 2 s cannot wait out a backoff of 800 ms after it.
   */
  #backoffMs(): number {
    if (this.#failures <= 1) return 0;
    let shortestTtl = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries.values()) shortestTtl = Math.min(shortestTtl, entry.ttlMs);
    const backoff = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.#failures - 2));
    return Math.min(backoff, Math.max(MIN_BACKOFF_MS, shortestTtl / 10));
  }

  /** Makes sure the timer fires no later than `at`. */
  #arm(at: number): void {
    if (this.#closed || at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - performance.now()));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    let stalled = false;
    for (const entry of [...this.#entries.values()]) {
      if (now >= entry.deadline) {
        this.#lose(entry, `lease ${entry.id.toString(16)} was not renewed before its deadline`);
        continue;
      }
      if (this.#stream) {
        if (entry.sentAt === 0 && entry.nextAt <= now + COALESCE_MS) this.#send(entry, now);
        if (entry.sentAt !== 0) {
          // A member working through a burst of renewals answers all along: only silence counts.
          const stallAt = Math.max(entry.sentAt, this.#stream.heardAt) + this.#stallMs(entry);
          if (now >= stallAt) stalled = true;
          next = Math.min(next, stallAt);
        } else next = Math.min(next, entry.nextAt);
      }
      next = Math.min(next, entry.deadline);
    }
    if (stalled && this.#stream) {
      // Our own event loop may have been blocked with the answers already read: let I/O run
      // once before deciding.
      const stream = this.#stream;
      setImmediate(() => {
        if (stream !== this.#stream) return;
        if (this.#silent(stream, performance.now())) {
          this.#fail(stream, new Error("keep-alive renewals went unanswered (member hung?)"));
        } else this.#tick();
      });
      return;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }

  /** Whether a renewal on `stream` waits past its stall time with no answer from etcd since. */
  #silent(stream: StreamState, now: number): boolean {
    for (const entry of this.#entries.values()) {
      if (
        entry.sentAt !== 0 &&
        now >= Math.max(entry.sentAt, stream.heardAt) + this.#stallMs(entry)
      ) {
        return true;
      }
    }
    return false;
  }

  #fail(stream: StreamState, error: unknown): void {
    if (stream !== this.#stream) return;
    if (this.#refused(stream, error)) return;
    this.#endStream();
    this.#lastError = error;
    if (this.#closed || this.#host.closed) {
      this.close();
      return;
    }
    this.#host.transport.pool.markFailed(stream.endpoint, error);
    this.#avoid = stream.endpoint;
    for (const entry of this.#entries.values()) entry.sentAt = 0;
    if (this.#entries.size === 0) return;
    this.#failures++;
    let deadline = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries.values()) deadline = Math.min(deadline, entry.deadline);
    this.#arm(deadline);
    if (isStaleTokenError(error) && this.#failures === 1) {
      void this.#host.transport.refreshAuth().then(
        () => this.#open(),
        () => this.#open(),
      );
      return;
    }
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      this.#open();
    }, this.#backoffMs());
  }

  /**
   * etcd 3.5.28+ and 3.6.9+ renew a lease only for a user who may write every key attached to
   * it, and answer a refused renewal by ending the whole stream with "permission denied". That
   * lease is lost with the refusal as its cause; the stream reopens at once on the same endpoint
   * for the others (the member is fine, so it is not set aside).
   */
  #refused(stream: StreamState, error: unknown): boolean {
    const cause = toEtcdError(error);
    const entry = this.#entries.get(stream.unanswered.oldest() ?? -1n);
    if (!(cause instanceof PermissionDeniedError) || !entry) return false;
    this.#endStream();
    for (const other of this.#entries.values()) other.sentAt = 0;
    this.#lastError = undefined;
    this.#lose(
      entry,
      `lease ${entry.id.toString(16)}: etcd refused to renew it (${cause.message}); since etcd ` +
        "3.5.28 and 3.6.9 renewing a lease needs put permission on every key attached to it",
      cause,
    );
    this.#open();
    return true;
  }

  #lose(entry: Entry, message: string, refusal?: PermissionDeniedError): void {
    if (this.#entries.get(entry.id) !== entry) return;
    this.#entries.delete(entry.id);
    this.#stats.lost++;
    const cause =
      refusal ?? (this.#lastError === undefined ? undefined : toEtcdError(this.#lastError));
    const detail =
      cause && !refusal && !this.#stream ? ` (keep-alive stream: ${cause.message})` : "";
    const error = new LeaseLostError(`${message}${detail}`, undefined, { cause });
    this.#host.transport.pool.events.leaseLost(entry.id, error);
    for (const owner of entry.owners) owner.lost(error);
    if (this.#entries.size === 0) this.#idle();
  }
}
