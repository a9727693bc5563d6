import type {
  DeleteResult,
  KeyValue,
  PutResult,
  RangeResult,
  ResponseHeader,
  TxnResult,
} from "../index.ts";
import type { GoJsonValue } from "./go-json.ts";
import type { Output } from "./output.ts";

/**
 * A response header as etcdctl's JSON has it.
 *
 * @example
 * out.json({ header: headerJson(result.header) });
 */
export function headerJson(header: ResponseHeader): GoJsonValue {
  return {
    cluster_id: header.clusterId,
    member_id: header.memberId,
    revision: header.revision,
    raft_term: header.raftTerm,
  };
}

/**
 * A key-value as etcdctl's JSON has it (key and value base64).
 *
 * @example
 * kvJson(kv); // { key: ..., create_revision: 2n, ... }
 */
export function kvJson(kv: KeyValue): GoJsonValue {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  };
}

/** JSON of a range (get) result. @example out.json(rangeJson(result)) */
export function rangeJson(result: RangeResult): GoJsonValue {
  return {
    header: headerJson(result.header),
    kvs: result.kvs.map(kvJson),
    more: result.more,
    count: result.count,
  };
}

/** JSON of a put result. @example out.json(putJson(result)) */
export function putJson(result: PutResult): GoJsonValue {
  return {
    header: headerJson(result.header),
    prev_kv: result.prevKv ? kvJson(result.prevKv) : undefined,
  };
}

/** JSON of a delete result. @example out.json(deleteJson(result)) */
export function deleteJson(result: DeleteResult): GoJsonValue {
  return {
    header: headerJson(result.header),
    deleted: result.deleted,
    prev_kvs: result.prevKvs.map(kvJson),
  };
}

/** JSON of a txn result, each response wrapped the way Go prints a oneof. @example out.json(txnJson(result)) */
export function txnJson(result: TxnResult): GoJsonValue {
  return {
    header: headerJson(result.header),
    succeeded: result.succeeded,
    responses: result.results.map((r) => {
      switch (r.kind) {
        case "range":
          return { Response: { response_range: rangeJson(r) } };
        case "put":
          return { Response: { response_put: putJson(r) } };
        case "delete":
          return { Response: { response_delete_range: deleteJson(r) } };
        case "txn":
          return { Response: { response_txn: txnJson(r) } };
      }
      return {};
    }),
  };
}

/**
 * Prints one key-value as etcdctl's simple format does: the key on one line, the value on the
 * next (only the value with `valueOnly`). Bytes are written unchanged.
 *
 * @example
 * printKeyValue(out, kv);
 */
export function printKeyValue(out: Output, kv: KeyValue, valueOnly = false): void {
  if (!valueOnly) out.bytesLine(kv.key);
  out.bytesLine(kv.value);
}

/** etcdctl's simple output of a get. @example printRange(out, result) */
export function printRange(out: Output, result: RangeResult, valueOnly = false): void {
  for (const kv of result.kvs) printKeyValue(out, kv, valueOnly);
}

/** etcdctl's simple output of a put: "OK", then the previous key-value if asked for. @example printPut(out, result) */
export function printPut(out: Output, result: PutResult): void {
  out.line("OK");
  if (result.prevKv) printKeyValue(out, result.prevKv);
}

/** etcdctl's simple output of a delete: the count, then the deleted key-values if asked for. @example printDelete(out, result) */
export function printDelete(out: Output, result: DeleteResult): void {
  out.line(String(result.deleted));
  for (const kv of result.prevKvs) printKeyValue(out, kv);
}

/** etcdctl's simple output of a txn: SUCCESS or FAILURE, then each response after a blank line. @example printTxn(out, result) */
export function printTxn(out: Output, result: TxnResult): void {
  out.line(result.succeeded ? "SUCCESS" : "FAILURE");
  for (const r of result.results) {
    out.line();
    if (r.kind === "range") printRange(out, r);
    else if (r.kind === "put") printPut(out, r);
    else if (r.kind === "delete") printDelete(out, r);
    else printTxn(out, r);
  }
}

/**
 * A response header's fields for the responses etcdctl prints flat (lease responses embed the
 * header in Go, so its fields sit at the top level).
 *
 * @example
 * out.json({ ...headerFields(renewal.header), ID: renewal.id, TTL: renewal.ttl });
 */
export function headerFields(header: ResponseHeader): Record<string, GoJsonValue> {
  return {
    cluster_id: header.clusterId,
    member_id: header.memberId,
    revision: header.revision,
    raft_term: header.raftTerm,
  };
}
