#!/usr/bin/env bash
# The whole test matrix, as CI runs it: unit tests once; the integration suite on every supported
# etcd line; the long fault suites on the oldest and the newest line; stock connect-node's
# transport on one line; the KV, watch and lease suites over the JSON gateway on the newest; the
# integration suite on Bun and on Deno on the newest line; the browser suite (headless Chromium;
# skipped, saying why, without it) on the newest. Each run starts its own etcd members on free
# loopback ports.
#
#   scripts/test-matrix.sh            (npm run test:matrix)
#
# etcdctl is the peer the interop and CLI tests compare with. The CLI's output follows etcdctl
# 3.7.1 (and etcdutl 3.7.1 for snapshot status), which speaks to every line, so every line is
# tested against etcdctl 3.7.1; etcdutl is found beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin() { bash scripts/install-etcd.sh --print "$1"; }
node="node_modules/.bin/node"
test_args=(--test --test-concurrency=1 --test-timeout=600000)
ctl="$(dirname "$(bin 3.7.1)")/etcdctl"

run() {
  local label="$1" etcd="$2" etcdctl="$3"
  shift 3
  local started=$SECONDS
  printf '\n=== %s ===\n' "$label"
  ETCD_BIN="$etcd" ETCDCTL_BIN="$etcdctl" "$node" "${test_args[@]}" "$@"
  printf '=== %s: %d s ===\n' "$label" $((SECONDS - started))
}

integration="test/integration/**/*.test.ts"
fault="test/fault/**/*.test.ts"

printf '\n=== unit tests ===\n'
"$node" --test "test/unit/**/*.test.ts"

e34="$(bin 3.4.23)"
run "etcd 3.4.23: integration and fault suites" "$e34" "$ctl" "$integration" "$fault"
run "etcd 3.5.16: integration" "$(bin 3.5.16)" "$ctl" "$integration"
run "etcd 3.5.30: integration" "$(bin 3.5.30)" "$ctl" "$integration"
run "etcd 3.6.14: integration" "$(bin 3.6.14)" "$ctl" "$integration"
run "etcd 3.7.1: integration and fault suites" "$(bin 3.7.1)" "$ctl" "$integration" "$fault"
run "etcd 3.7.1: browser suite (the web entry and examples/browser in Debian's Chromium)" \
  "$(bin 3.7.1)" "$ctl" "test/browser/**/*.test.ts"
ETCD_CONNECT_TRANSPORT=connect run "stock connect-node transport, etcd 3.5.16: integration" \
  "$(bin 3.5.16)" "$ctl" "$integration"
ETCD_CONNECT_TRANSPORT=gateway run "JSON gateway transport, etcd 3.7.1: kv, watch, lease" \
  "$(bin 3.7.1)" "$ctl" test/integration/kv.test.ts test/integration/watch.test.ts \
  test/integration/lease.test.ts

# The integration suite on Bun and on Deno (their own test runners; counts and skip reasons at
# the end), against the newest line: it runs the most of the suite (3.6+ APIs, etcd's tracing).
runtime() {
  local name="$1" started=$SECONDS
  printf '\n=== %s, etcd 3.7.1: integration ===\n' "$name"
  ETCD_BIN="$(bin 3.7.1)" ETCDCTL_BIN="$ctl" bash scripts/test-runtime.sh "$name"
  printf '=== %s, etcd 3.7.1: %d s ===\n' "$name" $((SECONDS - started))
}
runtime bun
runtime deno
