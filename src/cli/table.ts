/**
 * A text table drawn like etcdctl's `-w table`: upper-case centred headers, cells aligned right.
 *
 * @example
 * table(["id", "name"], [["8e9e05c52164694d", "default"]]);
 */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const rule = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const head = headers.map((h, i) => center(h.toUpperCase(), widths[i] ?? 0));
  const body = rows.map((row) => line(widths.map((w, i) => (row[i] ?? "").padStart(w))));
  return [rule, line(head), rule, ...body, rule].join("\n");
}

function center(text: string, width: number): string {
  const left = Math.floor((width - text.length) / 2);
  return " ".repeat(left) + text + " ".repeat(width - text.length - left);
}
