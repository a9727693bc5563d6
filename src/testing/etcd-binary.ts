import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * etcd-connect's own install script, when this module runs from a checkout of the project (a
 * packed package does not ship scripts/).
 */
function installScript(): string | undefined {
  let dir = import.meta.dirname;
  for (let up = 0; up < 4; up++) {
    const candidate = join(dir, "scripts/install-etcd.sh");
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, "..");
  }
  return undefined;
}

/** What to do when no etcd binary is found. */
export const NO_ETCD_HELP = [
  "no etcd binary found. Set ETCD_BIN to the path of an etcd executable, or put `etcd` on PATH.",
  "Ways to get one: Debian and Ubuntu package it (`apt-get install etcd-server etcd-client`),",
  "and etcd publishes release archives for every platform on its GitHub releases page",
  "(etcd-io/etcd): unpack one and point ETCD_BIN at the `etcd` inside.",
  "In a checkout of etcd-connect, `npm run install-etcd` installs the supported lines.",
].join("\n");

let cachedEtcd: string | undefined;

/**
 * The etcd binary test clusters run: `ETCD_BIN` if set, else `etcd` on `PATH`, else (only in a
 * checkout of etcd-connect) the one its `scripts/install-etcd.sh` installs. Throws with advice on
 * how to get one when none is found.
 *
 * @example
 * console.log(etcdBinary()); // "/usr/bin/etcd"
 */
export function etcdBinary(): string {
  if (cachedEtcd) return cachedEtcd;
  const fromEnv = process.env.ETCD_BIN;
  if (fromEnv) {
    cachedEtcd = fromEnv;
    return fromEnv;
  }
  const found = onPath("etcd");
  if (found) {
    cachedEtcd = found;
    return found;
  }
  const script = installScript();
  if (!script) throw new Error(`etcd-connect/testing: ${NO_ETCD_HELP}`);
  cachedEtcd = execFileSync("bash", [script, "--print"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return cachedEtcd;
}

/**
 * `etcdctl` of the same etcd line: `ETCDCTL_BIN`, else beside the etcd binary, else on `PATH`.
 *
 * @example
 * execFileSync(etcdctlBinary(), ["--endpoints", cluster.endpoints.join(","), "get", "k"]);
 */
export function etcdctlBinary(): string {
  const fromEnv = process.env.ETCDCTL_BIN;
  if (fromEnv) return fromEnv;
  const beside = join(dirname(etcdBinary()), "etcdctl");
  if (existsSync(beside)) return beside;
  const found = onPath("etcdctl");
  if (found) return found;
  throw new Error("etcdctl not found: set ETCDCTL_BIN, or put etcdctl beside etcd or on PATH");
}

const versions = new Map<string, string>();

/**
 * The version of an etcd binary (default `etcdBinary()`), such as "3.5.16".
 *
 * @example
 * if (etcdVersion().startsWith("3.4.")) console.log("oldest supported line");
 */
export function etcdVersion(binary: string = etcdBinary()): string {
  let version = versions.get(binary);
  if (version === undefined) {
    const out = execFileSync(binary, ["--version"], { encoding: "utf8" });
    version = /etcd Version: (\S+)/.exec(out)?.[1] ?? "unknown";
    versions.set(binary, version);
  }
  return version;
}

/**
 * Whether the etcd binary (default `etcdBinary()`) is at least `major.minor`.
 *
 * @example
 * test("downgrade", { skip: !etcdAtLeast(3, 6) }, async () => {});
 */
export function etcdAtLeast(major: number, minor: number, binary?: string): boolean {
  const [a = 0, b = 0] = etcdVersion(binary).split(".").map(Number);
  return a > major || (a === major && b >= minor);
}
