/**
 * Turns benchmark results into the Markdown tables and the SVG chart (hand-written SVG, no
 * dependencies).
 */
import { type ClientName, clientLabels } from "./lib/bench-client.ts";
import { median, type Sample } from "./lib/measure.ts";

/** The machine and software a run measured. */
export interface Environment {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  etcd: string;
  noFsync: boolean;
  versions: Record<string, string>;
  /** 1-minute load average: at start, during (min/avg/max of samples) and at the end. */
  load: { start: number; min: number; avg: number; max: number; end: number };
  rounds: number;
  quick: boolean;
  /**
   * Runs measured again because the host took more than `limitPct` % of the CPU during them
   * (at most `attempts` runs each); absent in older result files.
   */
  steal?: { limitPct: number; attempts: number; repeated: number };
  /**
   * The pace probe's readings (ms for a fixed piece of work, bench/lib/pace.ts), one before each
   * round of each row; absent in older result files.
   */
  pace?: { computeMs: ReadingSpan; roundTripUs: ReadingSpan };
}

/** The smallest, median and largest of a run's readings. */
export interface ReadingSpan {
  min: number;
  median: number;
  max: number;
}

/** One workload's row as run: its headline and the median sample of every client. */
export interface WorkloadResult {
  id: string;
  title: string;
  unit: string;
  higherIsBetter: boolean;
  /** Not a comparison with etcd3: only in its own table. */
  detailOnly?: boolean;
  /** Headline value per client (median over rounds). */
  headline: Partial<Record<ClientName, number>>;
  /** Median sample per client. */
  samples: Partial<Record<ClientName, Sample>>;
  /** Every round's samples per client, for the JSON file. */
  rounds: Partial<Record<ClientName, Sample[]>>;
  /** Every round's headline value per client, in round order (absent in older result files). */
  roundHeadlines?: Partial<Record<ClientName, number[]>>;
}

/** Everything one benchmark run produced. */
export interface BenchResults {
  environment: Environment;
  workloads: WorkloadResult[];
}

/** A line of the summary table: our number against etcd3 and stock connect-node. */
interface SummaryRow {
  title: string;
  unit: string;
  higherIsBetter: boolean;
  ours: number | undefined;
  oursClient: ClientName;
  etcd3: number | undefined;
  stock: number | undefined;
  stockClient: ClientName | undefined;
  /** Client CPU per operation (µs) of the three, where the row measures it per operation. */
  cpu: { ours?: number; etcd3?: number; stock?: number };
}

function summaryRows(results: BenchResults): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const w of results.workloads) {
    if (w.detailOnly) continue;
    const stockClient: ClientName | undefined =
      w.headline["connect.raw"] !== undefined
        ? "connect.raw"
        : w.headline.connect !== undefined
          ? "connect"
          : undefined;
    const cpuOf = (name: ClientName | undefined) => {
      const value = name === undefined ? undefined : w.samples[name]?.cpuUsPerOp;
      return value !== undefined && Number.isFinite(value) ? value : undefined;
    };
    const base = {
      unit: w.unit,
      higherIsBetter: w.higherIsBetter,
      etcd3: w.headline.etcd3,
      stock: stockClient && w.headline[stockClient],
      stockClient,
    };
    const cpu = (ours: ClientName) => {
      const values: SummaryRow["cpu"] = {};
      const o = cpuOf(ours);
      const e = cpuOf("etcd3");
      const st = cpuOf(stockClient);
      if (o !== undefined) values.ours = o;
      if (e !== undefined) values.etcd3 = e;
      if (st !== undefined) values.stock = st;
      return values;
    };
    rows.push({
      ...base,
      title: w.title,
      ours: w.headline.ours,
      oursClient: "ours",
      cpu: cpu("ours"),
    });
    if (w.headline["ours+otel"] !== undefined) {
      rows.push({
        ...base,
        title: `${w.title}, OpenTelemetry on`,
        ours: w.headline["ours+otel"],
        oursClient: "ours+otel",
        cpu: cpu("ours+otel"),
      });
    }
    if (w.headline["ours+coalesce"] !== undefined) {
      rows.push({
        ...base,
        title: `${w.title}, coalesceReads`,
        ours: w.headline["ours+coalesce"],
        oursClient: "ours+coalesce",
        cpu: cpu("ours+coalesce"),
      });
    }
  }
  return rows;
}

