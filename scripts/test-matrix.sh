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
# Every run has a time limit, about twice what it takes here: a run still going at its limit is
# listed with its processes (which test file, which etcd), stopped with its whole process group
# and counted as failed, so a hang costs minutes, not the whole CI. Each run's start and end are
# also printed as they happen, so a CI run stopped from outside still shows how far each lane got.
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
test_args=(--test --test-concurrency=1 --test-timeout=300000)
# Resolve every binary once, before the lanes start (the install script may have work to do).
e34="$(bin 3.4.23)" e3516="$(bin 3.5.16)" e3530="$(bin 3.5.30)" e36="$(bin 3.6.14)" e37="$(bin 3.7.1)"
ctl="$(dirname "$e37")/etcdctl"
integration="test/integration/**/*.test.ts"
fault="test/fault/**/*.test.ts"
logs=".cache/test-matrix"
rm -rf "$logs"
mkdir -p "$logs"
# Each failed run adds a line "label<TAB>its log" here, for the digest at the end.
failures="$logs/failed-runs"
: >"$failures"
# Progress goes to fd 3: the matrix's own output, not the lane's log.
exec 3>&1
lane="-"

progress() { printf '[lane %s, %s] %s\n' "$lane" "$(date +%T)" "$*" >&3; }

# timed LIMIT LABEL COMMAND...: runs COMMAND in a process group of its own, stopping the group
# at LIMIT seconds. Its output goes to the lane's log and to a log of its own, whose end is
# printed again at the end of the matrix when the run failed.
runs=0
timed() {
  local limit="$1" label="$2"
  shift 2
  local started=$SECONDS status=0 stopped=0 pid
  runs=$((runs + 1))
  local run_log="$logs/run-$lane-$runs.log"
  printf '\n=== %s ===\n' "$label"
  progress "started: $label (limit $limit s)"
  setsid bash -o pipefail -c '"${@:2}" 2>&1 | tee -- "$1"' _ "$run_log" "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS - started >= limit)); then
      # Not `tee /dev/fd/3`: where fd 3 is a file, tee would open it again from its start.
      local listing
      listing="$(
        printf '\n!!! %s: still running after %d s, stopped; its processes were:\n' "$label" "$limit"
        ps -o pid,etimes,args --forest -g "$pid" || true
      )"
      printf '%s\n' "$listing" | tee -a "$run_log" >&3
      printf '%s\n' "$listing"
      kill -TERM -- "-$pid" 2>/dev/null || true
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 1
      done
      kill -KILL -- "-$pid" 2>/dev/null || true
      stopped=1
      break
    fi
    sleep 1
  done
  wait "$pid" || status=$?
  if ((stopped)); then status=124; fi
  local outcome
  outcome="$([ $status = 0 ] || echo ", FAILED ($status)")"
  printf '=== %s: %d s%s ===\n' "$label" $((SECONDS - started)) "$outcome"
  progress "ended: $label: $((SECONDS - started)) s${outcome}"
  if [ $status != 0 ]; then printf '%s\t%s\n' "$label" "$run_log" >>"$failures"; fi
  return $status
}

run() {
  local limit="$1" label="$2" etcd="$3"
  shift 3
  ETCD_BIN="$etcd" ETCDCTL_BIN="$ctl" timed "$limit" "$label" "$node" "${test_args[@]}" "$@"
}

# The integration suite on Bun or Deno (their own test runners; counts and skip reasons at the
# end), against the newest line: it runs the most of the suite (3.6+ APIs, etcd's tracing).
# Neither runner has a time limit of its own that covers a hung file.
runtime() {
  ETCD_BIN="$e37" ETCDCTL_BIN="$ctl" timed 900 "$1, etcd 3.7.1: integration" \
    bash scripts/test-runtime.sh "$1"
}

lane_a() {
  local failed=0
  lane=a
  timed 300 "unit tests" "$node" --test "test/unit/**/*.test.ts" || failed=1
  run 1500 "etcd 3.4.23: integration and fault suites" "$e34" "$integration" "$fault" || failed=1
  run 900 "etcd 3.6.14: integration" "$e36" "$integration" || failed=1
  ETCD_CONNECT_TRANSPORT=connect run 900 "stock connect-node transport, etcd 3.5.16: integration" \
    "$e3516" "$integration" || failed=1
  runtime deno || failed=1
  return $failed
}

# The integration suite on Node 22: its V8 lacks syntax the sources use (`await using`), so
# scripts/older-node.ts has esbuild transpile each .ts file for it as it loads (children too, by
# NODE_OPTIONS). Node 22 itself comes from npm, as the package test's does.
node22() {
  local dir=".cache/node22"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    npm install --prefix "$dir" --no-save --no-audit --no-fund node@22.23.3 >/dev/null
  fi
  ETCD_BIN="$e36" ETCDCTL_BIN="$ctl" NODE_OPTIONS="--import $PWD/scripts/older-node.ts" \
    timed 1200 "Node $("$dir/node_modules/.bin/node" --version), etcd 3.6.14: integration" \
    "$dir/node_modules/.bin/node" "${test_args[@]}" --test-reporter=spec "$integration"
}

lane_b() {
  local failed=0
  lane=b
  run 1500 "etcd 3.7.1: integration and fault suites" "$e37" "$integration" "$fault" || failed=1
  run 900 "etcd 3.5.30: integration" "$e3530" "$integration" || failed=1
  ETCD_CONNECT_TRANSPORT=gateway run 300 "JSON gateway transport, etcd 3.7.1: kv, watch, lease" \
    "$e37" test/integration/kv.test.ts test/integration/watch.test.ts \
    test/integration/lease.test.ts || failed=1
  run 300 "etcd 3.7.1: browser suite (the web entry and examples/browser in Debian's Chromium)" \
    "$e37" "test/browser/**/*.test.ts" || failed=1
  runtime bun || failed=1
  node22 || failed=1
  return $failed
}

# The end of each failed run's own log, last, where a reader of only the end of the output
# finds it: node's spec reporter closes with its failing tests and their errors, the Bun and
# Deno runs with the failed tests and what each printed, a stopped run with its processes.
digest() {
  [ -s "$failures" ] || return 0
  printf '\n##### what failed (the failing tests, then the last %d lines of each failed run) #####\n' "$digest_lines"
  while IFS=$'\t' read -r label run_log; do
    printf '\n--- %s ---\n' "$label"
    # A run stopped at its limit never printed its summary: its failing tests' lines (Bun's
    # "(fail)", node:test's "✖", Deno's "... FAILED") from anywhere in its log, first ones first.
    grep -E '^\(fail\) |^ *✖ |\.\.\. FAILED' "$run_log" | head -n "$digest_failed" || true
    printf -- '--- %s: its last %d lines ---\n' "$label" "$digest_lines"
    tail -n "$digest_lines" "$run_log"
  done <"$failures"
}
digest_lines=80
digest_failed=30

started=$SECONDS
status=0
if [ "${MATRIX_LANES:-2}" = 1 ]; then
  lane_a || status=1
  lane_b || status=1
  digest
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
digest
exit $status
