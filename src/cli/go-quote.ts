import { CliError } from "./cli-error.ts";
import { ExitCode } from "./exit-codes.ts";

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/**
 * Decodes a Go double-quoted string literal ("a\tb", "\x00", "\u00e9"), as etcdctl's txn input
 * uses them; a back-quoted `raw` string is taken as is.
 *
 * @example
 * unquoteGo('"a\\x00b"'); // "a\u0000b"
 */
export function unquoteGo(literal: string): string {
  if (literal.length >= 2 && literal.startsWith("`") && literal.endsWith("`")) {
    return literal.slice(1, -1);
  }
  if (literal.length < 2 || !literal.startsWith('"') || !literal.endsWith('"')) {
    throw bad(literal);
  }
  const body = literal.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char === '"') throw bad(literal);
    if (char !== "\\") {
      out += char;
      continue;
    }
    const next = body[++i];
    if (next === undefined) throw bad(literal);
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const digits = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (digits > 0) {
      const hex = body.slice(i + 1, i + 1 + digits);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) throw bad(literal);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += digits;
      continue;
    }
    if (/[0-7]/.test(next)) {
      const octal = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(octal)) throw bad(literal);
      out += String.fromCharCode(Number.parseInt(octal, 8));
      i += 2;
      continue;
    }
    throw bad(literal);
  }
  return out;
}

function bad(literal: string): CliError {
  return new CliError(`invalid quoted string ${literal}`, ExitCode.InvalidInput);
}
