import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * An error the gateway answered, as a `ConnectError` with etcd's gRPC code and message, so that
 * the facade maps it to the same `EtcdError` class as over gRPC. Takes both shapes etcd uses:
 * grpc-gateway v1 (etcd 3.4, 3.5) `{"error", "code", "message"}` and, inside streams,
 * `{"grpc_code", "http_code", "message"}`; grpc-gateway v2 (3.6+) `google.rpc.Status`
 * `{"code", "message", "details"}`. A body that is not JSON gets a code from the HTTP status.
 *
 * @example
 * throw gatewayError(400, '{"code":11,"message":"etcdserver: mvcc: required revision has been compacted"}');
 */
export function gatewayError(status: number, body: unknown, method?: DescMethod): ConnectError {
  const parsed = typeof body === "string" ? parseJson(body) : body;
  if (parsed !== null && typeof parsed === "object") {
    const fields = parsed as Record<string, unknown>;
    const code = numberField(fields.code) ?? numberField(fields.grpc_code);
    const message =
      stringField(fields.message) ?? stringField(fields.error) ?? `HTTP status ${status}`;
    // grpc-gateway's own "Not Found" is a route it lacks, not etcd's NotFound (lease not found).
    if (code !== undefined && message !== "Not Found")
      return new ConnectError(message, code as Code);
  }
  if (status === 404) {
    // No such route on this member's gateway: an etcd older than the RPC. Worded like gRPC's
    // answer so that the pool remembers the RPC as missing there.
    const rpc = method ? `${method.name} for service ${method.parent.typeName}` : "(gateway route)";
    return new ConnectError(`unknown method ${rpc}`, Code.Unimplemented);
  }
  const text =
    typeof body === "string" && body.length > 0 ? body.slice(0, 200) : `HTTP status ${status}`;
  return new ConnectError(text, httpStatusCode(status));
}

/** The gRPC code that an HTTP status without an etcd error body stands for. */
function httpStatusCode(status: number): Code {
  switch (status) {
    case 400:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 408:
    case 504:
      return Code.DeadlineExceeded;
    case 429:
      return Code.ResourceExhausted;
    case 501:
      return Code.Unimplemented;
    case 502:
    case 503:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function numberField(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
