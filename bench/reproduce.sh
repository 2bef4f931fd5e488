#!/usr/bin/env bash
# Regenerates every table and figure of README.md's "## Performance" section
# at the checked-out commit:
#   bench/reproduce.sh [--quick] [--out DIR]
# into bench/results/<date>-<commit>/ (--quick: ...-quick/, a 1-2 minute smoke
# run whose numbers mean nothing): the raw text and JSON of every run, the
# command of each (*.cmd), the machine (machine.json), the plots, perf's
# reports, and tables.md, the README's tables filled from all that by
# bench/tables.sh.  About 15 minutes in full; run it on a quiet machine.
# Needs root, jq, gnuplot, iperf3, perf.  BUILD (environment, default
# build-repro) is the build directory, set up here if missing (no sanitizers).
# All traffic stays in the network namespaces wintun-bench, tun-pump and
# pump-tcp.sh create and remove.  A failing step stops the script, naming it.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "reproduce.sh: $*" >&2; exit 1; }

quick=false out=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=true ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --help|-h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

# Runs x seconds per measurement; the full values are the README's.
if $quick; then
  runs=1 secs=0.3 light_runs=1 light_secs=0.3 pump_runs=1 pump_secs=1 cs_runs=1 perf_secs=1
  step_limit=300
else
  runs=5 secs=3 light_runs=5 light_secs=2 pump_runs=5 pump_secs=4 cs_runs=5 perf_secs=5
  step_limit=1200
fi
# step_limit: seconds; a hang guard only, several times a step's normal length.

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, TUN devices, perf -a)"
for tool in git meson ninja jq gnuplot iperf3 perf ip; do
  command -v "$tool" >/dev/null || die "$tool is missing (tools/setup-deps.sh installs the tools)"
done

commit=$(git rev-parse --short=12 HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "reproduce.sh: WARNING: uncommitted changes; the results are marked -dirty" >&2
  commit+=-dirty
fi
date=$(date -u +%F)
suffix=
if $quick; then suffix=-quick; fi
out=${out:-bench/results/$date-$commit$suffix}
if [ -e "$out" ]; then
  # A smoke run's directory is ours to replace; a full run's is never overwritten.
  $quick && [[ $out == *-quick ]] && rm -rf "$out"
  [ -e "$out" ] && die "$out exists: remove it or give --out"
fi
mkdir -p "$out"
build=${BUILD:-build-repro}
wb=$build/bench/wintun-bench

tmp=$(mktemp -d)
bench_pid=
cleanup() {
  if [ -n "$bench_pid" ]; then
    kill -INT "$bench_pid" 2>/dev/null || true
    wait "$bench_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "reproduce.sh: interrupted" >&2; exit 130' INT TERM

total=15 n=0 current=
begin() { # NAME: announces a step
  n=$((n + 1)) current=$1
  printf '== [%d/%d] %s  (%s)\n' "$n" "$total" "$1" "$(date -u +%T)" >&2
}
failed() { # RC [LOG]: says which step failed and shows the end of its log
  echo "reproduce.sh: step $n/$total '$current' FAILED (exit $1)${2:+; log: $2}" >&2
  [ -n "${2:-}" ] && [ -s "$2" ] && tail -n 15 "$2" | sed 's/^/  | /' >&2
  exit 1
}

# NAME CMD...: runs CMD, stdout to NAME.txt, stderr to NAME.err, CMD to NAME.cmd.
step() {
  local name=$1; shift
  begin "$name"
  printf '%s\n' "$*" >"$out/$name.cmd"
  local rc=0
  timeout -k 30 -s INT "$step_limit" "$@" >"$out/$name.txt" 2>"$out/$name.err" || rc=$?
  [ "$rc" = 124 ] && echo "reproduce.sh: $name: still running after $step_limit s, stopped" >>"$out/$name.err"
  [ "$rc" = 0 ] || failed "$rc" "$out/$name.err"
  [ -s "$out/$name.err" ] || rm -f "$out/$name.err"
}

bench() { # NAME ARGS...: a wintun-bench run, with its table and its JSON
  local name=$1; shift
  step "$name" "$wb" "$@" --json-out "$out/$name.json"
  jq -e '.scenarios | length > 0' "$out/$name.json" >/dev/null || failed 1 "$out/$name.json"
}

build_step() {
  begin build
  {
    if [ ! -e "$build/build.ninja" ]; then
      meson setup "$build" -Db_sanitize=none
    fi
    ninja -C "$build" bench/wintun-bench tools/tun-pump
  } >"$tmp/build.log" 2>&1 || failed $? "$tmp/build.log"
  # Numbers from a sanitizer or unoptimized build would mean nothing.
  local opts
  opts=$(meson introspect "$build" --buildoptions |
    jq -r 'map(select(.name == "buildtype" or .name == "b_sanitize" or .name == "optimization"))
           | map("\(.name)=\(.value)") | join(" ")')
  case $opts in
    *b_sanitize=none*) ;;
    *) die "$build is a sanitizer build ($opts): set BUILD to another directory" ;;
  esac
  case $opts in
    *optimization=2*|*optimization=3*) ;;
    *) die "$build is not optimized ($opts): set BUILD to another directory" ;;
  esac
  build_opts=$opts
}

