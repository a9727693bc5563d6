import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type CompareSchema,
  type DeleteRangeRequestSchema,
  type DeleteRangeResponse,
  type PutRequestSchema,
  type PutResponse,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeRequestSchema,
  type RangeResponse,
  type RequestOpSchema,
  type ResponseOp,
  type TxnRequestSchema,
  type TxnResponse,
} from "../../gen/etcdserverpb/rpc_pb.ts";
import { InvalidArgumentError } from "../core/errors.ts";
import { type Bytes, type KeyOrRange, toBytes, toKeyRange } from "../core/keys.ts";
import { leaseId, toInt64 } from "../core/numbers.ts";
import { toHeader, toKeyValue } from "./key-value.ts";
import type { Keyspace } from "./keyspace.ts";
import type { DeleteResult, PutResult, RangeResult, TxnResult } from "./results.ts";
import type {
  Compare,
  CompareOperator,
  DeleteOptions,
  Op,
  PutOptions,
  RangeOptions,
  TxnRequest,
} from "./txn.ts";

type RangeInit = MessageInitShape<typeof RangeRequestSchema>;
type PutInit = MessageInitShape<typeof PutRequestSchema>;
type DeleteInit = MessageInitShape<typeof DeleteRangeRequestSchema>;
type TxnInit = MessageInitShape<typeof TxnRequestSchema>;
type CompareInit = MessageInitShape<typeof CompareSchema>;
type RequestOpInit = MessageInitShape<typeof RequestOpSchema>;

const sortOrders = {
  none: RangeRequest_SortOrder.NONE,
  ascend: RangeRequest_SortOrder.ASCEND,
  descend: RangeRequest_SortOrder.DESCEND,
} as const;

const sortTargets = {
  key: RangeRequest_SortTarget.KEY,
  version: RangeRequest_SortTarget.VERSION,
  createRevision: RangeRequest_SortTarget.CREATE,
  modRevision: RangeRequest_SortTarget.MOD,
  value: RangeRequest_SortTarget.VALUE,
} as const;

const operators: Record<CompareOperator, Compare_CompareResult> = {
  "=": Compare_CompareResult.EQUAL,
  "!=": Compare_CompareResult.NOT_EQUAL,
  ">": Compare_CompareResult.GREATER,
  "<": Compare_CompareResult.LESS,
};

/** A range read as a wire request. @example rangeRequest(prefix("a/"), { limit: 5 }, keyspace) */
export function rangeRequest(
  target: KeyOrRange,
  options: RangeOptions,
  keyspace: Keyspace,
): RangeInit {
  const range = keyspace.encodeRange(toKeyRange(target));
  const request: RangeInit = { key: range.key, rangeEnd: range.rangeEnd };
  if (options.limit !== undefined) request.limit = toInt64(options.limit, "limit");
  if (options.revision !== undefined) request.revision = toInt64(options.revision, "revision");
  if (options.sortOrder !== undefined) {
    const order = sortOrders[options.sortOrder];
    if (order === undefined)
      throw new InvalidArgumentError(`unknown sortOrder "${options.sortOrder}"`);
    request.sortOrder = order;
  }
  if (options.sortTarget !== undefined) {
    const sortTarget = sortTargets[options.sortTarget];
    if (sortTarget === undefined)
      throw new InvalidArgumentError(`unknown sortTarget "${options.sortTarget}"`);
    request.sortTarget = sortTarget;
  }
  if (options.serializable) request.serializable = true;
  if (options.keysOnly) request.keysOnly = true;
  if (options.countOnly) request.countOnly = true;
  if (options.minModRevision !== undefined)
    request.minModRevision = toInt64(options.minModRevision, "minModRevision");
  if (options.maxModRevision !== undefined)
    request.maxModRevision = toInt64(options.maxModRevision, "maxModRevision");
  if (options.minCreateRevision !== undefined) {
    request.minCreateRevision = toInt64(options.minCreateRevision, "minCreateRevision");
  }
  if (options.maxCreateRevision !== undefined) {
    request.maxCreateRevision = toInt64(options.maxCreateRevision, "maxCreateRevision");
  }
  return request;
}

/** A put as a wire request, checked. @example putRequest("k", "v", {}, keyspace) */
export function putRequest(
  key: Bytes,
  value: Bytes,
  options: PutOptions,
  keyspace: Keyspace,
): PutInit {
  const keyBytes = toBytes(key, "key");
  if (keyBytes.length === 0) throw new InvalidArgumentError("key must not be empty");
  const valueBytes = toBytes(value, "value");
  const request: PutInit = { key: keyspace.encodeKey(keyBytes), value: valueBytes };
  if (options.lease !== undefined) {
    if (options.ignoreLease)
      throw new InvalidArgumentError("lease must not be set together with ignoreLease");
    request.lease = leaseId(options.lease);
  }
  if (options.prevKv) request.prevKv = true;
  if (options.ignoreValue) {
    if (valueBytes.length !== 0)
      throw new InvalidArgumentError("value must be empty with ignoreValue");
    request.ignoreValue = true;
  }
  if (options.ignoreLease) request.ignoreLease = true;
  return request;
}

/** A delete as a wire request. @example deleteRequest(prefix("tmp/"), {}, keyspace) */
export function deleteRequest(
  target: KeyOrRange,
  options: DeleteOptions,
  keyspace: Keyspace,
): DeleteInit {
  const range = keyspace.encodeRange(toKeyRange(target));
  const request: DeleteInit = { key: range.key, rangeEnd: range.rangeEnd };
  if (options.prevKv) request.prevKv = true;
  return request;
}

