import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * Link conditions a relay imposes in both directions.
 *
 * @example
 * relay.shape({ latencyMs: 100, bytesPerSecond: 256 * 1024 });
 */
export interface LinkShape {
  /** Added one-way delay of every byte. */
  latencyMs?: number;
  /** Bandwidth of each direction of each connection. */
  bytesPerSecond?: number;
}

/** Bytes held per direction before the relay stops reading the sender (backpressure). */
const HIGH_WATER = 1024 * 1024;
/** Chunks are cut to this size so a bandwidth limit paces them smoothly. */
const SLICE = 16 * 1024;

/**
 * A user-space TCP relay in front of one etcd client URL (tc netem is not available, so slow
 * links are made here). A test can:
 * - `cut()`: drop every connection and refuse new ones until `restore()`;
 * - `reset()`: drop every connection with a TCP reset, mid-stream, and go on accepting;
 * - `shape({ latencyMs, bytesPerSecond })`: delay and throttle every byte, both ways;
 * - `stall()`: hold every byte (connections stay open, nothing moves) until `unstall()`;
 * - read `openings`: how each connection began, to tell an HTTP/1.1 request from HTTP/2's preface.
 * A client pointed at the relay suffers it while other clients keep using etcd directly.
 *
 * @example
 * await using relay = await TcpRelay.start(fx.endpoints[0]);
 * relay.shape({ latencyMs: 200 });
 * relay.reset();
 * relay.cut(); await writeAndCompact(); relay.restore();
 */
export class TcpRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #flows = new Set<Flow>();
  #open = true;
  #shape: Required<LinkShape> = { latencyMs: 0, bytesPerSecond: 0 };
  #stalled = false;
  readonly url: string;
  /** The first bytes (up to 32, as latin1) the client sent on each connection, in order. */
  readonly openings: string[] = [];

  private constructor(server: Server, url: string) {
    this.#server = server;
    this.url = url;
  }

  static async start(target: string): Promise<TcpRelay> {
    const { hostname, port } = new URL(target);
    let relay: TcpRelay | undefined;
    const server = createServer((client) => {
      if (!relay?.isOpen()) {
        client.destroy();
        return;
      }
      relay.#join(client, connect(Number(port), hostname));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const bound = typeof address === "object" && address ? address.port : 0;
    relay = new TcpRelay(server, `http://127.0.0.1:${bound}`);
    return relay;
  }

  isOpen(): boolean {
    return this.#open;
  }

  /** Connections currently relayed. */
  get connections(): number {
    return this.#sockets.size / 2;
  }

  track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.#open = false;
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Accepts connections again. */
  restore(): void {
    this.#open = true;
  }

  /** Resets every connection (RST to both ends, whatever is in flight); new ones are accepted. */
  reset(): void {
    for (const socket of this.#sockets) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  /** Sets the latency and bandwidth of every connection, current and new; `{}` lifts them. */
  shape(shape: LinkShape): void {
    this.#shape = { latencyMs: shape.latencyMs ?? 0, bytesPerSecond: shape.bytesPerSecond ?? 0 };
  }

  /** Holds every byte in both directions; connections stay open. */
  stall(): void {
    this.#stalled = true;
  }

  /** Delivers what was held, and goes on relaying. */
  unstall(): void {
    this.#stalled = false;
    for (const flow of this.#flows) flow.pump();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #join(client: Socket, upstream: Socket): void {
    client.once("data", (chunk: Buffer) => {
      this.openings.push(chunk.subarray(0, 32).toString("latin1"));
    });
    this.track(client);
    this.track(upstream);
    const conditions = () => ({ shape: this.#shape, stalled: this.#stalled });
    const flows = [new Flow(client, upstream, conditions), new Flow(upstream, client, conditions)];
    for (const flow of flows) this.#flows.add(flow);
    const close = () => {
      client.destroy();
      upstream.destroy();
      for (const flow of flows) {
        flow.stop();
        this.#flows.delete(flow);
      }
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
  }
}

/** One direction of one connection: bytes queued with the time each may be delivered. */
class Flow {
  readonly #from: Socket;
  readonly #to: Socket;
  readonly #conditions: () => { shape: Required<LinkShape>; stalled: boolean };
  readonly #queue: Array<{ chunk: Buffer; due: number }> = [];
  #queued = 0;
  /** When the link finishes sending what is queued (bandwidth). */
  #linkFreeAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(
    from: Socket,
    to: Socket,
    conditions: () => { shape: Required<LinkShape>; stalled: boolean },
  ) {
    this.#from = from;
    this.#to = to;
    this.#conditions = conditions;
    from.on("data", (chunk: Buffer) => this.#receive(chunk));
    from.on("end", () => {
      this.#ended = true;
      this.pump();
    });
  }

  #receive(chunk: Buffer): void {
    const { latencyMs, bytesPerSecond } = this.#conditions().shape;
    const now = performance.now();
    for (let offset = 0; offset < chunk.length; offset += SLICE) {
      const slice = chunk.subarray(offset, offset + SLICE);
      let sent = now;
      if (bytesPerSecond > 0) {
        this.#linkFreeAt = Math.max(this.#linkFreeAt, now) + (slice.length * 1000) / bytesPerSecond;
        sent = this.#linkFreeAt;
      }
      this.#queue.push({ chunk: slice, due: sent + latencyMs });
      this.#queued += slice.length;
    }
    if (this.#queued > HIGH_WATER) this.#from.pause();
    this.pump();
  }

  /** Delivers every chunk that is due, in order, and waits for the next one. */
  pump(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#conditions().stalled || this.#to.destroyed) return;
    const now = performance.now();
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as { chunk: Buffer; due: number };
      if (next.due > now) {
        this.#timer = setTimeout(() => this.pump(), Math.ceil(next.due - now));
        return;
      }
      this.#queue.shift();
      this.#queued -= next.chunk.length;
      this.#to.write(next.chunk);
    }
    if (this.#queued <= HIGH_WATER / 2 && this.#from.isPaused()) this.#from.resume();
    if (this.#ended) this.#to.end();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }
}