/** Our numbers next to the node:http2 floor's, for the rows that measured it. */
function floorComparison(results: BenchResults) {
  const rows: {
    title: string;
    unit: string;
    ours: number | undefined;
    floor: number | undefined;
    oursCpu: number;
    floorCpu: number;
  }[] = [];
  for (const w of results.workloads) {
    const ours = w.samples.ours;
    const floor = w.samples["h2.floor"];
    if (!ours || !floor) continue;
    rows.push({
      title: w.title,
      unit: w.unit,
      ours: w.headline.ours,
      floor: w.headline["h2.floor"],
      oursCpu: ours.cpuUsPerOp,
      floorCpu: floor.cpuUsPerOp,
    });
  }
  return rows;
}

/** The pace probe's readings before a round, where the result file has them. */
interface PaceReading {
  computeMs: number | undefined;
  roundTripUs: number | undefined;
}

/** Each comparison row's values per round, ours and etcd3's, and ours over etcd3's per round. */
function spreadRows(results: BenchResults) {
  const rows: {
    title: string;
    unit: string;
    ours: number[];
    etcd3: number[];
    advantage: number[];
    /** Per round, the larger share (%) of the CPU the host took during either client's run. */
    stolen: (number | undefined)[];
    /** Per round, the pace probe's readings before it (higher is a slower machine). */
    pace: PaceReading[];
  }[] = [];
  for (const w of results.workloads) {
    const ours = w.roundHeadlines?.ours ?? [];
    const etcd3 = w.roundHeadlines?.etcd3 ?? [];
    if (w.detailOnly || ours.length < 2 || etcd3.length !== ours.length) continue;
    const advantages = ours.map((value, round) => advantage(w, value, etcd3[round]));
    const stolen = ours.map((_, round) => {
      const shares = [w.rounds.ours?.[round], w.rounds.etcd3?.[round]]
        .map((sample) => sample?.extra?.stolenPct)
        .filter((share) => share !== undefined);
      return shares.length > 0 ? Math.max(...shares) : undefined;
    });
    const pace = ours.map((_, round) => {
      const extra = w.rounds.ours?.[round]?.extra;
      return { computeMs: extra?.paceComputeMs, roundTripUs: extra?.paceRoundTripUs };
    });
    rows.push({ title: w.title, unit: w.unit, ours, etcd3, advantage: advantages, stolen, pace });
  }
  return rows;
}

