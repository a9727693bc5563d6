/**
 * The published package, as a user gets it: build into a staging folder, `npm pack` it, check what
 * the tarball holds and that its types resolve, install it into a fresh folder (with Node 22 from
 * npm beside it), then import it and run put/get against a real etcd on Node 24 and Node 22,
 * through the library and through the `etcd-connect` command, and on Bun and Deno through the
 * library.
 *
 * It needs the npm registry (the tarball's dependencies and Node 22 are installed from it), so a
 * plain `npm test` skips it; `.ci/run` runs it once: `ETCD_CONNECT_PACK_TEST=1 npm run pack-test`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { uniquePrefix, useEtcd } from "../support/index.ts";

const root = resolve(import.meta.dirname, "../..");
const bin = join(root, "node_modules/.bin");
const enabled = process.env.ETCD_CONNECT_PACK_TEST === "1";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      {
        cwd,
        env: { ...process.env, ...env },
        encoding: "utf8",
        maxBuffer: 16 * 1024 * 1024,
        timeout: 300_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

async function ok(file: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv) {
  const run = await sh(file, args, cwd, env);
  assert.equal(run.code, 0, `${file} ${args.join(" ")} failed:\n${run.stdout}\n${run.stderr}`);
  return run;
}

describe("the packed package", {
  skip: enabled ? false : "needs the npm registry: ETCD_CONNECT_PACK_TEST=1 npm run pack-test",
}, () => {
  const fixture = useEtcd();
  let work = "";
  let stage = "";
  let consumer = "";
  let tarball = "";
  let files: string[] = [];

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "etcd-connect-pack-"));
    stage = join(work, "stage");
    consumer = join(work, "consumer");
    mkdirSync(stage);
    mkdirSync(consumer);
    // Build into the staging folder, not dist/: other builds in this checkout stay undisturbed.
    await ok(
      join(bin, "tsc"),
      ["-p", "tsconfig.build.json", "--outDir", join(stage, "dist")],
      root,
    );
    // The command ships bundled, as `npm run build` makes it. The bundler resolves the
    // dependencies from the folder of the build: without node_modules there it would leave them
    // out of the bundle, as separate modules, which `npm run build` in the checkout never does.
    symlinkSync(join(root, "node_modules"), join(stage, "node_modules"), "dir");
    await ok(join(bin, "node"), ["scripts/bundle-cli.ts", join(stage, "dist")], root);
    rmSync(join(stage, "node_modules"));
    for (const file of ["package.json", "README.md", "LICENSE"]) {
      copyFileSync(join(root, file), join(stage, file));
    }
    const pack = await ok(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
      stage,
    );
    const [info] = JSON.parse(pack.stdout) as Array<{
      filename: string;
      files: { path: string }[];
    }>;
    assert.ok(info);
    tarball = join(work, info.filename);
    files = info.files.map((f) => f.path);
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await ok(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball, "node@22"],
      consumer,
    );
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the tarball holds dist/ (ESM + .d.ts, gen compiled), README, LICENSE and nothing else", () => {
    for (const expected of [
      "package.json",
      "README.md",
      "LICENSE",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/cli/main.js",
      "dist/src/bin/etcd-connect.js",
      "dist/src/testing.js",
      "dist/src/testing.d.ts",
      "dist/gen/etcdserverpb/rpc_pb.js",
      "dist/gen/etcdserverpb/rpc_pb.d.ts",
    ]) {
      assert.ok(files.includes(expected), `${expected} missing from the tarball`);
    }
    const stray = files.filter(
      (f) =>
        !["package.json", "README.md", "LICENSE"].includes(f) && !/^dist\/.*\.(js|d\.ts)$/.test(f),
    );
    assert.deepEqual(stray, [], "files outside dist/*.js, dist/*.d.ts, README, LICENSE");
    assert.ok(
      files.every((f) => !f.startsWith("dist/test") && !f.startsWith("dist/bench")),
      "tests or benchmarks in the tarball",
    );
  });

  test("the bundled command line builds no message descriptors until a command needs them", () => {
    // Every generated file's descriptor is decoded with descriptor.proto's, which protobuf-es
    // builds from an embedded copy naming the file: where that name is, descriptors are built.
    const binDir = join(consumer, "node_modules/etcd-connect/dist/src/bin");
    const chunk = (name: string) => readFileSync(join(binDir, name), "utf8");
    // The entry imports the command line's chunk whatever the command; from there, what the
    // chunks import statically (`from"./x.js"`, `import"./x.js"`) loads with it.
    const staticClosure = new Set<string>();
    const pending = ["etcd-connect.js", "etcd-connect-run.js"];
    for (let name = pending.pop(); name; name = pending.pop()) {
      if (staticClosure.has(name)) continue;
      staticClosure.add(name);
      for (const match of chunk(name).matchAll(
        /(?:\bimport|\bfrom)\s*["'`]\.\/([^"'`]+\.js)["'`]/g,
      )) {
        pending.push(match[1] ?? "");
      }
    }
    const marker = "google/protobuf/descriptor.proto";
    const eager = [...staticClosure].filter((name) => chunk(name).includes(marker));
    assert.deepEqual(eager, [], "chunks that help and argument errors load build descriptors");
    const lazy = readdirSync(binDir).filter((name) => chunk(name).includes(marker));
    assert.ok(lazy.length > 0, "the descriptors are somewhere in the bundle");
    assert.ok(staticClosure.has("etcd-connect-run.js"), "the command line's chunk was followed");
  });

  test("types resolve for ESM consumers (arethetypeswrong, esm-only profile)", async () => {
    const run = await sh(
      join(bin, "attw"),
      [tarball, "--profile", "esm-only", "--format", "ascii"],
      root,
    );
    assert.equal(run.code, 0, `attw found problems:\n${run.stdout}\n${run.stderr}`);
  });

  test("a TypeScript consumer type-checks against the published .d.ts (no skipLibCheck)", async () => {
    writeFileSync(
      join(consumer, "check.ts"),
      [
        'import { Etcd, EtcdError, type KeyValue, prefix, type TransportFactory } from "etcd-connect";',
        'import { Maintenance } from "etcd-connect/proto";',
        'import { createConnectEndpointTransport } from "etcd-connect/transport";',
        'import { TestCluster, type TestMember } from "etcd-connect/testing";',
        'import { Etcd as WebEtcd, createGatewayEndpointTransport } from "etcd-connect/web";',
        'const web = new WebEtcd({ endpoints: ["http://127.0.0.1:2379"], transport: (c) => createGatewayEndpointTransport(c, { streams: "http" }) });',
        "const cluster = await TestCluster.start({ size: 3, tls: true });",
        "const member: TestMember | undefined = cluster.members[0];",
        "const fromKit = new Etcd({ ...cluster.clientOptions(), timeoutMs: 1000 });",
        'const etcd = new Etcd({ endpoints: ["http://127.0.0.1:2379"] });',
        'const kv: KeyValue | undefined = await etcd.get("k");',
        "const rev: bigint | undefined = kv?.modRevision;",
        'const page = await etcd.range(prefix("a/"), { limit: 10 });',
        "const count: bigint = page.count;",
        "const isError = (e: unknown) => e instanceof EtcdError;",
        "const status = await etcd.client(Maintenance).status({});",
        "const version: string = status.version;",
        "const factory: TransportFactory = createConnectEndpointTransport;",
        'const other = new Etcd({ endpoints: ["http://127.0.0.1:2379"], transport: factory });',
        "export { count, fromKit, isError, member, other, rev, version, web };",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2023",
          lib: ["es2023", "esnext.disposable", "dom"],
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
          typeRoots: [join(root, "node_modules/@types")],
        },
        files: ["check.ts"],
      }),
    );
    const run = await sh(join(bin, "tsc"), ["-p", "tsconfig.json"], consumer);
    assert.equal(run.code, 0, `tsc on the consumer failed:\n${run.stdout}\n${run.stderr}`);
  });

  const script = [
    'import { Etcd } from "etcd-connect";',
    'import { KV } from "etcd-connect/proto";',
    'import { createConnectEndpointTransport } from "etcd-connect/transport";',
    'import { Etcd as WebEtcd } from "etcd-connect/web";',
    "const [endpoint, key] = process.argv.slice(2);",
    "const etcd = new Etcd({ endpoints: [endpoint] });",
    'await etcd.put(key, "hello from " + process.version);',
    "const kv = await etcd.get(key);",
    "console.log(kv?.text);",
    "const raw = await etcd.client(KV).range({ key: kv?.key });",
    "const stock = new Etcd({ endpoints: [endpoint], transport: createConnectEndpointTransport });",
    'if (raw.count !== 1n || (await stock.get(key))?.text !== kv?.text) throw new Error("entry points disagree");',
    "await stock.close();",
    "const web = new WebEtcd({ endpoints: [endpoint] });",
    'if ((await web.get(key))?.text !== kv?.text) throw new Error("the web entry disagrees");',
    "await web.close();",
    "await etcd.close();",
    "",
  ].join("\n");

  const nodes = [
    { name: "Node 24", binary: () => join(bin, "node"), major: "v24." },
    { name: "Node 22", binary: () => join(consumer, "node_modules/.bin/node"), major: "v22." },
  ];

  for (const node of nodes) {
    test(`${node.name}: import the installed package and put/get against etcd`, async () => {
      const version = (await ok(node.binary(), ["--version"], consumer)).stdout.trim();
      assert.ok(version.startsWith(node.major), `expected ${node.major}x, got ${version}`);
      writeFileSync(join(consumer, "use.js"), script);
      const key = `${uniquePrefix("pack")}lib`;
      const run = await ok(node.binary(), ["use.js", fixture.endpoints[0] ?? "", key], consumer);
      assert.equal(run.stdout.trim(), `hello from ${version}`);
    });

    test(`${node.name}: the installed etcd-connect command puts and gets`, async () => {
      const cli = join(consumer, "node_modules/.bin/etcd-connect");
      const env = {
        PATH: `${dirname(node.binary())}:${process.env.PATH ?? ""}`,
        ETCD_ENDPOINTS: fixture.endpoints.join(","),
      };
      const key = `${uniquePrefix("pack")}cli`;
      assert.equal((await ok(cli, ["put", key, node.name], consumer, env)).stdout, "OK\n");
      const got = await ok(cli, ["get", key, "--print-value-only"], consumer, env);
      assert.equal(got.stdout, `${node.name}\n`);
      // Start-up: a command loads no fetch implementation (undici, ~15 ms and some MB of a command's
      // start), which a ConnectError's Headers or an ES import of node:http would load, and no
      // worker_threads, which an ES import of node:util loads (its setTraceSigInt export).
      const probe = join(consumer, "fetch-probe.mjs");
      writeFileSync(
        probe,
        [
          'process.on("exit", () => {',
          '  if (process.moduleLoadList.some((m) => m.includes("undici"))) process.stderr.write("fetch implementation loaded\\n");',
          '  if (process.moduleLoadList.some((m) => m.endsWith(" worker_threads"))) process.stderr.write("worker_threads loaded\\n");',
          '  if (process.moduleLoadList.some((m) => m.endsWith(" http2"))) process.stderr.write("http2 loaded\\n");',
          "});",
          "",
        ].join("\n"),
      );
      const probed = { ...env, NODE_OPTIONS: `--import=${probe}` };
      const lean = await ok(cli, ["put", key, node.name], consumer, probed);
      assert.equal(lean.stdout, "OK\n");
      assert.doesNotMatch(lean.stderr, /fetch implementation loaded/);
      assert.doesNotMatch(lean.stderr, /worker_threads loaded/);
      assert.match(lean.stderr, /http2 loaded/, "the probe sees the client's connection");
      // With one plain endpoint a get is one HTTP/1.1 exchange with etcd's JSON gateway.
      const quick = await ok(cli, ["get", key, "--print-value-only"], consumer, probed);
      assert.equal(quick.stdout, `${node.name}\n`);
      assert.equal(quick.stderr, "", "a get loads neither HTTP/2 nor fetch nor worker_threads");
      // Help needs no client: the command loads it (and node:http2 with it) only to connect.
      const help = await ok(cli, ["get", "--help"], consumer, probed);
      assert.match(help.stdout, /--print-value-only/);
      assert.doesNotMatch(help.stderr, /http2 loaded/);
      const touch = join(consumer, "touch-fetch.mjs");
      writeFileSync(touch, 'new Headers();\nawait import("node:worker_threads");\n');
      const touched = { ...probed, NODE_OPTIONS: `--import=${probe} --import=${touch}` };
      const seen = await ok(cli, ["--help"], consumer, touched);
      assert.match(seen.stderr, /fetch implementation loaded/, "the probe sees a load");
      assert.match(seen.stderr, /worker_threads loaded/, "the probe sees a load");
    });
  }

  // Bun and Deno as a user runs them: in the folder where npm installed the package (Deno reads
  // its package.json and node_modules), and on Deno also through an npm: specifier. Each prints
  // where "etcd-connect" resolved (the export conditions) and what it read back from etcd.
  const runtimeScript = (specifier: string) =>
    [
      `import { Etcd } from "${specifier}";`,
      `import { KV } from "${specifier}/proto";`,
      "const [endpoint, key] = process.argv.slice(2);",
      'const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";',
      "const etcd = new Etcd({ endpoints: [endpoint] });",
      'await etcd.put(key, "hello from " + runtime);',
      "const kv = await etcd.get(key);",
      "const raw = await etcd.client(KV).range({ key: kv?.key });",
      'if (raw.count !== 1n) throw new Error("the proto entry point disagrees");',
      `console.log(import.meta.resolve("${specifier}"));`,
      "console.log(kv?.text);",
      "await etcd.close();",
      "",
    ].join("\n");

  const runtimes = [
    { name: "Bun", runtime: "bun", args: [], specifier: "etcd-connect" },
    { name: "Deno", runtime: "deno", args: ["run", "-A"], specifier: "etcd-connect" },
    {
      name: "Deno (npm: specifier)",
      runtime: "deno",
      args: ["run", "-A"],
      specifier: "npm:etcd-connect",
    },
  ];

  for (const r of runtimes) {
    test(`${r.name}: "etcd-connect" resolves to the package's dist entry; put/get against etcd`, async () => {
      const file = `use-${r.runtime}-${r.specifier.startsWith("npm:") ? "npm" : "bare"}.js`;
      writeFileSync(join(consumer, file), runtimeScript(r.specifier));
      const key = `${uniquePrefix("pack")}${r.runtime}`;
      const run = await ok(
        join(bin, r.runtime),
        [...r.args, file, fixture.endpoints[0] ?? "", key],
        consumer,
        { NO_COLOR: "1" },
      );
      const [resolved, text] = run.stdout.trim().split("\n");
      assert.match(resolved ?? "", /\/node_modules\/etcd-connect\/dist\/src\/index\.js$/);
      assert.equal(text, `hello from ${r.runtime}`);
    });
  }

  test("a user's node:test file runs a 3-member cluster from etcd-connect/testing and kills a member", async () => {
    writeFileSync(
      join(consumer, "kit.test.mjs"),
      [
        'import assert from "node:assert/strict";',
        'import { after, before, test } from "node:test";',
        'import { Etcd } from "etcd-connect";',
        'import { useTestCluster } from "etcd-connect/testing";',
        "const etcd = useTestCluster({ before, after }, { size: 3 });",
        'test("a write survives a killed member", async () => {',
        "  const { cluster } = etcd;",
        "  const client = new Etcd({ ...cluster.clientOptions(), timeoutMs: 10_000 });",
        '  await client.put("k", "before");',
        "  await cluster.members[0].kill();",
        "  await cluster.waitLeader(); // members[0] may have been the leader",
        '  await client.put("k", "after");',
        '  assert.equal((await client.get("k"))?.text, "after");',
        "  assert.deepEqual(cluster.members.map((m) => m.running), [false, true, true]);",
        "  await client.close();",
        "});",
        "",
      ].join("\n"),
    );
    // Not as a subtest of this run: without NODE_TEST_CONTEXT it reports as a user's run does.
    const run = await sh(
      join(bin, "node"),
      ["--test", "--test-reporter=tap", "kit.test.mjs"],
      consumer,
      {
        NODE_TEST_CONTEXT: undefined,
      },
    );
    assert.equal(run.code, 0, `the kit test failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^# pass 1$/m);
    assert.match(run.stdout, /^# fail 0$/m);
  });

  test("without ETCD_BIN or etcd on PATH, the installed kit says how to get etcd", async () => {
    writeFileSync(
      join(consumer, "no-etcd.mjs"),
      [
        'import { etcdBinary } from "etcd-connect/testing";',
        "try { etcdBinary(); console.log('found'); } catch (error) { console.log(error.message); }",
        "",
      ].join("\n"),
    );
    const run = await ok(join(bin, "node"), ["no-etcd.mjs"], consumer, {
      ETCD_BIN: "",
      PATH: dirname(join(bin, "node")),
    });
    assert.match(run.stdout, /no etcd binary found\. Set ETCD_BIN/);
    assert.doesNotMatch(run.stdout, /^found/);
  });
});
