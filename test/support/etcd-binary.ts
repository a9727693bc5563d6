import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { etcdAtLeast, etcdBinary } from "../../src/testing/etcd-binary.ts";

export { etcdAtLeast, etcdBinary, etcdVersion } from "../../src/testing/etcd-binary.ts";

const projectRoot = resolve(import.meta.dirname, "../..");

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Where `scripts/install-etcd.sh` unpacks etcd 3.7.1's tools. */
const cachedEtcdctl371 = join(projectRoot, ".cache/etcd/3.7.1/etcdctl");

/**
 * The etcdctl the tests compare with: `ETCDCTL_BIN`, else etcdctl 3.7.1 from the project's
 * cache (`scripts/install-etcd.sh` puts it there; it speaks to every line, and the CLI follows
 * its formats), else beside the etcd binary, else on PATH.
 */
export function etcdctlBinary(): string {
  const fromEnv = process.env.ETCDCTL_BIN;
  if (fromEnv) return fromEnv;
  if (existsSync(cachedEtcdctl371)) return cachedEtcdctl371;
  const beside = join(dirname(etcdBinary()), "etcdctl");
  if (existsSync(beside)) return beside;
  const found = onPath("etcdctl");
  if (found) return found;
  throw new Error("etcdctl not found: set ETCDCTL_BIN or run scripts/install-etcd.sh");
}

/**
 * `etcdutl` (offline snapshot tool, etcd 3.5+): `ETCDUTL_BIN`, else beside etcdctl, else beside
 * the etcd binary, else on PATH.
 */
export function etcdutlBinary(): string {
  const fromEnv = process.env.ETCDUTL_BIN;
  if (fromEnv) return fromEnv;
  for (const dir of [dirname(etcdctlBinary()), dirname(etcdBinary())]) {
    const beside = join(dir, "etcdutl");
    if (existsSync(beside)) return beside;
  }
  const found = onPath("etcdutl");
  if (found) return found;
  throw new Error("etcdutl not found: set ETCDUTL_BIN or ETCDCTL_BIN to etcd 3.7.1's tools");
}

/** The etcdctl version, such as "3.7.1". */
export function etcdctlVersion(): string {
  const out = execFileSync(etcdctlBinary(), ["version"], { encoding: "utf8" });
  return /etcdctl version: (\S+)/.exec(out)?.[1] ?? "unknown";
}

/**
 * Fails unless the etcdctl under test is `version`: the CLI tests compare our output byte for
 * byte with that release's, whatever the server line.
 *
 * @example
 * before(() => requireEtcdctl("3.7.1"));
 */
export function requireEtcdctl(version: string): void {
  const found = etcdctlVersion();
  if (found !== version) {
    throw new Error(
      `the CLI tests compare with etcdctl ${version}, found ${found} (${etcdctlBinary()}): set ` +
        `ETCDCTL_BIN to the etcdctl beside \`scripts/install-etcd.sh --print ${version}\``,
    );
  }
}

/**
 * The flag that makes etcd send watch progress notifications every `interval` (such as "1s"):
 * 3.6 renamed etcd's `--experimental-*` flags and 3.7 removed the old names.
 */
export function progressNotifyFlag(interval: string): string {
  const name = etcdAtLeast(3, 6)
    ? "--watch-progress-notify-interval"
    : "--experimental-watch-progress-notify-interval";
  return `${name}=${interval}`;
}
