import { accessSync, constants } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/**
 * The Chromium the browser tests drive: `CHROMIUM_BIN` if set, else Debian's `/usr/bin/chromium`
 * (`apt-get install chromium`). Never a downloaded browser.
 */
export function chromiumPath(): string {
  return process.env.CHROMIUM_BIN || "/usr/bin/chromium";
}

/**
 * Why the browser tests cannot run here, or undefined when they can: the reason a skipped test
 * reports.
 */
export function chromiumMissing(): string | undefined {
  const path = chromiumPath();
  try {
    accessSync(path, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${path} (apt-get install chromium, or set CHROMIUM_BIN)`;
  }
}

/**
 * Headless Chromium through playwright-core. Playwright starts it without the sandbox, which
 * Chromium refuses to run under as root (CI runs as root).
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}
