import type { Client } from "@connectrpc/connect";
import type {
  Auth,
  Cluster,
  KV,
  Lease,
  Maintenance,
  Watch,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import type { Election } from "../../gen/v3electionpb/v3election_pb.ts";
import type { Lock } from "../../gen/v3lockpb/v3lock_pb.ts";

/**
 * The generated Connect clients for every etcd service, over the client's endpoints (with its
 * failover, retries, deadlines and auth). For the wire surface the facade does not cover.
 *
 * @example
 * const res = await etcd.raw.maintenance.status({});
 */
export interface RawClients {
  kv: Client<typeof KV>;
  watch: Client<typeof Watch>;
  lease: Client<typeof Lease>;
  cluster: Client<typeof Cluster>;
  maintenance: Client<typeof Maintenance>;
  auth: Client<typeof Auth>;
  lock: Client<typeof Lock>;
  election: Client<typeof Election>;
}
