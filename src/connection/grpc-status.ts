import type { IncomingHttpHeaders, IncomingHttpStatusHeader } from "node:http2";
import { BinaryReader, base64Decode, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { errorText } from "../core/error-text.ts";

/** HTTP/2 RST_STREAM and GOAWAY error codes the client acts on. */
export const H2 = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 11,
  INADEQUATE_SECURITY: 12,
  HTTP_1_1_REQUIRED: 13,
} as const;

/**
 * Marks an error cause that proves the request never reached the server; `neverLeft()` in the
 * retry policy recognizes it, so even writes may be sent again.
 *
 * @example
 * new ConnectError("session gone", Code.Unavailable, undefined, undefined, notSent(err));
 */
export function notSent(cause: unknown, message = "request was not sent"): Error {
  return Object.assign(new Error(message, { cause }), { notSent: true });
}

/** One header value (the first, when repeated). */
function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const utf8 = new TextDecoder();

/**
 * Decodes `grpc-message`: gRPC percent-encodes "%" and every byte outside printable ASCII of
 * the UTF-8 message. Bytes that are not valid UTF-8 become U+FFFD; a "%" not followed by two
 * hex digits is kept as is.
 *
 * @example
 * percentDecode("caf%C3%A9 100%25"); // "café 100%"
 */
