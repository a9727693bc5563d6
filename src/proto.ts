// etcd-connect/proto: the generated service descriptors and message types of etcd's API, for
// `etcd.client(Service)`, `createClient(Service, etcd.transport)` and `etcd.raw`.
export * from "../gen/authpb/auth_pb.ts";
export * from "../gen/etcdserverpb/rpc_pb.ts";
export * from "../gen/grpc/health/v1/health_pb.ts";
export * from "../gen/mvccpb/kv_pb.ts";
export * from "../gen/v3electionpb/v3election_pb.ts";
export * from "../gen/v3lockpb/v3lock_pb.ts";