/** (largest − smallest) / median; NaN unless every value is a positive number. */
export function spread(values: number[]): number {
  if (values.length === 0 || !values.every((v) => Number.isFinite(v) && v > 0)) return Number.NaN;
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

function paceText(readings: PaceReading[]): string {
  const series = (values: (number | undefined)[], unit: string) =>
    values.every((v) => v === undefined)
      ? "–"
      : `${values.map((v) => (v === undefined ? "–" : v.toFixed(1))).join(" · ")} ${unit}`;
  return `${series(
    readings.map((r) => r.computeMs),
    "ms",
  )}; ${series(
    readings.map((r) => r.roundTripUs),
    "µs",
  )}`;
}

function spanText(readings: ReadingSpan, digits: number): string {
  return (
    `${readings.min.toFixed(digits)}–${readings.max.toFixed(digits)} ` +
    `(median ${readings.median.toFixed(digits)})`
  );
}

function stolenText(shares: (number | undefined)[]): string {
  if (shares.every((share) => share === undefined)) return "–";
  return `${shares.map((share) => (share === undefined ? "–" : share.toFixed(1))).join(" · ")} %`;
}

function percent(fraction: number): string {
  return Number.isFinite(fraction) ? `${Math.round(fraction * 100)} %` : "–";
}

/** How many times better `ours` is than `other` (> 1: ours is better). */
function advantage(row: { higherIsBetter: boolean }, ours?: number, other?: number): number {
  if (ours === undefined || other === undefined || !(ours > 0) || !(other > 0)) return Number.NaN;
  return row.higherIsBetter ? ours / other : other / ours;
}

function num(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function headlineText(value: number | undefined, unit: string, digits?: number): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  if (unit === "CPU ms/s") return `${num(value, digits ?? 1)} ${unit}`;
  if (unit === "bytes/watcher") return `${num(value, 0)} B/watcher`;
  return `${num(value, digits ?? defaultDigits(value))} ${unit}`;
}

/** Two significant digits below 1 (a p50 of 0.26 ms against 0.30 ms), one below 100, else none. */
function defaultDigits(value: number): number {
  if (value < 1) return 2;
  return value < 100 ? 1 : 0;
}

/** A round's value with enough digits to tell rounds apart. */
function roundText(value: number, unit: string): string {
  return headlineText(value, unit, value < 10 ? 2 : undefined);
}

function ratioText(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "–";
}

/** The report as Markdown: environment, summary, details, facade overhead. */
export function toMarkdown(results: BenchResults): string {
  const env = results.environment;
  const lines: string[] = [];
  lines.push("# Benchmark results", "");
  lines.push(
    `Measured ${env.date} with \`npm run bench\`${env.quick ? " --quick (smoke mode: counts too small to mean anything)" : ""}: ` +
      `a freshly started ${env.etcd}${env.noFsync ? " with `--unsafe-no-fsync`" : " (fsync on: this etcd lacks --unsafe-no-fsync)"} ` +
      "(the watch replay and put-to-event latency rows each on an etcd of its own, started alike; the recovery row kills three times a round, each time a member of a fresh 3-member cluster, and takes the median kill), " +
      `the clients alternating in ${env.rounds} round${env.rounds === 1 ? "" : "s"}, a row's rounds back to back ` +
      "(the put-to-event latency rows run both clients at once, in alternating slices, and the watch replay row its three clients one replay each in turn); " +
      "each number is the median of the rounds. " +
      "Client CPU is `process.cpuUsage()` of the benchmark process (etcd runs in its own process); " +
      "for the keep-alive row, of a process per client (as the idle-watcher memory is).",
    "",
  );
  lines.push(
    `Machine: ${env.cpu}, ${env.cores} cores, ${num(env.memoryGiB, 0)} GiB, ${env.os}; Node ${env.node}; ` +
      Object.entries(env.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(", ") +
      ".",
    "",
  );
  lines.push(
    `Load average (1 min) during the run: ${env.load.start.toFixed(2)} at start, ` +
      `${env.load.min.toFixed(2)}–${env.load.max.toFixed(2)} (mean ${env.load.avg.toFixed(2)}) while running, ` +
      `${env.load.end.toFixed(2)} at the end. The machine is shared: absolute numbers move with the load; ` +
      "the alternation keeps the comparison fair." +
      (env.steal && !env.quick
        ? ` Runs during which the host took more than ${env.steal.limitPct} % of the CPU were measured ` +
          `again (at most ${env.steal.attempts} runs, the least stolen kept): ${env.steal.repeated} ` +
          `${env.steal.repeated === 1 ? "run" : "runs"} this time.`
        : "") +
      (env.pace && !env.quick
        ? " The machine's pace, read before each round of each row (bench/lib/pace.ts): a fixed " +
          `piece of CPU and memory work took ${spanText(env.pace.computeMs, 1)} ms, a byte's ` +
          `round trip through another process ${spanText(env.pace.roundTripUs, 0)} µs.`
        : ""),
    "",
  );
  lines.push("![chart: each client relative to etcd3](chart.svg)", "");
  lines.push("## Summary", "");
  lines.push(
    "| Workload | etcd-connect | etcd3 | stock connect-node | vs etcd3 | vs stock connect-node | client CPU per op: etcd-connect · etcd3 · stock (etcd3's as a multiple of ours) |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  const lowerIsBetter = { higherIsBetter: false };
  for (const row of summaryRows(results)) {
    const cpu =
      row.cpu.ours === undefined
        ? "–"
        : `${num(row.cpu.ours, 1)} · ${num(row.cpu.etcd3, 1)} · ${num(row.cpu.stock, 1)} µs ` +
          `(${ratioText(advantage(lowerIsBetter, row.cpu.ours, row.cpu.etcd3))})`;
    lines.push(
      `| ${row.title} | ${headlineText(row.ours, row.unit)} | ${headlineText(row.etcd3, row.unit)} | ` +
        `${headlineText(row.stock, row.unit)} | ${ratioText(advantage(row, row.ours, row.etcd3))} | ` +
        `${ratioText(advantage(row, row.ours, row.stock))} | ${cpu} |`,
    );
  }
  lines.push(
    "",
    "Ratios say how many times better etcd-connect is (higher throughput, or less memory/CPU). " +
      "Stock connect-node is `createGrpcTransport` with the generated client where it applies, " +
      'else etcd-connect\'s facade on the stock transport (`transport: "connect"`); for watch ' +
      "and lease streams both transports use connect-node's streaming path.",
    "",
  );
  lines.push("## Details", "");
  lines.push(
    "| Workload | Client | ops/s | p50 ms | p99 ms | client CPU µs/op |",
    "|---|---|---:|---:|---:|---:|",
  );
  for (const w of results.workloads) {
    if (w.detailOnly) continue;
    for (const [name, sample] of Object.entries(w.samples) as [ClientName, Sample][]) {
      lines.push(
        `| ${w.title} | ${clientLabels[name]} | ${num(sample.opsPerSec)} | ${num(sample.p50Ms, 2)} | ` +
          `${num(sample.p99Ms, 2)} | ${num(sample.cpuUsPerOp, 1)} |`,
      );
    }
  }
  const spreads = spreadRows(results);
  if (spreads.length > 0) {
    lines.push(
      "",
      "## Spread across rounds",
      "",
      "How far each row moved from round to round: (largest − smallest) / median of the rounds' " +
        "values, for etcd-connect, for etcd3, and for etcd-connect's advantage over etcd3 in " +
        "each round (both clients measured in the same round). The machine's pace moves every " +
        "client alike from minute to minute, so the advantage moves less than either client. " +
        "A row's rounds run back to back. The last columns are the share of the machine's CPU " +
        "the host took (Linux's steal time) during each round's runs, the larger of the two " +
        "clients', and the machine's pace before each round: the time of a fixed piece of work, " +
        "then of a byte's round trip through another process (higher is slower).",
      "",
      "| Workload | etcd-connect, rounds | spread | etcd3, rounds | spread | vs etcd3, rounds | spread | host's steal, rounds | machine's pace, rounds |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...spreads.map(
        (r) =>
          `| ${r.title} | ${r.ours.map((v) => roundText(v, r.unit)).join(" · ")} | ${percent(spread(r.ours))} | ` +
          `${r.etcd3.map((v) => roundText(v, r.unit)).join(" · ")} | ${percent(spread(r.etcd3))} | ` +
          `${r.advantage.map(ratioText).join(" · ")} | ${percent(spread(r.advantage))} | ${stolenText(r.stolen)} | ${paceText(r.pace)} |`,
      ),
    );
  }
  const floorRows = floorComparison(results);
  if (floorRows.length > 0) {
    lines.push("", "## Against the node:http2 floor", "");
    lines.push(
      "The floor is a hand-written unary call on one node:http2 connection that encodes its " +
        "request with protobuf-es, checks the status and does not decode the response " +
        "(`bench/lib/h2-floor.ts`): no client on node:http2 can spend less. etcd-connect's " +
        "client CPU per operation above it is what the lean transport, the pool and the " +
        "facade cost, decoding included.",
      "",
      "| Workload | etcd-connect | floor | etcd-connect CPU | floor CPU | above the floor |",
      "|---|---:|---:|---:|---:|---:|",
    );
    for (const row of floorRows) {
      lines.push(
        `| ${row.title} | ${headlineText(row.ours, row.unit)} | ${headlineText(row.floor, row.unit)} | ` +
          `${num(row.oursCpu, 1)} µs | ${num(row.floorCpu, 1)} µs | ${num(row.oursCpu - row.floorCpu, 1)} µs |`,
      );
    }
  }
  const facade = results.workloads.find((w) => w.id === "facade-cost");
  if (facade) {
    lines.push("", "## What the facade costs", "");
    lines.push(
      "Client CPU per call of the typed facade (`etcd.put`, `etcd.get`) and of the raw generated " +
        "client (`etcd.raw.kv.put`, `.range`) of the same client instance, 200 in flight, in " +
        "24 pairs of 1,000-call slices run back to back; the difference is the median of the " +
        "pairs' differences (each column: median of the rounds).",
      "",
      "| Transport | put: facade | put: raw | difference | get: facade | get: raw | difference |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    for (const [name, sample] of Object.entries(facade.samples) as [ClientName, Sample][]) {
      const x = sample.extra ?? {};
      lines.push(
        `| ${name === "ours" ? "lean (default)" : "stock connect-node"} | ${num(x.putUs, 1)} µs | ${num(x.rawPutUs, 1)} µs | ` +
          `${num(x.putDiffUs, 1)} µs | ${num(x.getUs, 1)} µs | ${num(x.rawGetUs, 1)} µs | ${num(x.getDiffUs, 1)} µs |`,
      );
      if (x.replayPutDiffUs !== undefined) {
        lines.push(
          `| lean, replayed (no network) | ${num(x.replayPutUs, 1)} µs | ${num(x.replayRawPutUs, 1)} µs | ` +
            `${num(x.replayPutDiffUs, 1)} µs | ${num(x.replayGetUs, 1)} µs | ${num(x.replayRawGetUs, 1)} µs | ${num(x.replayGetDiffUs, 1)} µs |`,
        );
      }
    }
    lines.push(
      "",
      "On the wire a slice's CPU moves by several µs with garbage collections and the server. " +
        "The replayed row runs the same pair on a transport that does the lean transport's " +
        "encoding and decoding but answers with responses recorded from this etcd " +
        "(`bench/lib/replay-transport.ts`): 15 pairs of 10,000-call slices, no network, so its " +
        "difference is the facade's own CPU per call.",
    );
  }
  const otel = results.workloads.find((w) => w.id === "otel-cost")?.samples.ours?.extra;
  if (otel) {
    lines.push(
      "",
      "## What tracing costs",
      "",
      "Client CPU per call with nobody subscribed to the diagnostics channels (off) and with " +
        "`etcd-connect/otel` on over the OpenTelemetry SDK (every span sampled, batched to a " +
        "discarding exporter; metrics aggregated), on the replay transport (no network), 200 in " +
        "flight, 12 pairs of 10,000-call slices; the difference is the median of the pairs' differences.",
      "",
      "| Call | off | on | difference |",
      "|---|---:|---:|---:|",
      `| put | ${num(otel.putOffUs, 1)} µs | ${num(otel.putOnUs, 1)} µs | ${num(otel.putDiffUs, 1)} µs |`,
      `| get | ${num(otel.getOffUs, 1)} µs | ${num(otel.getOnUs, 1)} µs | ${num(otel.getDiffUs, 1)} µs |`,
    );
  }
  const cli = results.workloads.find((w) => w.id === "cli-start")?.samples.ours?.extra;
  if (cli) {
    lines.push(
      "",
      "## CLI start-up",
      "",
      "Whole processes, as a script calling the command in a loop sees them: wall time and peak " +
        "resident memory (`/usr/bin/time`), medians of 10 runs of each, interleaved, after one " +
        "warm-up run (Node's compile cache filled).",
      "",
      "| Command | wall | peak RSS |",
      "|---|---:|---:|",
      ...cliRows(cli).map((r) => `| ${r.label} | ${num(r.ms, 0)} ms | ${num(r.mb, 1)} MB |`),
    );
  }
  const runtimes = results.workloads.find((w) => w.id === "runtimes")?.samples.ours?.extra;
  if (runtimes) {
    lines.push(
      "",
      "## Runtimes",
      "",
      "Our client (gRPC transport) on each runtime against the same etcd, each in its own " +
        "process (`bench/lib/runtime-calls.ts`): throughput and client CPU per call (median of the rounds).",
      "",
      "| Runtime | put, 1 in flight | get, 1 in flight | put, 200 in flight |",
      "|---|---:|---:|---:|",
      ...runtimeRows(runtimes).map(
        (r) =>
          `| ${r.label} | ${r.cells.map((c) => `${num(c.ops, 0)} ops/s, ${num(c.cpuUs, 1)} µs`).join(" | ")} |`,
      ),
    );
  }
  lines.push("");
  return lines.join("\n");
}

/** The rows of the runtimes table, from the `runtimes` workload's extra fields. */
function runtimeRows(
  x: Record<string, number>,
): { label: string; cells: { ops: number; cpuUs: number }[] }[] {
  const labels = { node: "Node", bun: "Bun", deno: "Deno" } as const;
  return Object.entries(labels)
    .filter(([name]) => x[`${name}Put1`] !== undefined)
    .map(([name, label]) => ({
      label,
      cells: ["Put1", "Get1", "Put200"].map((call) => ({
        ops: x[`${name}${call}`] ?? Number.NaN,
        cpuUs: x[`${name}${call}CpuUs`] ?? Number.NaN,
      })),
    }));
}

function cliRows(x: Record<string, number>): { label: string; ms: number; mb: number }[] {
  const labels: Record<string, string> = {
    get: "`etcd-connect get k` (over the gateway)",
    getGrpc: "`etcd-connect get k` through the client (gRPC)",
    help: "`etcd-connect --help`",
    node: "`node -e 0`",
    h2Connect: "Node opening and closing an HTTP/2 connection",
    etcdctl: "`etcdctl get k`",
  };
  return Object.entries(labels)
    .filter(([name]) => x[`${name}Ms`] !== undefined)
    .map(([name, label]) => ({
      label,
      ms: x[`${name}Ms`] ?? Number.NaN,
      mb: x[`${name}RssMb`] ?? Number.NaN,
    }));
}

const COLORS = { ours: "#2563eb", etcd3: "#9ca3af", stock: "#f59e0b" } as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * A grouped bar chart: for every row, etcd-connect, etcd3 and stock connect-node relative to
 * etcd3 (longer is better), each bar labelled with its measured value.
 */
export function toSvg(results: BenchResults): string {
  const rows = summaryRows(results);
  const labelWidth = 290;
  const barArea = 470;
  const valueWidth = 170;
  const barHeight = 13;
  const groupGap = 14;
  const top = 64;
  const width = labelWidth + barArea + valueWidth;
  const groupHeight = barHeight * 3 + groupGap;
  const height = top + rows.length * groupHeight + 34;
  const ratios = rows
    .flatMap((row) => [advantage(row, row.ours, row.etcd3), advantage(row, row.stock, row.etcd3)])
    .filter((r) => Number.isFinite(r) && r > 0);
  // Logarithmic: 2× better and 2× worse are the same distance from etcd3's 1×.
  const low = Math.min(0.5, ...ratios.map((r) => r / 1.25));
  const high = Math.max(2, ...ratios.map((r) => r * 1.1));
  const x = (ratio: number) =>
    labelWidth +
    ((Math.log(Math.min(Math.max(ratio, low), high)) - Math.log(low)) /
      (Math.log(high) - Math.log(low))) *
      barArea;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    "<title>etcd-connect, etcd3 and stock connect-node, each workload relative to etcd3</title>",
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">etcd-connect vs etcd3 vs stock connect-node</text>`,
    `<text x="12" y="40" fill="#4b5563">Each bar: how many times better than etcd3 (log scale; more throughput, or less memory or CPU). Labels: measured values. ${escapeXml(results.environment.etcd)}, Node ${escapeXml(results.environment.node)}.</text>`,
  );
  const legend: [string, string][] = [
    ["etcd-connect", COLORS.ours],
    ["etcd3", COLORS.etcd3],
    ["stock connect-node", COLORS.stock],
  ];
  legend.forEach(([label, color], i) => {
    const lx = labelWidth + i * 150;
    out.push(
      `<rect x="${lx}" y="48" width="10" height="10" fill="${color}"/>`,
      `<text x="${lx + 14}" y="57">${label}</text>`,
    );
  });
  for (const tick of [0.25, 0.5, 1, 2, 3, 5, 10, 20, 50, 100]) {
    if (tick < low || tick > high) continue;
    const tx = x(tick).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${height - 30}" stroke="${tick === 1 ? "#6b7280" : "#e5e7eb"}"${tick === 1 ? ' stroke-dasharray="3 3"' : ""}/>`,
      `<text x="${tx}" y="${height - 16}" text-anchor="middle" fill="#6b7280">${tick}×${tick === 1 ? " (etcd3)" : ""}</text>`,
    );
  }
  // Bars grow from etcd3's 1× line: right when better, left when worse.
  const base = x(1);
  rows.forEach((row, i) => {
    const y = top + i * groupHeight;
    out.push(
      `<text x="${labelWidth - 8}" y="${y + barHeight * 1.5 + 4}" text-anchor="end">${escapeXml(row.title)}</text>`,
    );
    const bars: [number | undefined, string][] = [
      [row.ours, COLORS.ours],
      [row.etcd3, COLORS.etcd3],
      [row.stock, COLORS.stock],
    ];
    bars.forEach(([value, color], j) => {
      const ratio = advantage(row, value, row.etcd3);
      const by = y + j * barHeight;
      if (!Number.isFinite(ratio)) {
        out.push(`<text x="${labelWidth + 4}" y="${by + barHeight - 3}" fill="#9ca3af">n/a</text>`);
        return;
      }
      const end = x(ratio);
      const left = Math.min(base, end);
      const barWidth = Math.max(2, Math.abs(end - base));
      const labelX = Math.max(base, end) + 4;
      out.push(
        `<rect x="${left.toFixed(1)}" y="${by + 1}" width="${barWidth.toFixed(1)}" height="${barHeight - 2}" fill="${color}"/>`,
        `<text x="${labelX.toFixed(1)}" y="${by + barHeight - 3}" fill="#111827">${escapeXml(headlineText(value, row.unit))}${j === 1 ? "" : ` (${ratio.toFixed(2)}×)`}</text>`,
      );
    });
  });
  out.push("</svg>", "");
  return out.join("\n");
}

