#!/usr/bin/env bash
# The integration suite (or the files given) on Bun or Deno, against the etcd of ETCD_BIN, with
# the counts of passed, failed and skipped tests and the reasons for the skips:
#
#   ETCD_BIN=... ETCDCTL_BIN=... scripts/test-runtime.sh bun|deno [files or folders...]
#
# The binaries come from the devDependencies `bun` and `deno`. Bun's is put in place by its
# install script: where npm ran with scripts off (--ignore-scripts), that script runs here.
set -euo pipefail
cd "$(dirname "$0")/.."
runtime="${1:-}"
case "$runtime" in
  bun | deno) ;;
  *)
    echo "usage: scripts/test-runtime.sh bun|deno [files or folders...]" >&2
    exit 2
    ;;
esac
node="node_modules/.bin/node"
if ! "node_modules/.bin/$runtime" --version >/dev/null 2>&1; then
  echo "node_modules/.bin/$runtime does not run: running its install script" >&2
  case "$runtime" in
    bun) (cd node_modules/bun && ../.bin/node install.js) ;;
    deno) (cd node_modules/deno && ../.bin/node install.cjs) ;;
  esac
fi
printf '%s %s\n' "$runtime" "$("node_modules/.bin/$runtime" --version | head -n 1)"
exec "$node" scripts/test-runtime.ts "$@"
