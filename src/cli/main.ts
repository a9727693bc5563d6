#!/usr/bin/env node
/**
 * The `etcd-connect` command: etcdctl's everyday commands on this client.
 *
 *   etcd-connect put greeting hello
 *   etcd-connect get greeting -w json
 *   ETCD_ENDPOINTS=10.0.0.1:2379 etcd-connect endpoint status -w table
 */
import module from "node:module";
import { isatty } from "node:tty";

// Node's on-disk compile cache (22.8+) roughly halves start-up; it must be on before the rest
// of the client loads, hence the dynamic imports below.
module.enableCompileCache?.();
const { run } = await import("./run.ts");
const { promptPassword } = await import("./password-prompt.ts");

const interrupt = new AbortController();
const onSignal = () => interrupt.abort();
process.once("SIGINT", onSignal);
process.once("SIGTERM", onSignal);

process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  // Lazy: touching process.stdin in a command that never reads it could hold the process open.
  stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
  signal: interrupt.signal,
  stdinIsTTY: isatty(0),
  askPassword: promptPassword,
});
process.off("SIGINT", onSignal);
process.off("SIGTERM", onSignal);
