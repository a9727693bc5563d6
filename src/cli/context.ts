import type { Etcd, KeyOrRange, RangeOptions, RangeResult } from "../index.ts";
import { usageError } from "./cli-error.ts";
import type { Flags } from "./flags.ts";
import type { GatewayAddress } from "./gateway-post.ts";
import { gatewayRange } from "./gateway-range.ts";
import { lines } from "./lines.ts";
import type { Output } from "./output.ts";

/**
 * Opens a client: on every endpoint, or on one only. `spentMs` is the time a read over the
 * gateway already took from the command's timeouts.
 */
export type Connector = (endpoint: string | undefined, spentMs: number) => Promise<Etcd>;

/** A read over etcd's JSON gateway may go to this member, within the command's timeouts. */
export interface GatewayRoute {
  address: GatewayAddress;
  /** Read from the flags when a read goes (a bad value is the client's usage error too). */
  timeouts(): { dialTimeoutMs: number; timeoutMs: number };
}

/** The largest gateway answer read (the client's default receive limit); longer: the client. */
const GATEWAY_MAX_BYTES = 64 * 1024 * 1024;

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
  readonly #gateway: GatewayRoute | undefined;
  #gatewaySpentMs = 0;
  #main: Promise<Etcd> | undefined;

  constructor(init: {
    args: string[];
    flags: Flags;
    out: Output;
    signal: AbortSignal;
    stdin: AsyncIterable<Uint8Array | string>;
    endpoints: string[];
    connect: Connector;
    /** Where reads may go over the gateway; undefined: always through the client. */
    gateway?: GatewayRoute | undefined;
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
    this.#gateway = init.gateway;
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

  /**
   * A range read over etcd's JSON gateway, when the command line allows one (`GatewayRoute`):
   * a one-off read then needs neither HTTP/2 nor the client. Undefined when it is not allowed or
   * the gateway gave no answer; read through `etcd()` then, which reports errors.
   *
   * @example
   * const result = (await ctx.gatewayRange(key, {})) ?? (await (await ctx.etcd()).range(key));
   */
  async gatewayRange(target: KeyOrRange, options: RangeOptions): Promise<RangeResult | undefined> {
    const route = this.#gateway;
    if (!route) return undefined;
    const { dialTimeoutMs, timeoutMs } = route.timeouts();
    const started = performance.now();
    try {
      return await gatewayRange(route.address, target, options, {
        connectTimeoutMs: dialTimeoutMs,
        timeoutMs,
        maxBytes: GATEWAY_MAX_BYTES,
        signal: this.signal,
      });
    } finally {
      this.#gatewaySpentMs += performance.now() - started;
    }
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
    const client = await this.#connect(endpoint, this.#gatewaySpentMs);
    this.#clients.push(client);
    return client;
  }

  /** Closes every client the command opened. */
  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
  }
}