function compareRequest(condition: Compare, keyspace: Keyspace): CompareInit {
  const range = keyspace.encodeRange(toKeyRange(condition.key));
  const result = operators[condition.operator];
  if (result === undefined)
    throw new InvalidArgumentError(`unknown compare operator "${condition.operator}"`);
  const base = { key: range.key, rangeEnd: range.rangeEnd, result };
  switch (condition.target) {
    case "value":
      return {
        ...base,
        target: Compare_CompareTarget.VALUE,
        targetUnion: { case: "value", value: toBytes(condition.operand, "compare value") },
      };
    case "version":
      return {
        ...base,
        target: Compare_CompareTarget.VERSION,
        targetUnion: { case: "version", value: toInt64(condition.operand, "compare version") },
      };
    case "createRevision":
      return {
        ...base,
        target: Compare_CompareTarget.CREATE,
        targetUnion: {
          case: "createRevision",
          value: toInt64(condition.operand, "compare createRevision"),
        },
      };
    case "modRevision":
      return {
        ...base,
        target: Compare_CompareTarget.MOD,
        targetUnion: {
          case: "modRevision",
          value: toInt64(condition.operand, "compare modRevision"),
        },
      };
    case "lease":
      return {
        ...base,
        target: Compare_CompareTarget.LEASE,
        targetUnion: { case: "lease", value: toInt64(condition.operand, "compare lease") },
      };
    default:
      throw new InvalidArgumentError(
        `unknown compare target "${(condition as { target: string }).target}"`,
      );
  }
}

function requestOp(operation: Op, keyspace: Keyspace): RequestOpInit {
  switch (operation.type) {
    case "range":
      return {
        request: {
          case: "requestRange",
          value: rangeRequest(operation.key, operation.options, keyspace),
        },
      };
    case "put":
      return {
        request: {
          case: "requestPut",
          value: putRequest(operation.key, operation.value, operation.options, keyspace),
        },
      };
    case "delete":
      return {
        request: {
          case: "requestDeleteRange",
          value: deleteRequest(operation.key, operation.options, keyspace),
        },
      };
    case "txn":
      return { request: { case: "requestTxn", value: txnRequest(operation.request, keyspace) } };
    default:
      throw new InvalidArgumentError(
        `unknown txn operation "${(operation as { type: string }).type}"`,
      );
  }
}

/** A transaction as a wire request, nested ones included. @example txnRequest({ success: [op.put("k", "v")] }, ks) */
export function txnRequest(request: TxnRequest, keyspace: Keyspace): TxnInit {
  if (typeof request !== "object" || request === null) {
    throw new InvalidArgumentError("txn expects { compare, success, failure }");
  }
  return {
    compare: (request.compare ?? []).map((c) => compareRequest(c, keyspace)),
    success: (request.success ?? []).map((o) => requestOp(o, keyspace)),
    failure: (request.failure ?? []).map((o) => requestOp(o, keyspace)),
  };
}

/** A wire range response as a `RangeResult`. @example toRangeResult(response, keyspace) */
export function toRangeResult(response: RangeResponse, keyspace: Keyspace): RangeResult {
  const header = toHeader(response.header);
  const wire = response.kvs;
  const kvs = new Array(wire.length);
  for (let i = 0; i < wire.length; i++)
    kvs[i] = toKeyValue(wire[i] as (typeof wire)[number], keyspace);
  return {
    kind: "range",
    header,
    revision: header.revision,
    kvs,
    more: response.more,
    count: response.count,
  };
}

/** A wire put response as a `PutResult`. @example toPutResult(response, keyspace) */
export function toPutResult(response: PutResponse, keyspace: Keyspace): PutResult {
  const header = toHeader(response.header);
  return {
    kind: "put",
    header,
    revision: header.revision,
    prevKv: response.prevKv ? toKeyValue(response.prevKv, keyspace) : undefined,
  };
}

/** A wire delete response as a `DeleteResult`. @example toDeleteResult(response, keyspace) */
export function toDeleteResult(response: DeleteRangeResponse, keyspace: Keyspace): DeleteResult {
  const header = toHeader(response.header);
  return {
    kind: "delete",
    header,
    revision: header.revision,
    deleted: response.deleted,
    prevKvs: response.prevKvs.map((kv) => toKeyValue(kv, keyspace)),
  };
}

function toOpResult(response: ResponseOp, keyspace: Keyspace): TxnResult["results"][number] {
  const r = response.response;
  switch (r.case) {
    case "responseRange":
      return toRangeResult(r.value, keyspace);
    case "responsePut":
      return toPutResult(r.value, keyspace);
    case "responseDeleteRange":
      return toDeleteResult(r.value, keyspace);
    case "responseTxn":
      return toTxnResult(r.value, keyspace);
    default:
      throw new InvalidArgumentError("etcd returned an empty txn operation result");
  }
}

/** A wire txn response as a `TxnResult`. @example toTxnResult(response, keyspace) */
export function toTxnResult(response: TxnResponse, keyspace: Keyspace): TxnResult {
  const header = toHeader(response.header);
  return {
    kind: "txn",
    header,
    revision: header.revision,
    succeeded: response.succeeded,
    results: response.responses.map((r) => toOpResult(r, keyspace)),
  };
}
