import type { ClientEvents } from "../diagnostics/client-events.ts";

/**
 * What the pool needs from one endpoint's connection: its state, a way to connect and its last
 * error. connect-node's `Http2SessionManager` fits it; a fetch-based endpoint, which has no
 * connection of its own, answers "open" throughout.
 *
 * @example
 * const session: EndpointSession = { state: () => "open", connect: async () => "open", error: () => undefined, abort() {} };
 */
export interface EndpointSession {
  /** "open" when calls can go out at once; connect-node's states otherwise ("idle", "connecting", ...). */
  state(): string;
  /** Connects if not connected; resolves with the state reached. */
  connect(): Promise<string>;
  /** What ended the last connection, if it failed. */
  error(): unknown;
  /** Drops the connection; open calls fail. */
  abort(reason?: Error): void;
}

/**
 * @internal A session that tells when its connection is established (the server's SETTINGS
 * arrived), counts reconnects and reports connection events: `EtcdSessionManager`.
 */
export interface ManagedSession extends EndpointSession {
  readonly established: boolean;
  readonly generation: number;
  readonly lastError: unknown;
  handshake(): Promise<boolean>;
  events: { readonly events: ClientEvents; readonly endpoint: string } | undefined;
  /** Asks the pool whether the member still has a leader, and in which raft term. */
  leaderCheck: (() => Promise<LeaderReport | undefined>) | undefined;
  /** The highest raft term in this member's answers so far (0n before any). */
  raftTerm: bigint;
}

/** What a member said when asked whether it has a leader (the stall watchdog asks). */
export interface LeaderReport {
  /** False when the member said it has none (cut off from its peers, or an election). */
  readonly hasLeader: boolean;
  /** The member's raft term, when its answer carried one. */
  readonly term?: bigint | undefined;
}

/** @internal True for a session with the `ManagedSession` extras. */
export function isManagedSession(session: EndpointSession): session is ManagedSession {
  return typeof (session as Partial<ManagedSession>).handshake === "function";
}

/**
 * @internal Keeps the highest raft term a member's answer carried (every etcd response header
 * has one), so that the stall watchdog can tell that a leader was elected while a call waited.
 */
export function noteRaftTerm(session: EndpointSession, message: unknown): void {
  const term = (message as { header?: { raftTerm?: bigint } } | undefined)?.header?.raftTerm;
  if (term !== undefined && isManagedSession(session) && term > session.raftTerm) {
    session.raftTerm = term;
  }
}
