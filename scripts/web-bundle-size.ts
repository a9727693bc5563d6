// The size of etcd-connect/web as a browser gets it: src/web.ts bundled with esbuild (minified,
// ESM, platform browser, every dependency included), then gzip -9. Prints the totals and the
// largest inputs; `--files` lists every input module instead of the groups.
// `node scripts/web-bundle-size.ts [--json] [--files]`; exits 1 if the bundle pulls in a node:
// module.

import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
const result = await build({
  entryPoints: [join(root, "src/web.ts")],
  bundle: true,
  minify: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  write: false,
  metafile: true,
  logLevel: "error",
});
const code = result.outputFiles[0]?.contents ?? new Uint8Array();
const gzip = gzipSync(code, { level: 9 }).byteLength;
const output = Object.values(result.metafile.outputs)[0];
const inputs = Object.entries(output?.inputs ?? {})
  .map(([file, { bytesInOutput }]) => ({ file, bytes: bytesInOutput }))
  .sort((a, b) => b.bytes - a.bytes);
const group = (file: string) =>
  file.startsWith("gen/")
    ? "gen/ (descriptors)"
    : file.includes("node_modules/@bufbuild/protobuf")
      ? "@bufbuild/protobuf"
      : file.includes("node_modules/@connectrpc/connect")
        ? "@connectrpc/connect"
        : file.startsWith("src/")
          ? `src/${file.split("/")[1]}`
          : file;
const groups = new Map<string, number>();
for (const { file, bytes } of inputs)
  groups.set(group(file), (groups.get(group(file)) ?? 0) + bytes);
const files = process.argv.includes("--files");
if (process.argv.includes("--json")) {
  const detail = files ? { files: Object.fromEntries(inputs.map((i) => [i.file, i.bytes])) } : {};
  console.log(JSON.stringify({ minifiedBytes: code.byteLength, gzipBytes: gzip, ...detail }));
} else {
  console.log(
    `etcd-connect/web: ${(code.byteLength / 1024).toFixed(1)} KiB minified, ${(gzip / 1024).toFixed(1)} KiB gzip`,
  );
  const rows = files
    ? inputs.filter((i) => i.bytes > 0).map((i) => [i.file, i.bytes] as const)
    : [...groups].sort((a, b) => b[1] - a[1]).slice(0, 12);
  for (const [name, bytes] of rows) {
    console.log(
      `  ${name.padEnd(files ? 60 : 28)} ${(bytes / 1024).toFixed(1).padStart(6)} KiB minified`,
    );
  }
}
