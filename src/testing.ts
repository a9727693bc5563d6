// etcd-connect/testing: throwaway etcd members and clusters for your own tests (node:test,
// vitest, or any runner with before/after hooks). Node.js only: it runs etcd with
// node:child_process. Not imported by the main entry point.
export type {
  AuthSetup,
  TestRole,
  TestUser,
} from "./testing/auth-setup.ts";
export {
  type GeneratedTls,
  type MemberSpec,
  TestCluster,
  type TestClusterOptions,
} from "./testing/cluster.ts";
export { etcdAtLeast, etcdBinary, etcdctlBinary, etcdVersion } from "./testing/etcd-binary.ts";
export { type SuiteHooks, type TestClusterFixture, useTestCluster } from "./testing/fixture.ts";
export { type ClusterTls, fetchText } from "./testing/http-probe.ts";
export { TestMember } from "./testing/member.ts";
export { type CertFiles, generatePki, hasOpenssl, type TestPki } from "./testing/pki.ts";
export { freePort } from "./testing/ports.ts";
