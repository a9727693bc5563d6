export { type Closable, Etcd, type RawClients } from "./client.ts";
export {
  createConnectEndpointTransport,
  createLeanEndpointTransport,
  createSession,
  type EndpointConfig,
  type EndpointTransport,
  type TransportFactory,
} from "./connection/endpoint.ts";
export { createLeanTransport, type LeanTransportOptions } from "./connection/lean-transport.ts";
export { noRetryKey, PoolTransport, type TokenProvider } from "./connection/pool-transport.ts";
export * from "./errors.ts";
export { KeyValue, type ResponseHeader } from "./key-value.ts";
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
} from "./keys.ts";
export { type GetOptions, KV, type ListOptions } from "./kv.ts";
export type { Int64 } from "./numbers.ts";
export type { CallOptions, EtcdOptions, TlsOptions } from "./options.ts";
export type { CompactResult, DeleteResult, PutResult, RangeResult, TxnResult } from "./results.ts";
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
} from "./txn.ts";