machine() { # machine.json: where and how the numbers were measured
  local os cpu_model
  os=$(. /etc/os-release && echo "$PRETTY_NAME")
  cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
  jq -n --arg commit "$commit" --arg date "$date" --arg kernel "$(uname -r)" --arg os "$os" \
    --arg cpu_model "${cpu_model:-unknown}" --arg cpus "$(nproc)" \
    --arg memory "$(free -g | awk '/^Mem:/ { print $2 " GiB" }')" \
    --arg compiler "$(${CC:-cc} --version | head -n 1)" --arg build "$build_opts" \
    --arg perf "$(perf --version)" --argjson quick "$quick" \
    --arg cycles_method "$(jq -r .cycles_method "$out/flood.json")" \
    --arg engine_features "$(jq -r '.engine_features // "?"' "$out/flood.json")" \
    '$ARGS.named' >"$out/machine.json"
}

checksum() { # the routine's table, also as JSON
  step checksum "$wb" --checksum --runs "$cs_runs"
  awk '$1 ~ /^[0-9]+$/ && NF == 10 {
         printf "{\"bytes\": %s, \"wt_gbs\": %s, \"wt_b_per_cycle\": %s, \"textbook_gbs\": %s, \"textbook_b_per_cycle\": %s, \"ratio\": %s}\n",
                $1, $2, $4, $6, $8, $10 }' "$out/checksum.txt" |
    jq -s --argjson runs "$cs_runs" '{tool: "wintun-bench --checksum", runs: $runs, sizes: .}' \
      >"$out/checksum.json"
  jq -e '.sizes | length == 3' "$out/checksum.json" >/dev/null ||
    failed 1 "$out/checksum.txt (not the expected 3 sizes: has its format changed?)"
}

