export {
  AuthClient,
  type AuthStatus,
  type Permission,
  type PermissionType,
  type Role,
  type User,
} from "./auth/auth.ts";
export { type Closable, type CloseContext, Etcd, type RawClients } from "./client/etcd.ts";
export { Namespace } from "./client/namespace.ts";
export type { EtcdOptions } from "./client/options.ts";
export {
  ClusterClient,
  type Member,
  type MemberAddResult,
  type MemberListResult,
} from "./cluster/cluster.ts";
export { Election, ElectionObserver } from "./concurrency/election.ts";
export { ElectionService, type LeaderKey } from "./concurrency/election-service.ts";
export { LockService, type ServerLock } from "./concurrency/lock-service.ts";
export { Mutex } from "./concurrency/mutex.ts";
export {
  DEFAULT_SESSION_TTL,
  openSession,
  Session,
  type SessionOptions,
} from "./concurrency/session.ts";
export {
  type Isolation,
  runStm,
  type StmOptions,
  type StmResult,
  type StmTransaction,
} from "./concurrency/stm.ts";
export { type Authenticate, PasswordAuth, StaticToken } from "./connection/auth-token.ts";
export {
  createConnectEndpointTransport,
  createLeanEndpointTransport,
  createSession,
  type EndpointConfig,
  type EndpointTransport,
  type TransportFactory,
} from "./connection/endpoint.ts";
export { createLeanTransport, type LeanTransportOptions } from "./connection/lean-transport.ts";
export {
  endpointKey,
  isStaleTokenError,
  noAuthKey,
  noRetryKey,
  PoolTransport,
  type TokenProvider,
} from "./connection/pool-transport.ts";
export type { TlsOptions } from "./connection/tls-options.ts";
export type { CallOptions } from "./core/call-options.ts";
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
  toKeyRange,
  toText,
} from "./core/keys.ts";
export type { Int64 } from "./core/numbers.ts";
export type { TlsFailure, TlsFailureReason } from "./core/tls-errors.ts";
export { KeyValue, type ResponseHeader } from "./kv/key-value.ts";
export { type GetOptions, KV, type ListOptions } from "./kv/kv.ts";
export type {
  CompactResult,
  DeleteResult,
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
export { Lease, type LeaseState } from "./lease/lease.ts";
export {
  type GrantOptions,
  LeaseClient,
  type LeaseRenewal,
  type LeaseTimeToLive,
} from "./lease/lease-client.ts";
export {
  type Alarm,
  type AlarmKind,
  type EndpointOptions,
  type EndpointStatus,
  type HashKVResult,
  type HashResult,
  MaintenanceClient,
  type MemberStatus,
  type SnapshotOptions,
  type SnapshotProgress,
  type SnapshotResult,
  type SnapshotTarget,
} from "./maintenance/maintenance.ts";
export type { WatchBatch, WatchEvent } from "./watch/events.ts";
export { DEFAULT_MAX_BUFFERED_EVENTS, WatchStream } from "./watch/watch-stream.ts";
export { Watcher, type WatchOptions } from "./watch/watcher.ts";
