import type { Etcd } from "../index.ts";
import { usageError } from "./cli-error.ts";
import type { Flags } from "./flags.ts";
import { lines } from "./lines.ts";
import type { Output } from "./output.ts";

/** Opens a client: on every endpoint, or on one only. */
export type Connector = (endpoint?: string) => Promise<Etcd>;

/**
 * What a command gets: its positional arguments and flags, the output, stdin, a signal that
 * fires on Ctrl-C, and clients opened on demand (all closed when the command ends).
 *
 * @example
 * const etcd = await ctx.etcd();
 * const kv = await etcd.get(ctx.args[0] ?? "", { revision: ctx.flags.int("rev") ?? 0n });
 */
export class CommandContext {
  /** Positional arguments after the command words. */
  readonly args: string[];
  /** The flags given. */
  readonly flags: Flags;
  readonly out: Output;
  /** Fires on SIGINT / SIGTERM. */
  readonly signal: AbortSignal;
  /** The command's standard input. */
  readonly stdin: AsyncIterable<Uint8Array | string>;
  /** The endpoints as the user wrote them. */
  readonly endpoints: string[];
  /** The exit code when the command succeeds (lock passes on its child's). */
  exitCode = 0;
  readonly #connect: Connector;
  readonly #askPassword: (user: string) => Promise<string>;
  readonly #clients: Etcd[] = [];
  #main: Promise<Etcd> | undefined;

  constructor(init: {
    args: string[];
    flags: Flags;
    out: Output;
    signal: AbortSignal;
    stdin: AsyncIterable<Uint8Array | string>;
    endpoints: string[];
    connect: Connector;
    /** Prompts on the terminal; undefined when stdin is not a terminal. */
    askPassword: ((user: string) => Promise<string>) | undefined;
  }) {
    this.args = init.args;
    this.flags = init.flags;
    this.out = init.out;
    this.signal = init.signal;
    this.stdin = init.stdin;
    this.endpoints = init.endpoints;
    this.#connect = init.connect;
    const ask = init.askPassword;
    this.#askPassword = ask ?? ((user) => this.#firstLine(user));
  }

  /**
   * A password for `user`: prompted for on a terminal, else the first line of stdin.
   */
  password(user: string): Promise<string> {
    return this.#askPassword(user);
  }

  async #firstLine(user: string): Promise<string> {
    for await (const line of lines(this.stdin)) return line;
    throw usageError(`no password for ${user} on stdin`);
  }

  /** Fails with a usage error unless the argument count is in [min, max]. */
  expectArgs(min: number, max: number, message: string): void {
    if (this.args.length < min || this.args.length > max) throw usageError(message);
  }

  /** The client over every endpoint (opened on first use). */
  etcd(): Promise<Etcd> {
    this.#main ??= this.#open(undefined);
    return this.#main;
  }

  /** A client of its own for one endpoint (for per-member commands such as endpoint status). */
  etcdAt(endpoint: string): Promise<Etcd> {
    return this.#open(endpoint);
  }

  async #open(endpoint: string | undefined): Promise<Etcd> {
    const client = await this.#connect(endpoint);
    this.#clients.push(client);
    return client;
  }

  /** Closes every client the command opened. */
  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
  }
}
