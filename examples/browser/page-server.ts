/**
 * Serves one page: an HTML file at `/` and its TypeScript entry, bundled for browsers with
 * esbuild, at `/app.js`. Bundling targets the browser platform, so an entry that pulls in
 * anything from `node:` fails here, before a browser ever sees it.
 *
 * @example
 * const page = await startPageServer({ entry: "app.ts", html: "index.html", port: 8080 });
 * console.log(page.url); // http://127.0.0.1:8080/
 * await page.close();
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";

export interface PageServerOptions {
  /** The TypeScript entry to bundle; the page loads it as the module `/app.js`. */
  entry: string;
  /** The HTML file served at `/`. */
  html: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
}

export interface PageServer {
  /** The page's address, such as `http://127.0.0.1:8080/`. */
  url: string;
  /** The page's origin, such as `http://127.0.0.1:8080`: what etcd's `--cors` must allow. */
  origin: string;
  /** Size of the bundled script in bytes (unminified). */
  bundleBytes: number;
  close(): Promise<void>;
}

/** Bundles `entry` once, then serves the page until `close()`. */
export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const bundled = await build({
    entryPoints: [options.entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: "inline",
    write: false,
    logLevel: "silent",
  });
  const script = bundled.outputFiles[0]?.contents;
  if (!script) throw new Error(`esbuild produced nothing for ${options.entry}`);
  const html = readFileSync(options.html);

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://page").pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405).end();
    } else if (path === "/" || path === "/index.html") {
      send(response, "text/html; charset=utf-8", html);
    } else if (path === "/app.js") {
      send(response, "text/javascript; charset=utf-8", script);
    } else {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url: `${origin}/`,
    origin,
    bundleBytes: script.byteLength,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: import("node:http").ServerResponse, type: string, body: Uint8Array): void {
  response.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
}
