import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { atExit } from "./cleanup.ts";

/**
 * A free TCP port on 127.0.0.1, below the kernel's ephemeral range when it can: a member killed
 * and restarted must get its port back, and a port from the ephemeral range may meanwhile be taken
 * by any outgoing connection or another test's port-0 listener on the machine.
 *
 * A port below that range is also reserved for this process, in a file of the machine's temporary
 * directory, until the test cluster that asked for it stops or the process exits: test files run
 * in parallel processes, and while a member is killed its port is free to bind, so without the
 * reservation another process could start a member there and the restart would fail.
 *
 * @example
 * const url = `http://127.0.0.1:${await freePort()}`;
 */
export async function freePort(): Promise<number> {
  const below = ephemeralStart();
  if (below > 11_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
      if (!reservePort(port)) continue;
      if (await canListen(port)) return port;
      releasePort(port);
    }
  }
  return listenOn(0);
}

/** Gives back a port `freePort` reserved for this process; other ports are ignored. */
export function releasePort(port: number): void {
  const dir = reservationDir();
  if (!reservations.delete(port) || dir === undefined) return;
  try {
    unlinkSync(join(dir, String(port)));
  } catch {
    // Already gone: a stale-reservation sweep by another process, or a cleared temp directory.
  }
}

/** Ports this process reserved; each one's file is `<reservationDir>/<port>`. */
const reservations = new Set<number>();
let releaseAtExit = false;

/** An empty reservation is one being written; one this old without a pid is abandoned. */
const UNWRITTEN_STALE_MS = 60_000;

/**
 * Reserves `port` for this process unless a live process holds it (false then); a reservation
 * left by a process that is gone is taken over. True also where nothing can be recorded.
 */
export function reservePort(port: number): boolean {
  const dir = reservationDir();
  // Nowhere to record it: the bind check alone decides, as it did before reservations.
  if (dir === undefined) return true;
  const file = join(dir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      reservations.add(port);
      if (!releaseAtExit) {
        releaseAtExit = true;
        atExit(releaseAll);
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") return true;
      if (holderAlive(file)) return false;
      try {
        unlinkSync(file);
      } catch {
        // Another process cleared it first; the next attempt's exclusive create decides.
      }
    }
  }
  return false;
}

function releaseAll(): void {
  // Deno runs exit actions when each test file ends; the next reservation registers again.
  releaseAtExit = false;
  for (const port of [...reservations]) releasePort(port);
}

function holderAlive(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return false;
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) {
    try {
      return Date.now() - statSync(file).mtimeMs < UNWRITTEN_STALE_MS;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists and belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

let directory: string | null | undefined;

function reservationDir(): string | undefined {
  if (directory === undefined) {
    const dir = join(tmpdir(), "etcd-connect-ports");
    try {
      mkdirSync(dir, { recursive: true, mode: 0o1777 });
      directory = dir;
    } catch {
      directory = null;
    }
  }
  return directory ?? undefined;
}

/** The first port of the kernel's ephemeral range, or 0 where it cannot be read. */
export function ephemeralStart(): number {
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
