/**
 * Every symbol the package exports from src/index.ts (and from the etcd-connect/testing entry,
 * src/testing.ts) carries a JSDoc comment with an `@example`
 * (TypeDoc builds the API reference from them). Read with TypeScript 7's own API: the checker
 * follows `export *` and re-exports to the declarations.
 */
import assert from "node:assert/strict";
import { resolve, sep } from "node:path";
import { test } from "node:test";
import { API, SymbolFlags } from "typescript/unstable/sync";

const root = resolve(import.meta.dirname, "../..");
const src = `${resolve(root, "src")}${sep}`;

for (const entry of ["src/index.ts", "src/web.ts", "src/testing.ts"]) {
  test(`every export of ${entry} has JSDoc with an @example`, () => {
    const api = new API({ cwd: root });
    try {
      const config = resolve(root, "tsconfig.json");
      const project = api.updateSnapshot({ openProjects: [config] }).getProject(config);
      assert.ok(project, "tsconfig.json project");
      const index = project.program.getSourceFile(resolve(root, entry));
      assert.ok(index, entry);
      const moduleSymbol = project.checker.getSymbolAtLocation(index);
      assert.ok(moduleSymbol, `module symbol of ${entry}`);
      const exported = project.checker.getExportsOfModule(moduleSymbol);
      assert.ok(exported.length > 10, `only ${exported.length} exports found`);
      const missing: string[] = [];
      let checked = 0;
      for (const symbol of exported) {
        const target =
          symbol.flags & SymbolFlags.Alias ? project.checker.getAliasedSymbol(symbol) : symbol;
        const files = target.declarations.map((d) => String(d.path));
        // Re-exports of dependencies (Connect's `Code`) are documented where they come from.
        if (!files.some((f) => f.startsWith(src))) continue;
        checked++;
        const doc = target.getDocumentationComment(project.checker).trim();
        const tags = target.getJsDocTags(project.checker);
        const where = files.find((f) => f.startsWith(src))?.slice(root.length + 1) ?? "";
        if (!doc) missing.push(`${symbol.name} (${where}): no JSDoc`);
        else if (!tags.some((t) => t.name === "example")) {
          missing.push(`${symbol.name} (${where}): no @example`);
        }
      }
      assert.ok(checked > 10, `only ${checked} exports declared in src/`);
      assert.deepEqual(missing, [], `exports without JSDoc @example:\n${missing.join("\n")}`);
    } finally {
      api.close();
    }
  });
}
