import { toText } from "../core/keys.ts";

/**
 * One instance of a service, as Go's `client/v3/naming/endpoints` stores it: the address to
 * connect to, and optional metadata (any JSON value).
 *
 * @example
 * const endpoint: ServiceEndpoint = { addr: "10.0.0.7:8080", metadata: { zone: "b" } };
 */
export interface ServiceEndpoint {
  readonly addr: string;
  readonly metadata?: unknown;
}

/**
 * The value Go's endpoints manager writes for an added endpoint, byte for byte as Go's
 * `encoding/json` marshals its `Update{Op, Addr, Metadata}` struct: fields in that order,
 * `Op` 0 (Add), `Metadata` null when absent, object keys sorted (Go marshals the
 * `map[string]any` it decodes metadata into with sorted keys), and `<`, `>`, `&`, U+2028 and
 * U+2029 escaped as Go escapes them.
 *
 * @example
 * encodeEndpoint({ addr: "10.0.0.7:8080" }); // {"Op":0,"Addr":"10.0.0.7:8080","Metadata":null}
 */
export function encodeEndpoint(endpoint: ServiceEndpoint): string {
  const metadata = endpoint.metadata === undefined ? null : endpoint.metadata;
  return `{"Op":0,"Addr":${goString(endpoint.addr)},"Metadata":${goJson(metadata)}}`;
}

/**
 * Reads a value in Go's endpoints format. Like Go's `json.Unmarshal` into its struct, field
 * names match without regard to case and unknown fields are ignored. Throws on a value that is
 * not a JSON object, or whose `Addr` is not a string.
 *
 * @example
 * decodeEndpoint(kv.value); // { addr: "10.0.0.7:8080", metadata: null }
 */
export function decodeEndpoint(value: Uint8Array): ServiceEndpoint {
  const parsed: unknown = JSON.parse(toText(value));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new TypeError("an endpoint value must be a JSON object");
  }
  let addr: unknown = "";
  let metadata: unknown = null;
  for (const [name, field] of Object.entries(parsed)) {
    const lower = name.toLowerCase();
    if (lower === "addr") addr = field;
    else if (lower === "metadata") metadata = field;
  }
  if (typeof addr !== "string") throw new TypeError("an endpoint's Addr must be a string");
  return { addr, metadata };
}

function goJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return goString(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(goJson).join(",")}]`;
  if (typeof value === "object") {
    const json = (value as { toJSON?: () => unknown }).toJSON;
    if (typeof json === "function") return goJson(json.call(value));
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined && typeof field !== "function")
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${fields.map(([k, v]) => `${goString(k)}:${goJson(v)}`).join(",")}}`;
  }
  return "null";
}

/** A JSON string as Go writes it: HTML-sensitive characters and line separators escaped. */
function goString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}
