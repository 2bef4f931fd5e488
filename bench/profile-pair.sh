#!/usr/bin/env bash
# Profile both implementations of one wintun-bench scenario, for the
# "Where the targets stop" analysis in the README: where a target is out of
# reach, the kernel work both sides share shows the bound.
#
#   bench/profile-pair.sh OUT ENGINE-COMM [WINTUN-BENCH ARGS...]
#   e.g. bench/profile-pair.sh bench/results/x/tcp wintun/wbA --scenario tcp
#
# One wintun-bench run of one scenario (--runs 1: the engine's part, then
# the baseline's), with `perf record -a -g` for PERF_SECS (default 4)
# seconds inside each part, 1 s after it starts.  Writes, per part
# (engine, baseline): OUT.PART.comm.txt (shares of all samples by thread)
# and OUT.PART.children.txt (the I/O thread's symbols, inclusive, as shares
# of all samples), and OUT.bench.txt/.err (the run's own table) and OUT.cmd.
# ENGINE-COMM: the engine thread's name in that scenario (wintun/wb0 for
# rx, wintun/wbA for fwd and tcp, wintun/wbOA for tso); the baseline's I/O
# thread is wb-base-io.  BUILD (environment): the build (default
# build-repro).  Needs root and perf; everything runs in the namespaces
# wintun-bench makes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OUT ENGINE-COMM [WINTUN-BENCH ARGS...]" >&2; exit 2; }
out=$1 comm=$2
shift 2
secs=${PERF_SECS:-4}
wb=${BUILD:-build-repro}/bench/wintun-bench
[ -x "$wb" ] || { echo "profile-pair: $wb is missing (meson setup ${BUILD:-build-repro})" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile-pair: needs perf (linux-perf)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
bench_pid=
cleanup() {
  [ -n "$bench_pid" ] && kill -INT "$bench_pid" 2>/dev/null && wait "$bench_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# Each part lasts secs + 6 s: 1 s of warm-up, the recording, and room for
# perf to start late on a loaded machine.
args=("$@" --runs 1 --duration $((secs + 6)))
"$wb" "${args[@]}" >"$out.bench.txt" 2>"$out.bench.err" &
bench_pid=$!
printf '%s\n' "$wb ${args[*]}  # perf record -a -g -- sleep $secs, 1 s into each part" >"$out.cmd"

# wait_part PART: until wintun-bench reports that part's run started.
wait_part() {
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q "run 1/1 $1" "$out.bench.err" 2>/dev/null && return 0
    kill -0 "$bench_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "profile-pair: the $1 part never started (see $out.bench.err)" >&2
  exit 1
}

for part in engine baseline; do
  wait_part "$part"
  sleep 1
  perf record -q -o "$tmp/$part.data" -a -g -- sleep "$secs" >"$tmp/$part.record" 2>&1 ||
    { cat "$tmp/$part.record" >&2; exit 1; }
  # The profile is that part's only if it still runs.
  grep -q "run 1/1 $part" <(tail -c 200 "$out.bench.err" | tr '\r' '\n' | tail -n 1) ||
    { echo "profile-pair: the $part part ended before perf did" >&2; exit 1; }
done
wait "$bench_pid"
bench_pid=

for part in engine baseline; do
  thread=$comm
  [ "$part" = baseline ] && thread='wb-base-io'
  rep=(perf report -i "$tmp/$part.data" --stdio --percentage absolute)
  "${rep[@]}" --no-children --sort comm -g none --percent-limit 0.5 \
    >"$out.$part.comm.txt" 2>/dev/null
  "${rep[@]}" --children --comm "$thread" --sort sym -g none --percent-limit 0.5 \
    >"$out.$part.children.txt" 2>/dev/null
  grep -q '%' "$out.$part.children.txt" ||
    { echo "profile-pair: no samples of $thread in the $part part" >&2; exit 1; }
done
echo "profile-pair: $out.{engine,baseline}.{comm,children}.txt" >&2
