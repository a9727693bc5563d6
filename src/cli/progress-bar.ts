import { humanBytes } from "./humanize.ts";
import type { Output } from "./output.ts";

const WIDTH = 30;
const REDRAW_MS = 100;

/**
 * A one-line progress bar on stderr, redrawn in place; drawn only when stderr is a terminal.
 *
 * @example
 * const bar = new ProgressBar(ctx.out, "snapshot");
 * bar.update(done, total);
 * bar.finish();
 */
export class ProgressBar {
  readonly #out: Output;
  readonly #label: string;
  readonly #enabled: boolean;
  #lastDraw = 0;
  #drawn = false;

  constructor(out: Output, label: string) {
    this.#out = out;
    this.#label = label;
    this.#enabled = out.stderrIsTTY;
  }

  /** Shows `done` of `total` (redrawn at most every 100 ms). */
  update(done: number, total: number): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (now - this.#lastDraw < REDRAW_MS && done < total) return;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#out.note(`\r${render(this.#label, done, total)}`);
  }

  /** Ends the line the bar was drawn on. */
  finish(): void {
    if (this.#drawn) this.#out.note("\n");
    this.#drawn = false;
  }
}

/**
 * The bar's text: label, bar, percentage and sizes.
 *
 * @example
 * render("snapshot", 50, 100); // "snapshot [###############...............]  50% 50 B / 0.1 kB"
 */
export function render(label: string, done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * WIDTH);
  const bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `${label} [${bar}] ${percent} ${humanBytes(done)} / ${humanBytes(total)}`;
}
