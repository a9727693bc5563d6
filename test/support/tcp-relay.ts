import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback TCP relay in front of one etcd client URL that a test can cut: `cut()` drops every
 * connection and refuses new ones until `restore()`. A client pointed at the relay loses its
 * streams while other clients keep using etcd directly.
 *
 * @example
 * await using relay = await TcpRelay.start(fx.endpoints[0]);
 * relay.cut(); await writeAndCompact(); relay.restore();
 */
export class TcpRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #open = true;
  readonly url: string;

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
      const upstream = connect(Number(port), hostname);
      relay.track(client);
      relay.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
      client.on("close", close);
      upstream.on("close", close);
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

  async [Symbol.asyncDispose](): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
