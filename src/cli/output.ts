import { CliError } from "./cli-error.ts";
import { ExitCode } from "./exit-codes.ts";
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
 * Bytes as etcdctl's `--hex` prints them: every byte as `\x` and two lowercase hex digits.
 *
 * @example
 * hexEscaped(new Uint8Array([0x68, 0xff])); // "\\x68\\xff"
 */
export function hexEscaped(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += `\\x${byte.toString(16).padStart(2, "0")}`;
  return text;
}

/**
 * Writes a command's results in the chosen format. Keys and values are written as raw bytes, so
 * binary ones come out unchanged like etcdctl's, or with `hex` as `\x..` escapes like
 * `etcdctl --hex`.
 *
 * @example
 * out.line("OK");
 * out.bytesLine(kv.value);
 */
export class Output {
  readonly format: OutputFormat;
  /** Key and value bytes print as hex escapes (`--hex`). */
  readonly hex: boolean;
  readonly #stdout: Sink;
  readonly #stderr: Sink;

  constructor(format: OutputFormat, stdout: Sink, stderr: Sink, hex = false) {
    this.format = format;
    this.hex = hex;
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

  /** A key or value followed by a newline: raw bytes, or hex escapes with `hex`. */
  bytesLine(bytes: Uint8Array): void {
    this.#stdout.write(this.hex ? hexEscaped(bytes) : bytes);
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

/**
 * Fails like etcdctl (exit 4) when `-w table` is asked of a command that has no table.
 *
 * @example
 * rejectTable(ctx.out);
 */
export function rejectTable(out: Output): void {
  if (out.format === "table") {
    throw new CliError("table not supported as output format", ExitCode.BadFeature);
  }
}
