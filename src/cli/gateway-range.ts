import {
  type Int64,
  type KeyOrRange,
  KeyRange,
  key,
  type RangeOptions,
  type RangeResult,
  type ResponseHeader,
} from "../index.ts";
// The one class the public entry points export only as a type: built here from the gateway's
// JSON, as the client's decoder builds it from protobuf.
import { KeyValue } from "../kv/key-value.ts";
import { type GatewayAddress, type GatewayLimits, gatewayPost } from "./gateway-post.ts";

const SORT_ORDERS = { none: "NONE", ascend: "ASCEND", descend: "DESCEND" } as const;
const SORT_TARGETS = {
  key: "KEY",
  version: "VERSION",
  createRevision: "CREATE",
  modRevision: "MOD",
  value: "VALUE",
} as const;

/**
 * A range read over etcd's JSON gateway (`POST /v3/kv/range`): one HTTP/1.1 exchange, no HTTP/2
 * and no protobuf, which is what lets a one-off `get` start in about the time of Node itself.
 * The same request and the same `RangeResult` as `etcd.range`. Undefined whenever the gateway
 * gave no successful JSON answer (an etcd error, auth required, no gateway on that port, no
 * connection): the caller then reads through the client, which reports the outcome its own way.
 *
 * @example
 * const result = (await gatewayRange(address, prefix("cfg/"), {}, limits)) ?? (await etcd.range(prefix("cfg/")));
 */
export async function gatewayRange(
  address: GatewayAddress,
  target: KeyOrRange,
  options: RangeOptions,
  limits: GatewayLimits,
): Promise<RangeResult | undefined> {
  const body = rangeBody(target, options);
  if (body === undefined) return undefined;
  const answer = await gatewayPost(address, "/v3/kv/range", body, limits);
  if (answer?.status !== 200 || !answer.contentType.startsWith("application/json"))
    return undefined;
  try {
    return rangeResult(JSON.parse(answer.body.toString("utf8")));
  } catch {
    return undefined;
  }
}

/**
 * The RangeRequest as the gateway's JSON (proto field names, 64-bit integers as strings);
 * undefined for a limit or revision the client would refuse, so that it reports them.
 */
function rangeBody(target: KeyOrRange, options: RangeOptions): string | undefined {
  const range = target instanceof KeyRange ? target : key(target);
  const body: Record<string, string | boolean> = { key: base64(range.key) };
  if (range.rangeEnd.length > 0) body.range_end = base64(range.rangeEnd);
  for (const [name, value] of [
    ["limit", options.limit],
    ["revision", options.revision],
  ] as const) {
    if (value === undefined) continue;
    if (!isInt64(value)) return undefined;
    body[name] = String(value);
  }
  if (options.sortOrder !== undefined) body.sort_order = SORT_ORDERS[options.sortOrder];
  if (options.sortTarget !== undefined) body.sort_target = SORT_TARGETS[options.sortTarget];
  if (options.serializable) body.serializable = true;
  if (options.keysOnly) body.keys_only = true;
  if (options.countOnly) body.count_only = true;
  return JSON.stringify(body);
}

interface JsonHeader {
  cluster_id?: string;
  member_id?: string;
  revision?: string;
  raft_term?: string;
}

interface JsonKeyValue {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
  lease?: string;
}

/** The gateway's RangeResponse (zero values left out) as a `RangeResult`; throws on another shape. */
function rangeResult(json: {
  header?: JsonHeader;
  kvs?: JsonKeyValue[];
  more?: boolean;
  count?: string;
}): RangeResult {
  if (typeof json !== "object" || json === null || typeof json.header !== "object") {
    throw new TypeError("not a RangeResponse");
  }
  const header: ResponseHeader = {
    clusterId: int64(json.header.cluster_id),
    memberId: int64(json.header.member_id),
    revision: int64(json.header.revision),
    raftTerm: int64(json.header.raft_term),
  };
  const kvs = (json.kvs ?? []).map(
    (kv) =>
      new KeyValue(
        bytes(kv.key),
        bytes(kv.value),
        int64(kv.create_revision),
        int64(kv.mod_revision),
        int64(kv.version),
        int64(kv.lease),
      ),
  );
  if (json.more !== undefined && typeof json.more !== "boolean") throw new TypeError("bad more");
  return {
    kind: "range",
    header,
    revision: header.revision,
    kvs,
    more: json.more === true,
    count: int64(json.count),
  };
}

function isInt64(value: Int64): boolean {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0;
  return value >= 0n && value < 2n ** 63n;
}

function int64(value: unknown): bigint {
  if (value === undefined) return 0n;
  if (typeof value !== "string" && typeof value !== "number") throw new TypeError("bad integer");
  return BigInt(value);
}

function bytes(value: unknown): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (typeof value !== "string") throw new TypeError("bad bytes");
  const decoded = Buffer.from(value, "base64");
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length);
}

function base64(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.length).toString("base64");
}
