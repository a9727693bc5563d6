/**
 * A text table drawn like etcdctl 3.7's `-w table` (and etcdutl's): box-drawing borders,
 * upper-case centred headers, cells aligned right, no rule between body rows; a table with no
 * rows is its header between the top and bottom borders.
 *
 * @example
 * table(["id", "name"], [["8e9e05c52164694d", "default"]]);
 * // ┌──────────────────┬─────────┐
 * // │        ID        │  NAME   │
 * // ├──────────────────┼─────────┤
 * // │ 8e9e05c52164694d │ default │
 * // └──────────────────┴─────────┘
 */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(width(h), ...rows.map((row) => width(row[i] ?? ""))),
  );
  const rule = (left: string, join: string, right: string) =>
    left + widths.map((w) => "─".repeat(w + 2)).join(join) + right;
  const line = (cells: string[]) => `│ ${cells.join(" │ ")} │`;
  const head = line(headers.map((h, i) => center(h.toUpperCase(), widths[i] ?? 0)));
  const body = rows.map((row) => line(widths.map((w, i) => padStart(row[i] ?? "", w))));
  const top = rule("┌", "┬", "┐");
  const bottom = rule("└", "┴", "┘");
  if (body.length === 0) return [top, head, bottom].join("\n");
  return [top, head, rule("├", "┼", "┤"), ...body, bottom].join("\n");
}

/** Columns a cell takes: one per code point (etcd's cells are ASCII but for names and errors). */
function width(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function padStart(text: string, size: number): string {
  return " ".repeat(Math.max(0, size - width(text))) + text;
}

function center(text: string, size: number): string {
  const left = Math.floor((size - width(text)) / 2);
  return " ".repeat(left) + text + " ".repeat(size - width(text) - left);
}
