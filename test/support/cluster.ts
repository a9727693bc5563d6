// The project's test harness is etcd-connect/testing itself (src/testing/): one implementation.
// These are the names the project's tests have always used.
export {
  type MemberSpec,
  TestCluster as Cluster,
  type TestClusterOptions as ClusterOptions,
} from "../../src/testing/cluster.ts";
export { type ClusterTls, fetchText } from "../../src/testing/http-probe.ts";
export { TestMember as Member } from "../../src/testing/member.ts";
export { freePort } from "../../src/testing/ports.ts";
