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

/** True when this etcd binary accepts `--unsafe-no-fsync`. */
export function supportsNoFsync(binary: string): boolean {
  try {
    const help = execFileSync(binary, ["--help"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return help.includes("--unsafe-no-fsync");
  } catch (error) {
    // Some builds print help to stderr and exit non-zero.
    const output = `${(error as { stdout?: string }).stdout ?? ""}${(error as { stderr?: string }).stderr ?? ""}`;
    return output.includes("--unsafe-no-fsync");
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
