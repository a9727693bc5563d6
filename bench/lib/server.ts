/**
 * A fresh single-member etcd for one benchmark run (the test harness's `Cluster`), with
 * `--unsafe-no-fsync` when the binary knows it, so the throughput rows measure clients rather
 * than the disk.
 */
import { execFileSync } from "node:child_process";
import { Cluster, etcdBinary, etcdVersion } from "../../test/support/index.ts";

/** The running server and what the report says about it. */
export interface BenchServer {
  cluster: Cluster;
  endpoints: string[];
  binary: string;
  version: string;
  noFsync: boolean;
  stop(): Promise<void>;
}

/**
 * True when this etcd binary accepts `--unsafe-no-fsync` (3.4.23 has it without listing it in
 * `--help`): flags are parsed before `--version` answers, and an unknown flag fails.
 */
export function supportsNoFsync(binary: string): boolean {
  try {
    execFileSync(binary, ["--unsafe-no-fsync", "--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Starts etcd with a generous backend quota and, when supported, without fsync. */
export async function startServer(): Promise<BenchServer> {
  const binary = etcdBinary();
  const noFsync = supportsNoFsync(binary);
  const cluster = await Cluster.start({
    args: [
      ...(noFsync ? ["--unsafe-no-fsync"] : []),
      "--quota-backend-bytes=8589934592",
      "--auto-compaction-retention=0",
    ],
  });
  return {
    cluster,
    endpoints: cluster.endpoints,
    binary,
    version: etcdVersion(),
    noFsync,
    stop: () => cluster.stop(),
  };
}
