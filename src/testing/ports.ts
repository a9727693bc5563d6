import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A free TCP port on 127.0.0.1, below the kernel's ephemeral range when it can: a member killed
 * and restarted must get its port back, and a port from the ephemeral range may meanwhile be taken
 * by any outgoing connection or another test's port-0 listener on the machine.
 *
 * @example
 * const url = `http://127.0.0.1:${await freePort()}`;
 */
export async function freePort(): Promise<number> {
  const below = ephemeralStart();
  if (below > 11_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
      if (await canListen(port)) return port;
    }
  }
  return listenOn(0);
}

function ephemeralStart(): number {
  try {
    const range = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    return Number(range.trim().split(/\s+/)[0]) || 0;
  } catch {
    return 0;
  }
}

async function canListen(port: number): Promise<boolean> {
  try {
    return (await listenOn(port)) === port;
  } catch {
    return false;
  }
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}
