// Reads the output of `bun test` or `deno test` over node:test files, line by line, and keeps
// what scripts/test-runtime.ts reports at the end: the counts of tests (leaf tests, as Node
// counts them: not the describe blocks), the failed ones with what each printed (Bun prints a
// test's error before its line; Deno in its own section at the end), the skipped ones with
// the reasons the suite printed, and the slowest tests.
//
//   const output = new RuntimeTestOutput("bun");
//   for (const line of text.split("\n")) output.line(line);
//   console.log(output.counts);
import { stripVTControlCharacters } from "node:util";

/** A failed test: its name (with its file on Bun) and what it printed before its line. */
export interface FailedTest {
  name: string;
  printed: string[];
}

/** What each failed test printed before its line is kept up to this many lines. */
const DETAIL_LINES = 40;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

export class RuntimeTestOutput {
  readonly runtime: "bun" | "deno";
  readonly counts = { passed: 0, failed: 0, skipped: 0 };
  readonly failed: FailedTest[] = [];
  readonly skipped: string[] = [];
  readonly reasons = new Set<string>();
  readonly durations: { name: string; ms: number }[] = [];
  /** Bun: past "N tests failed:" it lists the failures again. */
  #bunRecap = false;
  /** Bun: the file whose tests run now, and what was printed since the last test's line. */
  #bunFile = "";
  #bunSince: string[] = [];
  /** Deno: the describe blocks open at each indentation, and whether each has steps yet. */
  readonly #open: string[] = [];
  readonly #hasSteps: boolean[] = [];
  /** Deno: inside its ERRORS section, and the failed test whose error is being read there. */
  #denoErrors = false;
  #denoErrorOf: FailedTest | undefined;

  constructor(runtime: "bun" | "deno") {
    this.runtime = runtime;
  }

  line(raw: string): void {
    const text = stripVTControlCharacters(raw);
    const reason = /^# skip \((.*)\)$/.exec(text.trim());
    if (reason?.[1]) this.reasons.add(reason[1]);
    if (this.runtime === "bun") this.#bunLine(text);
    else this.#denoLine(text);
  }

  /** The slowest tests first, at most `n`. */
  slowest(n: number): { name: string; ms: number }[] {
    return [...this.durations].sort((a, b) => b.ms - a.ms).slice(0, n);
  }

  #bunLine(text: string): void {
    if (/^\d+ tests? (failed|skipped):$/.test(text) || /^ *\d+ (pass|fail|skip|todo)$/.test(text)) {
      this.#bunRecap = true;
    }
    if (this.#bunRecap) return;
    const file = /^(\S.*\.test\.[cm]?[jt]s):$/.exec(text);
    if (file?.[1]) this.#bunFile = file[1];
    const m = /^\((pass|fail|skip|todo)\) (.*?)(?: \[([\d.]+)(m?s)\])?$/.exec(text);
    if (!m) {
      this.#bunSince.push(text);
      if (this.#bunSince.length > DETAIL_LINES) this.#bunSince.shift();
      return;
    }
    const [, status, test = "", amount, unit] = m;
    const name = this.#bunFile ? `${this.#bunFile}: ${test}` : test;
    if (amount) this.durations.push({ name, ms: Number(amount) * UNIT_MS[unit as "ms"] });
    const printed = this.#bunSince;
    this.#bunSince = [];
    if (status === "pass") this.counts.passed++;
    else if (status === "fail") {
      this.counts.failed++;
      this.failed.push({ name, printed });
    } else {
      this.counts.skipped++;
      this.skipped.push(test);
    }
  }

  #denoLine(text: string): void {
    if (text.trim() === "ERRORS") {
      this.#denoErrors = true;
      return;
    }
    if (this.#denoErrors) {
      this.#denoErrorLine(text);
      return;
    }
    const open = this.#open;
    const hasSteps = this.#hasSteps;
    const indent = /^ */.exec(text)?.[0].length ?? 0;
    const level = indent / 2;
    const header = /^( *)(.+) \.\.\.$/.exec(text);
    if (header) {
      open[level] = header[2] ?? "";
      open.length = level + 1;
      hasSteps[level] = false;
      if (level > 0) hasSteps[level - 1] = true;
      return;
    }
    const m = /^( *)(.+) \.\.\. (ok|FAILED|ignored|INCOMPLETE)\b(.*)$/.exec(text);
    if (!m) return;
    const name = m[2] ?? "";
    const status = m[3];
    if (level > 0) hasSteps[level - 1] = true;
    const closes = open[level] === name && open.length === level + 1;
    // A test that printed something opens like a block ("name ...", its output, then
    // "name ... ok"); only a block has steps.
    if (closes && !hasSteps[level]) open.length = level;
    else if (closes) {
      // The end of a describe block: its tests were counted. A block that failed on its own
      // (a hook threw) is a failure too.
      open.length = level;
      if (status === "FAILED" && !/due to \d+ failed step/.test(m[4] ?? "")) {
        this.counts.failed++;
        this.failed.push({
          name: `${[...open, name].join(" > ")} (the block itself)`,
          printed: [],
        });
      }
      return;
    }
    const path = [...open.slice(0, level), name].join(" > ");
    const took = /\((\d+)(ms|s|m)\)/.exec(m[4] ?? "");
    if (took) this.durations.push({ name: path, ms: Number(took[1]) * UNIT_MS[took[2] as "ms"] });
    if (status === "ok") this.counts.passed++;
    else if (status === "ignored") {
      this.counts.skipped++;
      this.skipped.push(path);
    } else {
      this.counts.failed++;
      this.failed.push({ name: path, printed: [] });
    }
  }

  /**
   * Deno's ERRORS section: "grp ... test => location", then the error, for each failure, until
   * its FAILURES recap.
   */
  #denoErrorLine(text: string): void {
    if (text.trim() === "FAILURES") {
      this.#denoErrors = false;
      this.#denoErrorOf = undefined;
      return;
    }
    const head = /^(.+?) => \S+$/.exec(text);
    if (head) {
      const name = (head[1] ?? "").split(" ... ").join(" > ");
      this.#denoErrorOf = this.failed.find((f) => f.name === name);
      return;
    }
    const printed = this.#denoErrorOf?.printed;
    if (printed && printed.length < DETAIL_LINES) printed.push(text);
  }
}
