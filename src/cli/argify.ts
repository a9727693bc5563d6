import { unquoteGo } from "./go-quote.ts";

const TOKEN = /"(?:[^"\\]|\\.)*"|'[^']*'|\S+/g;

/**
 * Splits one line of txn input into arguments like a shell would, as etcdctl does:
 * "double quoted" (with Go escapes), 'single quoted' (as is), or bare words.
 *
 * @example
 * argify(`put "a key" 'a value'`); // ["put", "a key", "a value"]
 */
export function argify(line: string): string[] {
  return [...line.matchAll(TOKEN)].map(([token]) => {
    if (token.startsWith('"') && token.length >= 2 && token.endsWith('"')) return unquoteGo(token);
    if (token.startsWith("'") && token.length >= 2 && token.endsWith("'")) {
      return token.slice(1, -1);
    }
    return token;
  });
}
