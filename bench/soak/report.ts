import { type MetricName, metricNames, type Sample } from "./sampler.ts";

/** Least-squares slope of `values` over `t` (seconds), times 3600: growth per hour. */
export function growthPerHour(samples: readonly Sample[], name: MetricName): number {
  const points = samples.filter((s) => Number.isFinite(s.values[name]));
  if (points.length < 2) return Number.NaN;
  const n = points.length;
  const meanT = points.reduce((a, s) => a + s.t, 0) / n;
  const meanV = points.reduce((a, s) => a + s.values[name], 0) / n;
  let num = 0;
  let den = 0;
  for (const s of points) {
    num += (s.t - meanT) * (s.values[name] - meanV);
    den += (s.t - meanT) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}

/** The second half of the run (at least two samples): what the growth figures are fitted on. */
export function secondHalf(samples: readonly Sample[]): Sample[] {
  const last = samples.at(-1)?.t ?? 0;
  const half = samples.filter((s) => s.t >= last / 2);
  return half.length >= 2 ? half : samples.slice(-2);
}

function format(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** The samples as a Markdown table, then one row of growth per hour (fitted on the second half). */
export function table(samples: readonly Sample[]): string {
  const header = ["min", ...metricNames];
  const rows = samples.map((s) => [
    (s.t / 60).toFixed(1),
    ...metricNames.map((n) => format(s.values[n])),
  ]);
  const fitted = secondHalf(samples);
  rows.push(["growth/h", ...metricNames.map((n) => format(growthPerHour(fitted, n)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w) => `${"-".repeat(w + 1)}:`).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

/**
 * A small-multiples SVG: one panel per metric, its samples as a line on the panel's own scale
 * (from 0 to the largest value), the growth per hour in the panel's title.
 */
export function svg(samples: readonly Sample[], title: string): string {
  const columns = 3;
  const panelW = 300;
  const panelH = 150;
  const pad = 34;
  const rows = Math.ceil(metricNames.length / columns);
  const width = columns * panelW;
  const height = rows * panelH + 30;
  const lastT = Math.max(1, samples.at(-1)?.t ?? 1);
  const fitted = secondHalf(samples);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="14">${escapeXml(title)}</text>`,
  ];
  metricNames.forEach((name, index) => {
    const x0 = (index % columns) * panelW + pad;
    const y0 = Math.floor(index / columns) * panelH + 30 + 18;
    const w = panelW - pad - 12;
    const h = panelH - 18 - 22;
    const values = samples.map((s) => s.values[name]).filter(Number.isFinite);
    const max = Math.max(1e-9, ...values);
    const points = samples
      .filter((s) => Number.isFinite(s.values[name]))
      .map(
        (s) =>
          `${(x0 + (s.t / lastT) * w).toFixed(1)},${(y0 + h - (s.values[name] / max) * h).toFixed(1)}`,
      )
      .join(" ");
    parts.push(
      `<text x="${x0}" y="${y0 - 5}">${name} (growth/h ${format(growthPerHour(fitted, name))})</text>`,
      `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`,
      `<text x="${x0 - 3}" y="${y0 + 9}" text-anchor="end">${format(max)}</text>`,
      `<text x="${x0 - 3}" y="${y0 + h}" text-anchor="end">0</text>`,
      `<text x="${x0 + w}" y="${y0 + h + 13}" text-anchor="end">${(lastT / 60).toFixed(0)} min</text>`,
      `<polyline points="${points}" fill="none" stroke="#1f6feb" stroke-width="1.5"/>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
