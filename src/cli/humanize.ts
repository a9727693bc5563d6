const SIZES = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];

/**
 * A byte count in SI units the way etcdctl prints database sizes ("20 kB", "1.5 MB").
 *
 * @example
 * humanBytes(20480n); // "20 kB"
 */
export function humanBytes(bytes: bigint | number): string {
  const n = Number(bytes);
  if (n < 10) return `${n} B`;
  const exponent = Math.min(Math.floor(Math.log(n) / Math.log(1000)), SIZES.length - 1);
  const value = Math.floor((n / 1000 ** exponent) * 10 + 0.5) / 10;
  const text = value < 10 ? value.toFixed(1) : String(roundHalfEven(value));
  return `${text} ${SIZES[exponent]}`;
}

/** Go's %.0f: to the nearest integer, an exact half to the even one (20.5 -> 20). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * A duration in nanoseconds written like Go's `time.Duration` ("5.487428ms", "1m2.5s").
 *
 * @example
 * goDuration(5_487_428n); // "5.487428ms"
 */
export function goDuration(nanoseconds: bigint): string {
  const ns = nanoseconds < 0n ? -nanoseconds : nanoseconds;
  const sign = nanoseconds < 0n ? "-" : "";
  if (ns === 0n) return "0s";
  if (ns < 1_000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${fraction(ns, 1_000n, 3)}µs`;
  if (ns < 1_000_000_000n) return `${sign}${fraction(ns, 1_000_000n, 6)}ms`;
  const hours = ns / 3_600_000_000_000n;
  const minutes = (ns / 60_000_000_000n) % 60n;
  const seconds = fraction(ns % 60_000_000_000n, 1_000_000_000n, 9);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function fraction(value: bigint, unit: bigint, digits: number): string {
  const whole = value / unit;
  const rest = (value % unit).toString().padStart(digits, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}` : `${whole}`;
}
