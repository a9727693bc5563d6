// TypeDoc options for `npm run docs` (paths are relative to this folder).
import { OptionDefaults } from "typedoc";

/** @type {Partial<import("typedoc").TypeDocOptions>} */
export default {
  name: "etcd-connect",
  entryPoints: ["../../src/index.ts"],
  tsconfig: "../../tsconfig.json",
  out: "../../docs/api",
  readme: "../../README.md",
  excludePrivate: true,
  excludeInternal: true,
  excludeExternals: true,
  // TypeDoc reads the sources with TypeScript 6; tsc 7 is what checks them.
  skipErrorChecking: true,
  sort: ["kind", "instance-first", "source-order"],
  // protoc-gen-es marks generated declarations with @generated.
  blockTags: [...OptionDefaults.blockTags, "@generated"],
  validation: { notExported: false, invalidLink: true, notDocumented: false },
};
