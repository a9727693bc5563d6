/**
 * Bundles the built CLI (dist/src/cli/main.js, from `tsc`) into dist/src/bin/: a small entry
 * (etcd-connect.js, the package's `bin`) that turns on Node's compile cache, then loads the
 * command line (parsing, help, the commands) and, only when a command connects, the chunk with
 * the client (the generated stubs, @bufbuild/protobuf, most of @connectrpc/*), minified. Run by
 * `npm run build`; the package test runs it on its staging build.
 *
 * Why: loading the CLI as ~290 separate ES modules spent most of a `get`'s start-up resolving
 * and linking them. Also, Node's builtins are loaded through `require` here, and only the exports
 * the bundle uses are read: an ES module import of a builtin reads all its exports, and some of
 * them load more of Node on first read (`node:http`'s WebSocket, CloseEvent and MessageEvent load
 * its whole fetch implementation, undici; `node:util`'s setTraceSigInt loads worker_threads).
 *
 *   node scripts/bundle-cli.ts [dist folder, default dist]
 */
import { createRequire, isBuiltin } from "node:module";
import { join, resolve } from "node:path";
import { rolldown } from "rolldown";

const dist = resolve(process.argv[2] ?? join(import.meta.dirname, "..", "dist"));
const require = createRequire(import.meta.url);
const PREFIX = "\0require-builtin:";

const bundle = await rolldown({
  input: { "etcd-connect": join(dist, "src/cli/main.js") },
  platform: "node",
  logLevel: "warn",
  // What package.json's "sideEffects": false says of the package's own modules, said here too:
  // a build folder without that package.json beside it (the package test's staging folder)
  // would otherwise keep every module a barrel re-exports, and with them the client, in the
  // command line's chunk.
  treeshake: { moduleSideEffects: (id) => (id.startsWith(dist) ? false : undefined) },
  plugins: [
    {
      name: "builtins-via-require",
      resolveId(source, _importer, { kind }) {
        // A dynamic import loads its builtin when it runs, as it is: no chunk of its own.
        if (!isBuiltin(source) || kind === "dynamic-import") return null;
        const name = source.replace(/^node:/, "");
        // The shims below import createRequire from node:module itself.
        return name === "module" ? null : `${PREFIX}${name}`;
      },
      load(id) {
        if (!id.startsWith(PREFIX)) return null;
        const name = id.slice(PREFIX.length);
        const exports = require(`node:${name}`) as Record<string, unknown>;
        // Plain values only: the accessors are lazy exports nothing here needs. Each read is a
        // pure call, so that rolldown drops the ones the bundle does not import.
        const names = Object.keys(exports).filter(
          (key) =>
            /^[A-Za-z_$][\w$]*$/.test(key) &&
            Object.getOwnPropertyDescriptor(exports, key)?.get === undefined,
        );
        return [
          `import { createRequire } from "node:module";`,
          `const builtin$ = createRequire(import.meta.url)("node:${name}");`,
          "const read$ = (key) => builtin$[key];",
          ...names.map(
            (key) => `export const ${key} = /* @__PURE__ */ read$(${JSON.stringify(key)});`,
          ),
          "export default builtin$;",
        ].join("\n");
      },
    },
  ],
});
await bundle.write({
  dir: join(dist, "src/bin"),
  format: "esm",
  entryFileNames: "[name].js",
  chunkFileNames: "etcd-connect-[name].js",
  // Minified: 5 ms and 1.3 MB less per command (20 interleaved runs of `get`, 102 -> 97 ms); the
  // command prints one-line errors, never stacks, and every error class sets its own `name`.
  minify: true,
});
await bundle.close();
