/**
 * Bundles the live-view page (app.ts, with esbuild) and serves it, then prints the address to
 * open. Ends on Ctrl-C.
 *
 *   npm run example:browser -- --endpoint http://127.0.0.1:2379 --prefix app/ --port 8080
 *
 * etcd must allow the page's origin, http://127.0.0.1:8080 here: start it with
 * `--cors=http://127.0.0.1:8080` (or `--cors='*'`). This script checks that and says so.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startPageServer } from "./page-server.ts";

const { values } = parseArgs({
  options: {
    endpoint: { type: "string", default: "http://127.0.0.1:2379" },
    prefix: { type: "string", default: "" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8080" },
  },
});
const endpoint = values.endpoint.replace(/\/+$/, "");

const page = await startPageServer({
  entry: resolve(import.meta.dirname, "app.ts"),
  html: resolve(import.meta.dirname, "index.html"),
  host: values.host,
  port: Number(values.port),
});
const address = new URL(page.url);
address.searchParams.set("endpoint", endpoint);
address.searchParams.set("prefix", values.prefix);

const stop = () => page.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);

console.log(`etcd live view of "${values.prefix}" at ${endpoint}`);
console.log(`open ${address.href}`);
const problem = await corsProblem(endpoint, page.origin);
if (problem) console.log(`warning: ${problem}`);
console.log("Ctrl-C stops");

/** Asks etcd what a browser would (a CORS preflight) and explains a refusal. */
async function corsProblem(etcd: string, origin: string): Promise<string | undefined> {
  try {
    const answer = await fetch(`${etcd}/v3/kv/range`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
      signal: AbortSignal.timeout(5000),
    });
    const allowed = answer.headers.get("access-control-allow-origin");
    if (allowed === origin || allowed === "*") return undefined;
    return `etcd at ${etcd} does not allow this page's origin: start it with --cors=${origin}`;
  } catch (error) {
    return `etcd at ${etcd} did not answer (${(error as Error).message}); the page will keep trying`;
  }
}
