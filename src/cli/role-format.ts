import type { Permission, Role } from "../index.ts";
import { prefixEnd } from "../index.ts";
import type { GoJsonValue } from "./go-json.ts";
import type { Output } from "./output.ts";

const PERM_TYPE = { read: 0, write: 1, readwrite: 2 } as const;

/**
 * A role's permissions as etcdctl's `role get` prints them: the key ranges it may read, then
 * those it may write.
 *
 * @example
 * printRole(ctx.out, await etcd.auth.roleGet("reader"));
 */
export function printRole(out: Output, role: Role): void {
  out.line(`Role ${role.name}`);
  if (role.name === "root" && role.permissions.length === 0) {
    out.line("KV Read:");
    out.line("\t[, <open ended>");
    out.line("KV Write:");
    out.line("\t[, <open ended>");
    return;
  }
  out.line("KV Read:");
  for (const p of role.permissions) if (p.type !== "write") out.line(`\t${describe(p)}`);
  out.line("KV Write:");
  for (const p of role.permissions) if (p.type !== "read") out.line(`\t${describe(p)}`);
}

function describe(permission: Permission): string {
  const { key, rangeEnd } = permission.range;
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
  if (rangeEnd.length === 0) return text(key);
  const openEnded = rangeEnd.length === 1 && rangeEnd[0] === 0;
  let line = openEnded ? `[${text(key)}, <open ended>` : `[${text(key)}, ${text(rangeEnd)})`;
  if (key.length > 0 && Buffer.from(prefixEnd(key)).equals(rangeEnd)) {
    line += ` (prefix ${text(key)})`;
  }
  return line;
}

/**
 * A role's permissions as etcdctl's JSON has them.
 *
 * @example
 * out.json(roleJson(role));
 */
export function roleJson(role: Role): GoJsonValue {
  return {
    perm: role.permissions.map((p) => ({
      permType: PERM_TYPE[p.type],
      key: p.range.key,
      range_end: p.range.rangeEnd,
    })),
  };
}
