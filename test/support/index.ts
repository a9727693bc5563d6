import { after, afterEach, before } from "node:test";
import { Cluster, type ClusterOptions } from "./cluster.ts";

export {
  type CertFiles,
  generatePki,
  hasOpenssl,
  type TestPki,
} from "../../src/testing/pki.ts";
export { testClientOptions, testTransport } from "./client-options.ts";
export {
  Cluster,
  type ClusterOptions,
  type ClusterTls,
  fetchText,
  freePort,
  Member,
  type MemberSpec,
} from "./cluster.ts";
export {
  etcdAtLeast,
  etcdBinary,
  etcdctlBinary,
  etcdctlVersion,
  etcdutlBinary,
  etcdVersion,
  progressNotifyFlag,
  requireEtcdctl,
} from "./etcd-binary.ts";
export { etcdctl, etcdutl } from "./etcdctl.ts";
export { EtcdctlProcess, spawnEtcdctl } from "./etcdctl-process.ts";
export { type ExampleRun, type MarkdownBlock, runExample, tsBlocks } from "./markdown-examples.ts";
export { OtlpReceiver, type ReceivedSpan, serverTracingFlags } from "./otlp-receiver.ts";
export {
  CLI_ON_DENO,
  type Runtime,
  runtime,
  SNAPSHOT_ON_DENO,
  scriptArgs,
  signalChild,
  TLS_ON_DENO,
  testFileArgs,
  unsupportedOn,
} from "./runtime.ts";
export { settledStatus } from "./settled-status.ts";

/** Endpoints of an existing etcd to test against instead of spawning one (`ETCD_ENDPOINTS`). */
export function externalEndpoints(): string[] | undefined {
  const value = process.env.ETCD_ENDPOINTS;
  return value
    ? value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
}

/** What a test file gets from `useEtcd`: endpoints, plus the cluster when we spawned it. */
export interface EtcdFixture {
  endpoints: string[];
  /** Undefined when the tests run against `ETCD_ENDPOINTS`. */
  cluster: Cluster | undefined;
}

/**
 * Starts etcd before the file's tests and stops it after, also when a test fails; a failed test
 * prints the members' log tails. With `ETCD_ENDPOINTS` set (and `spawn` not forced) it uses those.
 *
 * @example
 * const etcd = useEtcd();
 * test("put", async () => { const client = new Etcd({ endpoints: etcd.endpoints }); ... });
 */
export function useEtcd(options: ClusterOptions & { spawn?: boolean } = {}): EtcdFixture {
  const fixture: EtcdFixture = { endpoints: [], cluster: undefined };
  before(async () => {
    const external = options.spawn ? undefined : externalEndpoints();
    if (external && (options.size ?? 1) === 1 && !options.tls && !options.args) {
      fixture.endpoints = external;
      return;
    }
    fixture.cluster = await Cluster.start(options);
    fixture.endpoints = fixture.cluster.endpoints;
  });
  afterEach((t) => {
    if ((t as { passed?: boolean }).passed === false && fixture.cluster) {
      process.stderr.write(
        `\netcd logs after failed test "${t.name}":\n${fixture.cluster.logs()}\n`,
      );
    }
  });
  after(async () => {
    await fixture.cluster?.stop();
  });
  return fixture;
}

/** A key prefix unique to this process and call, so tests never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `t/${process.pid}/${label}/${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}/`;
}
