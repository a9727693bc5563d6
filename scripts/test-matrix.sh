#!/usr/bin/env bash
# The whole test matrix, as CI runs it, in two lanes that run side by side (the machine has two
# cores and most of a suite's time is spent waiting on etcd, elections and timers):
#
#   lane A: unit tests; etcd 3.4.23 integration and fault suites; etcd 3.6.14 integration;
#           stock connect-node's transport on etcd 3.5.16; the integration suite on Deno
#   lane B: etcd 3.7.1 integration and fault suites; etcd 3.5.30 integration; the KV, watch and
#           lease suites over the JSON gateway; the browser suite (headless Chromium; skipped,
#           saying why, without it); the integration suite on Bun; the integration suite on
#           Node 22 against etcd 3.6.14
#
# Every supported etcd line runs the integration suite (3.5.16 through connect-node's stock
# transport, the same facade above a different transport: 3.5.30 runs the 3.5 line on the lean one).
# Each run starts its own etcd members on free loopback ports (and its own network namespaces), so
# the lanes do not meet. A lane's output goes to its log, printed whole when the lane ends; the
# exit status is non-zero when any run failed.
#
#   scripts/test-matrix.sh            (npm run test:matrix)
#   MATRIX_LANES=1 scripts/test-matrix.sh   one lane after the other
#
# etcdctl is the peer the interop and CLI tests compare with. The CLI's output follows etcdctl
# 3.7.1 (and etcdutl 3.7.1 for snapshot status), which speaks to every line, so every line is
# tested against etcdctl 3.7.1; etcdutl is found beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin() { bash scripts/install-etcd.sh --print "$1"; }
node="node_modules/.bin/node"
test_args=(--test --test-concurrency=1 --test-timeout=600000)
# Resolve every binary once, before the lanes start (the install script may have work to do).
e34="$(bin 3.4.23)" e3516="$(bin 3.5.16)" e3530="$(bin 3.5.30)" e36="$(bin 3.6.14)" e37="$(bin 3.7.1)"
ctl="$(dirname "$e37")/etcdctl"
integration="test/integration/**/*.test.ts"
fault="test/fault/**/*.test.ts"
logs=".cache/test-matrix"
mkdir -p "$logs"

run() {
  local label="$1" etcd="$2"
  shift 2
  local started=$SECONDS status=0
  printf '\n=== %s ===\n' "$label"
  ETCD_BIN="$etcd" ETCDCTL_BIN="$ctl" "$node" "${test_args[@]}" "$@" || status=$?
  printf '=== %s: %d s%s ===\n' "$label" $((SECONDS - started)) "$([ $status = 0 ] || echo ", FAILED ($status)")"
  return $status
}

# The integration suite on Bun or Deno (their own test runners; counts and skip reasons at the
# end), against the newest line: it runs the most of the suite (3.6+ APIs, etcd's tracing).
runtime() {
  local name="$1" started=$SECONDS status=0
  printf '\n=== %s, etcd 3.7.1: integration ===\n' "$name"
  ETCD_BIN="$e37" ETCDCTL_BIN="$ctl" bash scripts/test-runtime.sh "$name" || status=$?
  printf '=== %s, etcd 3.7.1: %d s%s ===\n' "$name" $((SECONDS - started)) "$([ $status = 0 ] || echo ", FAILED ($status)")"
  return $status
}

lane_a() {
  local failed=0
  printf '\n=== unit tests ===\n'
  "$node" --test "test/unit/**/*.test.ts" || failed=1
  run "etcd 3.4.23: integration and fault suites" "$e34" "$integration" "$fault" || failed=1
  run "etcd 3.6.14: integration" "$e36" "$integration" || failed=1
  ETCD_CONNECT_TRANSPORT=connect run "stock connect-node transport, etcd 3.5.16: integration" \
    "$e3516" "$integration" || failed=1
  runtime deno || failed=1
  return $failed
}

# The integration suite on Node 22: its V8 lacks syntax the sources use (`await using`), so
# scripts/older-node.ts has esbuild transpile each .ts file for it as it loads (children too, by
# NODE_OPTIONS). Node 22 itself comes from npm, as the package test's does.
node22() {
  local dir=".cache/node22" status=0 started=$SECONDS
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    npm install --prefix "$dir" --no-save --no-audit --no-fund node@22.23.3 >/dev/null
  fi
  printf '\n=== Node %s, etcd 3.6.14: integration ===\n' "$("$dir/node_modules/.bin/node" --version)"
  ETCD_BIN="$e36" ETCDCTL_BIN="$ctl" NODE_OPTIONS="--import $PWD/scripts/older-node.ts" \
    "$dir/node_modules/.bin/node" "${test_args[@]}" --test-reporter=spec "$integration" || status=$?
  printf '=== Node 22, etcd 3.6.14: integration: %d s%s ===\n' $((SECONDS - started)) "$([ $status = 0 ] || echo ", FAILED ($status)")"
  return $status
}

lane_b() {
  local failed=0
  run "etcd 3.7.1: integration and fault suites" "$e37" "$integration" "$fault" || failed=1
  run "etcd 3.5.30: integration" "$e3530" "$integration" || failed=1
  ETCD_CONNECT_TRANSPORT=gateway run "JSON gateway transport, etcd 3.7.1: kv, watch, lease" \
    "$e37" test/integration/kv.test.ts test/integration/watch.test.ts \
    test/integration/lease.test.ts || failed=1
  run "etcd 3.7.1: browser suite (the web entry and examples/browser in Debian's Chromium)" \
    "$e37" "test/browser/**/*.test.ts" || failed=1
  runtime bun || failed=1
  node22 || failed=1
  return $failed
}

started=$SECONDS
status=0
if [ "${MATRIX_LANES:-2}" = 1 ]; then
  lane_a || status=1
  lane_b || status=1
  exit $status
fi
lane_a >"$logs/lane-a.log" 2>&1 &
pid_a=$!
lane_b >"$logs/lane-b.log" 2>&1 &
pid_b=$!
for lane in a b; do
  pid_var="pid_$lane"
  lane_status=0
  wait "${!pid_var}" || lane_status=$?
  printf '\n##### lane %s (%s) #####\n' "$lane" "$([ $lane_status = 0 ] && echo passed || echo FAILED)"
  cat "$logs/lane-$lane.log"
  [ $lane_status = 0 ] || status=1
done
printf '\n##### the matrix took %d s; each run: #####\n' $((SECONDS - started))
grep -h '^=== .*: [0-9]* s' "$logs"/lane-*.log || true
exit $status
