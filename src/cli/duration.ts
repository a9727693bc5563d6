import { usageError } from "./cli-error.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A Go-style duration ("500ms", "5s", "1m30s"; a bare number means seconds) in milliseconds.
 *
 * @example
 * parseDuration("1m30s", "--command-timeout"); // 90000
 */
export function parseDuration(text: string, flag: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) {
    throw usageError(`${flag}: invalid duration "${text}" (use 500ms, 5s, 1m30s)`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] ?? "s"] ?? 1000), 0);
}
