import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ephemeralStart, freePort, releasePort, reservePort } from "../../src/testing/ports.ts";

const portsModule = new URL("../../src/testing/ports.ts", import.meta.url).href;
const reservationFile = (port: number) => join(tmpdir(), "etcd-connect-ports", String(port));

/** Runs `body` in another Node process with `reservePort`/`freePort` imported; returns its stdout. */
function inOtherProcess(body: string): string {
  const script = `import { freePort, reservePort } from ${JSON.stringify(portsModule)};\n${body}`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

/**
 * A port in the range freePort draws from, reserved by this process: other test processes on
 * the machine may hold some ports of that range, and their reservations must not be touched.
 */
function reservedTestPort(): number {
  for (let port = 10_000 + (process.pid % 2_000) * 7; port < 65_536; port++) {
    if (reservePort(port)) return port;
  }
  throw new Error("no port from 10000 up could be reserved");
}

describe("test ports", () => {
  it("freePort reserves what it returns for this process until released", async () => {
    const port = await freePort();
    assert.ok(port >= 10_000 && port < ephemeralStart(), `port ${port} below the ephemeral range`);
    assert.equal(readFileSync(reservationFile(port), "utf8"), String(process.pid));
    assert.equal(inOtherProcess(`console.log(reservePort(${port}))`), "false");
    releasePort(port);
    assert.equal(existsSync(reservationFile(port)), false);
  });

  it("a port another live process reserved is refused, and free again when it lets go", () => {
    const port = reservedTestPort();
    assert.equal(reservePort(port), false, "held, even by ourselves, until released");
    assert.equal(inOtherProcess(`console.log(reservePort(${port}))`), "false");
    releasePort(port);
    assert.equal(inOtherProcess(`console.log(reservePort(${port}))`), "true");
  });

  it("a reservation left by a process that is gone is taken over", () => {
    const port = reservedTestPort();
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    assert.ok(gone);
    // Our own reservation, rewritten as if a process now gone had left it.
    writeFileSync(reservationFile(port), String(gone));
    assert.equal(reservePort(port), true);
    assert.equal(readFileSync(reservationFile(port), "utf8"), String(process.pid));
    releasePort(port);
  });

  it("a process's reservations are given back when it exits", () => {
    const port = Number(inOtherProcess("console.log(await freePort())"));
    assert.ok(port >= 10_000);
    assert.equal(existsSync(reservationFile(port)), false);
  });
});
