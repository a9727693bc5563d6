import { type GoJsonValue, goJson } from "./go-json.ts";
import { table } from "./table.ts";

/** The output formats of `-w` / `--write-out`. */
export type OutputFormat = "simple" | "json" | "table";

/** Where the command writes: stdout for results, stderr for progress and errors. */
export interface Sink {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

const NEWLINE = "\n";

/**
 * Writes a command's results in the chosen format. Values are written as raw bytes, so binary
 * keys and values come out unchanged, like etcdctl's.
 *
 * @example
 * out.line("OK");
 * out.bytesLine(kv.value);
 */
export class Output {
  readonly format: OutputFormat;
  readonly #stdout: Sink;
  readonly #stderr: Sink;

  constructor(format: OutputFormat, stdout: Sink, stderr: Sink) {
    this.format = format;
    this.#stdout = stdout;
    this.#stderr = stderr;
  }

  /** True when stdout is a terminal. */
  get isTTY(): boolean {
    return this.#stdout.isTTY === true;
  }

  /** True when stderr is a terminal (progress bars go there). */
  get stderrIsTTY(): boolean {
    return this.#stderr.isTTY === true;
  }

  /** One line of text. */
  line(text = ""): void {
    this.#stdout.write(text + NEWLINE);
  }

  /** Raw bytes followed by a newline. */
  bytesLine(bytes: Uint8Array): void {
    this.#stdout.write(bytes);
    this.#stdout.write(NEWLINE);
  }

  /** A value as etcdctl's JSON. */
  json(value: GoJsonValue): void {
    this.line(goJson(value));
  }

  /** A table like etcdctl's `-w table`. */
  table(headers: string[], rows: string[][]): void {
    this.line(table(headers, rows));
  }

  /** Text on stderr (progress, notices). */
  note(text: string): void {
    this.#stderr.write(text);
  }
}
