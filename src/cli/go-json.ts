/**
 * A value the JSON writer accepts: what Go's encoding/json prints for etcd's response structs.
 * bigint prints as a bare number (uint64 IDs exceed 2^53), bytes as base64.
 */
export type GoJsonValue =
  | bigint
  | number
  | string
  | boolean
  | Uint8Array
  | Kept
  | undefined
  | null
  | GoJsonValue[]
  | { [field: string]: GoJsonValue };

/** A field printed even when it holds its zero value (a Go field without `omitempty`). */
export class Kept {
  readonly value: GoJsonValue;
  constructor(value: GoJsonValue) {
    this.value = value;
  }
}

/**
 * Marks a field to print even when zero, false or empty.
 *
 * @example
 * goJson({ health: kept(false) }); // {"health":false}
 */
export function kept(value: GoJsonValue): Kept {
  return new Kept(value);
}

/**
 * JSON as etcdctl's `-w json` prints it: fields in the given order, zero values (0, "", false,
 * empty lists and bytes, undefined) left out like Go's `omitempty`, bigints as bare numbers, bytes
 * as base64.
 *
 * @example
 * goJson({ header: { revision: 5n }, count: 0n, more: false }); // {"header":{"revision":5}}
 */
export function goJson(value: GoJsonValue): string {
  return encode(value);
}

function encode(value: GoJsonValue): string {
  if (value === undefined || value === null) return "null";
  if (value instanceof Kept) return encode(value.value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  if (Array.isArray(value)) return `[${value.map((v) => encode(v)).join(",")}]`;
  const fields: string[] = [];
  for (const [name, field] of Object.entries(value)) {
    if (!(field instanceof Kept) && isEmpty(field)) continue;
    fields.push(`${JSON.stringify(name)}:${encode(field)}`);
  }
  return `{${fields.join(",")}}`;
}

function isEmpty(value: GoJsonValue): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === "bigint") return value === 0n;
  if (typeof value === "number") return value === 0;
  if (typeof value === "string") return value === "";
  if (typeof value === "boolean") return !value;
  if (value instanceof Uint8Array || Array.isArray(value)) return value.length === 0;
  return false;
}