/** A short plain-text summary for the terminal. */
export function toConsole(results: BenchResults): string {
  const facade = results.workloads.find((w) => w.id === "facade-cost");
  const facadeLines = Object.entries(facade?.samples ?? {}).map(([name, sample]) => {
    const x = sample.extra ?? {};
    const replay =
      x.replayPutDiffUs === undefined
        ? ""
        : `; replayed, no network: put ${num(x.replayPutDiffUs, 2)} µs, get ${num(x.replayGetDiffUs, 2)} µs`;
    return `facade minus raw client (${name}): put ${num(x.putDiffUs, 1)} µs, get ${num(x.getDiffUs, 1)} µs per call (facade ${num(x.putUs, 1)} / ${num(x.getUs, 1)} µs)${replay}`;
  });
  const otel = results.workloads.find((w) => w.id === "otel-cost")?.samples.ours?.extra;
  const otelLines = otel
    ? [
        `OpenTelemetry, replayed (no network): put ${num(otel.putOffUs, 2)} µs off, ${num(otel.putOnUs, 2)} µs on (+${num(otel.putDiffUs, 2)}); get ${num(otel.getOffUs, 2)} µs off, ${num(otel.getOnUs, 2)} µs on (+${num(otel.getDiffUs, 2)}) per call`,
      ]
    : [];
  const floorLines = floorComparison(results).map(
    (row) =>
      `${row.title}: etcd-connect ${num(row.oursCpu, 1)} µs/op, node:http2 floor ${num(row.floorCpu, 1)} µs/op (${num(row.oursCpu - row.floorCpu, 1)} µs above)`,
  );
  const cli = results.workloads.find((w) => w.id === "cli-start")?.samples.ours?.extra;
  const cliLines = cli
    ? [
        `CLI start-up (whole process, median): ${cliRows(cli)
          .map((r) => `${r.label.replaceAll("`", "")} ${num(r.ms, 0)} ms ${num(r.mb, 1)} MB`)
          .join("; ")}`,
      ]
    : [];
  const runtimes = results.workloads.find((w) => w.id === "runtimes")?.samples.ours?.extra;
  const runtimeLines = runtimes
    ? [
        `Runtimes (put 1 / get 1 / put 200 in flight, ops/s): ${runtimeRows(runtimes)
          .map((r) => `${r.label} ${r.cells.map((c) => num(c.ops, 0)).join(" / ")}`)
          .join("; ")}`,
      ]
    : [];
  const spreads = spreadRows(results);
  const repeatedForSteal = results.environment.steal?.repeated ?? 0;
  const spreadLines =
    spreads.length > 0
      ? [
          `Spread across rounds (etcd-connect / etcd3 / etcd-connect over etcd3): ${spreads
            .map(
              (r) =>
                `${r.title} ${percent(spread(r.ours))} / ${percent(spread(r.etcd3))} / ${percent(spread(r.advantage))}`,
            )
            .join("; ")}`,
          `Host's steal per round (% of the CPU): ${spreads
            .map((r) => `${r.title} ${stolenText(r.stolen)}`)
            .join("; ")}; runs measured again for it: ${repeatedForSteal}`,
          `Machine's pace per round (compute ms; round trip µs; higher is slower): ${spreads
            .map((r) => `${r.title} ${paceText(r.pace)}`)
            .join("; ")}`,
        ]
      : [];
  return [
    ...summaryLines(results),
    ...floorLines,
    ...facadeLines,
    ...otelLines,
    ...cliLines,
    ...runtimeLines,
    ...spreadLines,
  ].join("\n");
}

function summaryLines(results: BenchResults): string[] {
  return summaryRows(results).map(
    (row) =>
      `${row.title.padEnd(46)} ours ${headlineText(row.ours, row.unit).padStart(18)}  etcd3 ${headlineText(row.etcd3, row.unit).padStart(18)}  stock ${headlineText(row.stock, row.unit).padStart(18)}  ${ratioText(advantage(row, row.ours, row.etcd3)).padStart(7)} vs etcd3  ${ratioText(advantage(row, row.ours, row.stock)).padStart(7)} vs stock`,
  );
}