export function percentDecode(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < value.length && isHex(value, i + 1) && isHex(value, i + 2)) {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x100) {
      // node:http2 hands header bytes over as latin1 characters.
      bytes.push(c);
    } else {
      for (const b of Buffer.from(value[i] as string, "utf8")) bytes.push(b);
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

function isHex(value: string, at: number): boolean {
  const c = value.charCodeAt(at);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Response headers or trailers as a WHATWG `Headers`, pseudo-headers dropped. Only built when
 * someone asks for them.
 *
 * @example
 * const header = toHeaders(rawResponseHeaders);
 */
export function toHeaders(raw: IncomingHttpHeaders | undefined): Headers {
  const headers = new Headers();
  if (!raw) return headers;
  for (const name of Object.keys(raw)) {
    if (name.charCodeAt(0) === 58 /* ":" */) continue;
    const value = raw[name];
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/**
 * A `google.rpc.Status` from `grpc-status-details-bin` (base64, padding optional): code, message
 * and the packed details, each as its type name and bytes (Connect's `ConnectError.details`).
 *
 * @example
 * const status = decodeStatusDetails(trailers["grpc-status-details-bin"]);
 */
export function decodeStatusDetails(value: string): {
  code: number;
  message: string;
  details: { type: string; value: Uint8Array }[];
} {
  const reader = new BinaryReader(base64Decode(value));
  let code = 0;
  let message = "";
  const details: { type: string; value: Uint8Array }[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) code = reader.int32();
    else if (field === 2 && wireType === WireType.LengthDelimited) message = reader.string();
    else if (field === 3 && wireType === WireType.LengthDelimited) {
      const any = new BinaryReader(reader.bytes());
      let typeUrl = "";
      let bytes: Uint8Array = new Uint8Array(0);
      while (any.pos < any.len) {
        const [f, w] = any.tag();
        if (f === 1 && w === WireType.LengthDelimited) typeUrl = any.string();
        else if (f === 2 && w === WireType.LengthDelimited) bytes = any.bytes();
        else any.skip(w);
      }
      details.push({ type: typeUrl.slice(typeUrl.lastIndexOf("/") + 1), value: bytes });
    } else reader.skip(wireType);
  }
  return { code, message, details };
}

/**
 * The error a gRPC status in headers or trailers stands for, or undefined for OK. Prefers
 * `grpc-status-details-bin` (it carries details), then `grpc-status` and `grpc-message`. The
 * error's metadata are the given fields.
 *
 * @example
 * const error = statusError(trailers);
 */
export function statusError(raw: IncomingHttpHeaders): ConnectError | undefined {
  const bin = first(raw["grpc-status-details-bin"]);
  if (bin !== undefined) {
    try {
      const status = decodeStatusDetails(bin);
      if (status.code === 0) return undefined;
      const error = new ConnectError(
        status.message,
        status.code in Code ? status.code : Code.Unknown,
        toHeaders(raw),
      );
      error.details = status.details;
      error.isWireError = true;
      return error;
    } catch {
      // A broken details field: fall back to grpc-status below.
    }
  }
  const status = first(raw["grpc-status"]);
  if (status === undefined || status === "0") return undefined;
  const code = Number(status);
  const known = Number.isInteger(code) && code in Code;
  const error = known
    ? new ConnectError(percentDecode(first(raw["grpc-message"]) ?? ""), code, toHeaders(raw))
    : new ConnectError(`invalid grpc-status: ${status}`, Code.Internal, toHeaders(raw));
  error.isWireError = true;
  return error;
}

/**
 * The gRPC code for a non-200 HTTP status (gRPC's HTTP-to-gRPC status mapping).
 *
 * @example
 * codeFromHttpStatus(503); // Code.Unavailable
 */
export function codeFromHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.Internal;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      return Code.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.Unavailable;
    default:
      return Code.Unknown;
  }
}

const rstNames: Record<number, string> = Object.fromEntries(
  Object.entries(H2).map(([name, value]) => [value, name]),
);

/**
 * The error for a stream the server reset before a gRPC status arrived. REFUSED_STREAM means the
 * server did not process the request (marked as never sent); a reset without a status otherwise
 * means the member went away mid-call: Unavailable, the call may or may not have been applied.
 *
 * @example
 * const error = resetError(stream.rstCode);
 */
export function resetError(rstCode: number, cause?: unknown): ConnectError {
  const name = rstNames[rstCode] ?? `0x${rstCode.toString(16)}`;
  const message = `stream reset by the server with ${name} before a gRPC status`;
  switch (rstCode) {
    case H2.REFUSED_STREAM:
      return new ConnectError(message, Code.Unavailable, undefined, undefined, notSent(cause));
    case H2.ENHANCE_YOUR_CALM:
      return new ConnectError(message, Code.ResourceExhausted, undefined, undefined, cause);
    case H2.INADEQUATE_SECURITY:
    case H2.HTTP_1_1_REQUIRED:
      return new ConnectError(message, Code.PermissionDenied, undefined, undefined, cause);
    case H2.PROTOCOL_ERROR:
    case H2.FLOW_CONTROL_ERROR:
    case H2.FRAME_SIZE_ERROR:
    case H2.COMPRESSION_ERROR:
      return new ConnectError(message, Code.Internal, undefined, undefined, cause);
    default:
      return new ConnectError(message, Code.Unavailable, undefined, undefined, cause);
  }
}

/** How a gRPC call's HTTP/2 stream ended: what arrived, and the stream's error and reset code. */
export interface StreamEnding {
  readonly authority: string;
  readonly headers: (IncomingHttpHeaders & IncomingHttpStatusHeader) | undefined;
  /** The response headers carried END_STREAM (a trailers-only response). */
  readonly headersEnded: boolean;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly streamError: unknown;
  readonly rstCode: number;
}

/**
 * The error a gRPC call's ending means, or undefined for an OK status: HTTP status, content
 * type, trailers-only errors and `grpc-status-details-bin`, or, without a status, a lost
 * connection (Unavailable; a GOAWAY proves the request was not sent) or the server's reset.
 * Shared by the lean transport's unary calls and frame streams.
 *
 * @example
 * const error = endingError({ authority, headers, headersEnded, trailers, streamError, rstCode });
 */
export function endingError(ending: StreamEnding): ConnectError | undefined {
  const { headers, trailers } = ending;
  if (headers === undefined) return lostStream(ending, "before response headers");
  const httpStatus = headers[":status"];
  if (httpStatus !== 200) {
    return new ConnectError(
      `HTTP status ${String(httpStatus)} from ${ending.authority}`,
      codeFromHttpStatus(httpStatus ?? 0),
      toHeaders(headers),
    );
  }
  const contentType = headers["content-type"];
  if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
    return new ConnectError(
      `unexpected content-type "${String(contentType)}"`,
      Code.Unknown,
      toHeaders(headers),
    );
  }
  const status = trailers ?? (ending.headersEnded ? headers : undefined);
  if (status === undefined) return lostStream(ending, "before the gRPC status");
  const error = statusError(status);
  if (error) {
    if (trailers) {
      toHeaders(headers).forEach((value, name) => {
        if (!error.metadata.has(name)) error.metadata.set(name, value);
      });
    }
    return error;
  }
  if (status["grpc-status"] === undefined) {
    return new ConnectError("gRPC status missing in trailers", Code.Internal, toHeaders(status));
  }
  return undefined;
}

/**
 * The stream ended without a status. With a stream error the connection went away (reset,
 * killed member, GOAWAY): Unavailable, the request may or may not have been applied, unless
 * the error proves it was not sent. Without one, the server reset the stream.
 */
function lostStream(ending: StreamEnding, when: string): ConnectError {
  const cause = ending.streamError;
  if (cause === undefined) {
    if (ending.rstCode !== H2.NO_ERROR) return resetError(ending.rstCode);
    return new ConnectError(`stream ended ${when}`, Code.Internal);
  }
  if (ending.rstCode === H2.REFUSED_STREAM) return resetError(ending.rstCode, cause);
  const code = (cause as { code?: unknown }).code;
  return new ConnectError(
    `connection to ${ending.authority} lost ${when}: ${errorText(cause)}`,
    Code.Unavailable,
    undefined,
    undefined,
    code === "ERR_HTTP2_GOAWAY_SESSION" ? notSent(cause) : cause,
  );
}