engine_tid() { # PID COMM LOG: waits for the engine run's thread COMM, prints its id
  local t
  for _ in $(seq 300); do
    kill -0 "$1" 2>/dev/null || return 1
    # Not before the run: setting up may start short-lived sessions too.
    grep -q 'run 1/1 engine' "$3" 2>/dev/null || { sleep 0.1; continue; }
    for t in /proc/"$1"/task/*; do
      [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && { basename "$t"; return 0; }
    done
    sleep 0.1
  done
  return 1
}

# NAME ENGINE-COMM all|thread SCENARIO: perf record while the engine runs
# SCENARIO (the first run of a wintun-bench invocation is the engine's);
# then the run is stopped.  Keeps perf's reports as text, not perf.data
# (large, and only readable with this machine's symbols).
profile() {
  local name=$1 comm=$2 scope=$3 scenario=$4 tid rec
  begin "$name"
  local args=(--scenario "$scenario" --runs 1 --duration $((perf_secs + 8)))
  "$wb" "${args[@]}" >"$out/$name.bench.txt" 2>"$out/$name.bench.err" &
  bench_pid=$!
  tid=$(engine_tid "$bench_pid" "$comm" "$out/$name.bench.err") || failed 1 "$out/$name.bench.err (no thread $comm)"
  sleep 1 # past the warm-up
  rec=(perf record -o "$tmp/$name.data" -g)
  if [ "$scope" = all ]; then rec+=(-a); else rec+=(-t "$tid"); fi
  rec+=(-- sleep "$perf_secs")
  printf '%s & %s  # while thread %s runs\n' "$wb ${args[*]}" "${rec[*]/#$tmp\//}" "$comm" >"$out/$name.cmd"
  "${rec[@]}" >"$out/$name.record.txt" 2>&1 || failed $? "$out/$name.record.txt"
  # The profile is only the engine's if its run outlasted the recording.
  [ "$(cat "/proc/$bench_pid/task/$tid/comm" 2>/dev/null)" = "$comm" ] ||
    failed 1 "$out/$name.bench.err (the engine run ended before perf did)"
  kill -INT "$bench_pid"
  local rc=0
  wait "$bench_pid" || rc=$?
  bench_pid=
  [ "$rc" = 0 ] || [ "$rc" = 130 ] || failed "$rc" "$out/$name.bench.err"
  echo "$comm (thread id $tid)" >"$out/$name.engine-comm"
  local rep=(perf report -i "$tmp/$name.data" --stdio --percentage absolute)
  {
    "${rep[@]}" --no-children --sort comm -g none --percent-limit 0.5 >"$out/$name.comm.txt"
    "${rep[@]}" --no-children --sort comm,dso,sym -g none --percent-limit 0.3 >"$out/$name.sym.txt"
    "${rep[@]}" --children --tid "$tid" --sort sym -g none --percent-limit 1 >"$out/$name.engine.txt"
    "${rep[@]}" --no-children --tid "$tid" --sort sym -g graph,2,caller --percent-limit 2 >"$out/$name.callgraph.txt"
  } 2>"$out/$name.report.err" || failed $? "$out/$name.report.err"
  grep -q '%' "$out/$name.engine.txt" || failed 1 "$out/$name.engine.txt (no samples of $comm)"
  [ -s "$out/$name.report.err" ] || rm -f "$out/$name.report.err"
}

note=
if $quick; then note=' (quick smoke run)'; fi
echo "reproduce.sh: commit $commit, results in $out$note" >&2
build_step
checksum
bench flood --scenario rx --scenario tx --scenario fwd --scenario pingpong --runs "$runs" --duration "$secs"
machine
bench offload --scenario tcp --scenario tso --scenario tso-split --runs "$runs" --duration "$secs"
bench rx-drain --scenario rx --scenario pingpong --runs "$light_runs" --duration "$light_secs"
bench rx-multishot --scenario rx --scenario pingpong --rx-multishot --runs "$light_runs" --duration "$light_secs"
bench paced --rate 80000 --scenario rx --scenario tx --scenario fwd --scenario pingpong \
  --runs "$light_runs" --duration "$light_secs"
bench paced-spin0 --rate 80000 --spin-us 0 --scenario rx --scenario tx --scenario fwd --scenario pingpong \
  --runs "$light_runs" --duration "$light_secs"
step batch-calls "$wb" --calls --runs "$cs_runs"
bench batch --scenario rx --scenario tx --scenario rx-batch --scenario tx-batch \
  --runs "$light_runs" --duration "$light_secs"
step pump-tcp env BUILD="$build" bench/pump-tcp.sh "$pump_runs" "$pump_secs" "$out/pump-tcp.json"
profile perf-tso wintun/wbOA all tso
profile perf-rx wintun/wb0 thread rx
step plots bench/plot.sh "$out/flood.json" "$out/plots" "commit $commit"
step tables bench/tables.sh "$out"
mv "$out/tables.txt" "$out/tables.md"
[ "$n" = "$total" ] || die "ran $n steps of $total: the step count is out of date"
echo "reproduce.sh: done; the README's tables are in $out/tables.md" >&2
