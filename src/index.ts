// The application API of etcd-connect. Transport-level parts are in "etcd-connect/transport",
// the generated descriptors and messages in "etcd-connect/proto".
export type {
  AuthClient,
  AuthStatus,
  Permission,
  PermissionType,
  Role,
  RoleListResult,
  User,
  UserListResult,
} from "./auth/auth.ts";
export type { CacheChange } from "./cache/cache-change.ts";
export type { CacheOptions, CacheRangeResult, WatchCache } from "./cache/watch-cache.ts";
export { Etcd } from "./client/etcd.ts";
export type { EtcdClient } from "./client/etcd-client.ts";
export type { KeyspaceView } from "./client/keyspace-view.ts";
export type { Namespace } from "./client/namespace.ts";
export type { EtcdOptions } from "./client/options.ts";
export type { RawClients } from "./client/raw-clients.ts";
export type {
  ClusterClient,
  Member,
  MemberAddResult,
  MemberListResult,
} from "./cluster/cluster.ts";
export type { Election, ElectionObserver } from "./concurrency/election.ts";
export type { ElectionService, LeaderKey } from "./concurrency/election-service.ts";
export type { LockService, ServerLock } from "./concurrency/lock-service.ts";
export type { Mutex } from "./concurrency/mutex.ts";
export type { Barrier } from "./concurrency/recipes/barrier.ts";
export type { DoubleBarrier } from "./concurrency/recipes/double-barrier.ts";
export type { PriorityQueue } from "./concurrency/recipes/priority-queue.ts";
export type { Queue } from "./concurrency/recipes/queue.ts";
export type { RWMutex } from "./concurrency/recipes/rw-mutex.ts";
export { DEFAULT_SESSION_TTL, type Session, type SessionOptions } from "./concurrency/session.ts";
export type { SessionHandle } from "./concurrency/session-handle.ts";
export type { Isolation, StmOptions, StmResult, StmTransaction } from "./concurrency/stm.ts";
export { ConfigValueError } from "./config/config-error.ts";
export type { ConfigOptions, LiveConfig } from "./config/live-config.ts";
export type {
  InferOutput,
  StandardSchema,
  StandardSchemaIssue,
  StandardSchemaResult,
} from "./config/standard-schema.ts";
export type { TransportFactory } from "./connection/endpoint.ts";
export type { TlsOptions } from "./connection/tls-options.ts";
export type { CallOptions } from "./core/call-options.ts";
export type { Closable, CloseContext } from "./core/closable.ts";
export * from "./core/errors.ts";
export {
  all,
  type Bytes,
  fromKey,
  type KeyOrRange,
  KeyRange,
  key,
  prefix,
  prefixEnd,
  range,
  toBytes,
  toText,
} from "./core/keys.ts";
export type { Int64, LeaseLike } from "./core/numbers.ts";
export type { TlsFailure, TlsFailureReason } from "./core/tls-errors.ts";
export type { CallTrace } from "./diagnostics/call-trace.ts";
export {
  type CallRetryMessage,
  type ConnectionMessage,
  diagnosticsChannels,
  type EndpointAsideMessage,
  type EndpointBackMessage,
  type LeaseLostMessage,
  type LeaseRenewedMessage,
  type TokenMessage,
  type WatchEventsMessage,
  type WatchOpenMessage,
  type WatchResumeMessage,
} from "./diagnostics/channels.ts";
export type { Logger } from "./diagnostics/logger.ts";
export {
  decodeEndpoint,
  encodeEndpoint,
  type ServiceEndpoint,
} from "./discovery/endpoint-format.ts";
export type { RegisterOptions, Registration } from "./discovery/registration.ts";
export type {
  DiscoverOptions,
  EndpointUpdate,
  ServiceDiscovery,
} from "./discovery/service-discovery.ts";
export type { KeyValue, ResponseHeader } from "./kv/key-value.ts";
export type { CompactOptions, GetOptions, KV, ListOptions } from "./kv/kv.ts";
export type {
  CompactResult,
  DeleteResult,
  HeaderResult,
  PutResult,
  RangeResult,
  TxnResult,
} from "./kv/results.ts";
export {
  type Compare,
  type CompareOperator,
  type CompareTarget,
  compare,
  type DeleteOptions,
  type Op,
  op,
  type PutOptions,
  type RangeOptions,
  type TxnRequest,
} from "./kv/txn.ts";
export type { KeepAliveStats } from "./lease/keep-alive.ts";
export type { Lease, LeaseState } from "./lease/lease.ts";
export type { GrantOptions, LeaseClient } from "./lease/lease-client.ts";
export type { LeaseListResult, LeaseRenewal, LeaseTimeToLive } from "./lease/results.ts";
export type { DowngradeResult, DowngradeState } from "./maintenance/downgrade.ts";
export type {
  Alarm,
  AlarmKind,
  AlarmListResult,
  DefragmentOptions,
  EndpointOptions,
  EndpointStatus,
  HashKVResult,
  HashResult,
  MaintenanceClient,
  MemberStatus,
  SnapshotOptions,
  SnapshotProgress,
  SnapshotResult,
} from "./maintenance/maintenance.ts";
export type { SnapshotTarget } from "./maintenance/snapshot-target.ts";
export type { WatchBatch, WatchEvent } from "./watch/events.ts";
export { DEFAULT_MAX_BUFFERED_EVENTS } from "./watch/watch-stream.ts";
export type { Watcher, WatchOptions } from "./watch/watcher.ts";
