#!/usr/bin/env bash
# npm run docs: the API reference, built by TypeDoc from the JSDoc of src/index.ts's exports,
# into docs/api/ (git-ignored; open docs/api/index.html). TypeDoc lives in scripts/typedoc/ with
# TypeScript 6, because it needs the JavaScript compiler API that TypeScript 7 no longer has.
set -euo pipefail
cd "$(dirname "$0")/typedoc"
if [ ! -x node_modules/.bin/typedoc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node node_modules/typedoc/bin/typedoc --options typedoc.config.mjs "$@"
