/**
 * examples/browser as a person uses it: its one command bundles and serves the page, Chromium
 * opens the address it prints, against a real etcd started with `--cors` for the page's origin.
 * The table lists the keys already there; an edit, a delete and an added key made through the UI
 * reach etcd (seen by a Node watcher over gRPC); a put from Node shows up live. Ends with a
 * screenshot, written outside the repository (the system's temp folder, or
 * `ETCD_CONNECT_SCREENSHOT`). Skipped, with the reason, when there is no Chromium.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { Etcd, prefix, type WatchEvent, type Watcher } from "../../src/index.ts";
import { ScriptProcess } from "../support/cli.ts";
import { Cluster, freePort, uniquePrefix } from "../support/index.ts";
import { chromiumMissing, launchChromium } from "./chromium.ts";

const serveScript = resolve(import.meta.dirname, "../../examples/browser/serve.ts");
const screenshot =
  process.env.ETCD_CONNECT_SCREENSHOT || join(tmpdir(), "etcd-connect-browser-example.png");
/** Each test reports itself skipped with this reason when there is no Chromium. */
const skip = chromiumMissing() ?? false;

describe("examples/browser: the live view of a prefix, driven in Chromium", () => {
  const keys = uniquePrefix("web-example");
  let cluster: Cluster;
  let node: Etcd;
  let serve: ScriptProcess;
  let browser: Browser;
  let page: Page;
  let watcher: Watcher;
  let events: AsyncIterator<WatchEvent>;
  const browserLog: string[] = [];

  before(async () => {
    if (skip) return;
    const port = await freePort();
    cluster = await Cluster.start({ args: [`--cors=http://127.0.0.1:${port}`] });
    node = new Etcd({ endpoints: cluster.endpoints });
    await node.put(`${keys}alpha`, "1");
    await node.put(`${keys}beta`, "two");
    watcher = node.watch(prefix(keys));
    await watcher.ready();
    events = watcher.events()[Symbol.asyncIterator]();

    const endpoint = cluster.endpoints[0] ?? "";
    serve = new ScriptProcess(serveScript, [
      "--endpoint",
      endpoint,
      "--prefix",
      keys,
      "--port",
      String(port),
    ]);
    const opened = await serve.waitFor(/^open http/);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
    page.on("console", (message) => browserLog.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => browserLog.push(`page error: ${error.message}`));
    await page.goto(opened.line.slice("open ".length));
  });

  afterEach((t) => {
    if ((t as { passed?: boolean }).passed === false) {
      process.stderr.write(
        `\nbrowser console:\n${browserLog.join("\n")}\nserve.ts:\n${serve?.lines.join("\n")}\n${serve?.stderr}\n${cluster?.logs()}\n`,
      );
    }
  });

  after(async () => {
    await browser?.close();
    await serve?.stop();
    await watcher?.close();
    await node?.close();
    await cluster?.stop();
  });

  const row = (name: string) => page.locator(`tr[data-key="${keys}${name}"]`);
  const nextEvent = async (): Promise<WatchEvent> => {
    const next = await events.next();
    assert.ok(!next.done, "the Node watcher ended");
    return next.value;
  };

  test("the command prints the page's address and finds etcd allowing its origin", { skip }, () => {
    assert.ok(serve.lines.some((line) => line.startsWith("open http://127.0.0.1:")));
    assert.equal(
      serve.lines.find((line) => line.startsWith("warning:")),
      undefined,
    );
  });

  test("the table lists the keys already under the prefix, then watches", { skip }, async () => {
    await page.locator('#status[data-state="watching"]').waitFor();
    assert.equal(await row("alpha").locator("td.value").textContent(), "1");
    assert.equal(await row("beta").locator("td.value").textContent(), "two");
    assert.deepEqual(await page.locator("#keys tr").evaluateAll((rows) => rows.length), 2);
  });

  test("editing a value in the page puts it in etcd", { skip }, async () => {
    await page.getByRole("button", { name: `Edit ${keys}alpha` }).click();
    await page
      .getByRole("textbox", { name: `New value of ${keys}alpha` })
      .fill("edited in the browser");
    await page.getByRole("button", { name: `Save ${keys}alpha` }).click();

    const event = await nextEvent();
    assert.equal(event.type, "put");
    assert.equal(event.kv.keyText, `${keys}alpha`);
    assert.equal(event.kv.text, "edited in the browser");
    await row("alpha").locator("td.value", { hasText: "edited in the browser" }).waitFor();
    assert.equal(
      await row("alpha").locator("td.revision").textContent(),
      String(event.kv.modRevision),
    );
  });

  test("deleting a key in the page deletes it in etcd, and its row goes", { skip }, async () => {
    await page.getByRole("button", { name: `Delete ${keys}beta` }).click();

    const event = await nextEvent();
    assert.equal(event.type, "delete");
    assert.equal(event.kv.keyText, `${keys}beta`);
    await row("beta").waitFor({ state: "detached" });
    assert.equal(await node.get(`${keys}beta`), undefined);
  });

  test("adding a key in the page puts it under the prefix", { skip }, async () => {
    const add = page.locator("#add");
    await add.getByLabel("new key").fill("gamma");
    await add.getByLabel("value").fill("3");
    await add.getByRole("button", { name: "Add" }).click();

    const event = await nextEvent();
    assert.equal(event.type, "put");
    assert.equal(event.kv.keyText, `${keys}gamma`);
    assert.equal(event.kv.text, "3");
    await row("gamma").waitFor();
  });

  test("a put from Node shows up in the page live, in key order", { skip }, async () => {
    const put = await node.put(`${keys}delta`, "from node");
    await row("delta").locator("td.value", { hasText: "from node" }).waitFor();
    assert.equal(await row("delta").locator("td.revision").textContent(), String(put.revision));
    const shown = await page
      .locator("#keys tr")
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.key));
    assert.deepEqual(shown, [`${keys}alpha`, `${keys}delta`, `${keys}gamma`]);
  });

  test("a screenshot of the page is taken", { skip }, async (t) => {
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    assert.ok(statSync(screenshot).size > 0);
    const signature = readFileSync(screenshot).subarray(0, 8);
    assert.deepEqual([...signature], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    t.diagnostic(`screenshot: ${screenshot}`);
  });
});
