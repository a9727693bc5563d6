/**
 * Keeps an in-memory copy of a config prefix up to date: list it at one revision, then watch from
 * the next revision, so no change is missed or applied twice. The agent checkpoints what it has
 * (config + revision) to a state file; when it starts again it resumes watching from there. If
 * that history was compacted meanwhile, the watch fails with WatchCompactedError and the agent
 * lists again. Ends on Ctrl-C.
 *
 *   ETCD_ENDPOINTS=http://127.0.0.1:2379 node examples/config-watch.ts config/ /tmp/config.state
 *
 * In your project, import from "etcd-connect" instead of "../src/index.ts".
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { CanceledError, Etcd, prefix, WatchCompactedError } from "../src/index.ts";

const [configPrefix = "config/", stateFile] = process.argv.slice(2);
const stop = new AbortController();
process.once("SIGINT", () => stop.abort());
process.once("SIGTERM", () => stop.abort());

interface State {
  revision: bigint;
  config: Map<string, string>;
}

function load(): State | undefined {
  if (!stateFile || !existsSync(stateFile)) return undefined;
  const saved = JSON.parse(readFileSync(stateFile, "utf8")) as {
    revision: string;
    config: Record<string, string>;
  };
  return { revision: BigInt(saved.revision), config: new Map(Object.entries(saved.config)) };
}

function save(state: State): void {
  if (!stateFile) return;
  const json = { revision: String(state.revision), config: Object.fromEntries(state.config) };
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(json));
  renameSync(`${stateFile}.tmp`, stateFile);
}

function show(state: State): string {
  const entries = [...state.config].sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.map(([k, v]) => `${k}=${v}`).join(" ");
}

await using etcd = new Etcd({ endpoints: process.env.ETCD_ENDPOINTS ?? "127.0.0.1:2379" });

/** One consistent snapshot of the prefix, and the revision it was read at. */
async function list(): Promise<State> {
  const { kvs, revision } = await etcd.range(prefix(configPrefix), { signal: stop.signal });
  const config = new Map(kvs.map((kv) => [kv.keyText.slice(configPrefix.length), kv.text]));
  return { revision, config };
}

let state = load();
if (state) console.log(`resuming from revision ${state.revision}: ${show(state)}`);
try {
  for (;;) {
    if (!state) {
      state = await list();
      save(state);
      console.log(`listed ${state.config.size} keys at revision ${state.revision}: ${show(state)}`);
    }
    try {
      const watcher = etcd.watch(prefix(configPrefix), {
        startRevision: state.revision + 1n,
        signal: stop.signal,
      });
      for await (const batch of watcher) {
        for (const { type, kv } of batch.events) {
          const name = kv.keyText.slice(configPrefix.length);
          if (type === "put") state.config.set(name, kv.text);
          else state.config.delete(name);
        }
        state.revision = batch.revision;
        save(state);
        console.log(`revision ${state.revision}: ${show(state)}`);
      }
    } catch (error) {
      if (!(error instanceof WatchCompactedError)) throw error;
      console.log(
        `revision ${state.revision + 1n} was compacted (compaction at ${error.compactRevision}): listing again`,
      );
      state = undefined;
    }
  }
} catch (error) {
  if (!(error instanceof CanceledError && stop.signal.aborted)) throw error;
  console.log("stopped");
}
