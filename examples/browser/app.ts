/**
 * A live view of one key prefix, in the browser: list the keys at one revision, then watch from
 * the next, so the table always shows what etcd holds. Edit or delete a value, or add a key; the
 * table changes when etcd's watch reports the write, like it does for anyone else's.
 *
 * The page reads `?endpoint=` and `?prefix=` from its address; `serve.ts` prints one. etcd must
 * allow the page's origin: start it with `--cors=<the page's origin>` (or `--cors='*'`).
 *
 * In your project, import from "etcd-connect/web" instead of "../../src/web.ts".
 */
import { Etcd, type KeyValue, prefix, WatchCompactedError } from "../../src/web.ts";

const LIST_LIMIT = 1000;
const RETRY_MS = 2000;

const params = new URL(location.href).searchParams;
const endpoint = params.get("endpoint") || "http://127.0.0.1:2379";
const keyPrefix = params.get("prefix") ?? "";

const status = element<HTMLParagraphElement>("#status");
const tbody = element<HTMLTableSectionElement>("#keys");
const targetForm = element<HTMLFormElement>("#target");
const addForm = element<HTMLFormElement>("#add");
input(targetForm, "endpoint").value = endpoint;
input(targetForm, "prefix").value = keyPrefix;

const etcd = new Etcd({ endpoints: [endpoint] });
/** What etcd holds under the prefix, as of the last list or watch event: the table's source. */
const held = new Map<string, KeyValue>();
const editing = new Set<string>();

addForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = keyPrefix + input(addForm, "key").value;
  const value = input(addForm, "value").value;
  write(`put ${key}`, () => etcd.put(key, value)).then((done) => done && addForm.reset());
});

follow();

/** List, then watch from the next revision; list again if that history was compacted. */
async function follow(): Promise<void> {
  for (;;) {
    try {
      const listed = await etcd.range(prefix(keyPrefix), { limit: LIST_LIMIT });
      held.clear();
      for (const kv of listed.kvs) held.set(kv.keyText, kv);
      renderAll();
      const shown =
        listed.count > BigInt(listed.kvs.length) ? ` (first ${listed.kvs.length} shown)` : "";
      report(
        "watching",
        `${listed.count} keys under "${keyPrefix}"${shown} at revision ${listed.revision}; watching for changes`,
      );
      const watcher = etcd.watch(prefix(keyPrefix), { startRevision: listed.revision + 1n });
      for await (const batch of watcher) {
        for (const event of batch.events) {
          if (event.type === "put") held.set(event.kv.keyText, event.kv);
          else held.delete(event.kv.keyText);
          renderRow(event.kv.keyText, true);
        }
        report(
          "watching",
          `${held.size} keys under "${keyPrefix}"; last change at revision ${batch.revision}; watching`,
        );
      }
    } catch (error) {
      if (error instanceof WatchCompactedError) continue;
      report("error", `${describe(error)}; trying again`);
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

function renderAll(): void {
  tbody.replaceChildren();
  for (const key of [...held.keys()].sort()) renderRow(key, false);
  if (held.size === 0) {
    const row = tbody.insertRow();
    row.className = "empty";
    row.insertCell().append("no keys yet");
  }
}

/** Adds, updates or removes the row of `key` to match `held`, keeping rows in key order. */
function renderRow(key: string, flash: boolean): void {
  tbody.querySelector("tr.empty")?.remove();
  const existing = rowOf(key);
  const kv = held.get(key);
  if (!kv) {
    existing?.remove();
    editing.delete(key);
    return;
  }
  if (existing && editing.has(key)) return;
  const row = document.createElement("tr");
  row.dataset.key = key;
  cell(row, "key", key);
  cell(row, "value", kv.text);
  cell(row, "revision", String(kv.modRevision));
  const actions = cell(row, "actions", "");
  actions.append(
    button("Edit", `Edit ${key}`, "", () => startEdit(key)),
    " ",
    button("Delete", `Delete ${key}`, "danger", () =>
      write(`delete ${key}`, () => etcd.delete(key)),
    ),
  );
  if (flash) row.className = "changed";
  if (existing) existing.replaceWith(row);
  else {
    const after = [...tbody.rows].find((r) => (r.dataset.key ?? "") > key);
    tbody.insertBefore(row, after ?? null);
  }
}

function startEdit(key: string): void {
  const row = rowOf(key);
  const valueCell = row?.querySelector("td.value");
  const actions = row?.querySelector("td.actions");
  if (!row || !valueCell || !actions) return;
  editing.add(key);
  const field = document.createElement("input");
  field.value = held.get(key)?.text ?? "";
  field.setAttribute("aria-label", `New value of ${key}`);
  const stop = () => {
    editing.delete(key);
    renderRow(key, false);
  };
  const save = () =>
    write(`put ${key}`, () => etcd.put(key, field.value)).then((done) => done && stop());
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter") save();
    if (event.key === "Escape") stop();
  });
  valueCell.replaceChildren(field);
  actions.replaceChildren(
    button("Save", `Save ${key}`, "primary", save),
    " ",
    button("Cancel", `Cancel editing ${key}`, "", stop),
  );
  field.focus();
}

/**
 * Runs a write and answers whether it succeeded. The table changes when the watch reports the
 * write, so only a failure is shown here.
 */
async function write(what: string, run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (error) {
    report("error", `${what} failed: ${describe(error)}`);
    return false;
  }
}

function report(state: "watching" | "error", text: string): void {
  status.dataset.state = state;
  status.className = state === "error" ? "error" : "";
  status.textContent = text;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function rowOf(key: string): HTMLTableRowElement | undefined {
  return [...tbody.rows].find((row) => row.dataset.key === key);
}

function cell(row: HTMLTableRowElement, className: string, text: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.className = className;
  td.textContent = text;
  return td;
}

function button(label: string, ariaLabel: string, className: string, onClick: () => unknown) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = className;
  b.setAttribute("aria-label", ariaLabel);
  b.addEventListener("click", () => {
    onClick();
  });
  return b;
}

function element<T extends Element>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`the page has no ${selector}`);
  return found;
}

function input(form: HTMLFormElement, name: string): HTMLInputElement {
  return form.elements.namedItem(name) as HTMLInputElement;
}
