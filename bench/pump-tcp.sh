#!/usr/bin/env bash
# One TCP stream (iperf3) through tun-pump in each of its modes, and through
# a veth pair (the kernel's own bound), in throw-away namespaces; N runs each,
# interleaved, medians printed.
#   bench/pump-tcp.sh [RUNS] [SECONDS] [JSON-OUT]
# JSON-OUT (optional): every run's Gbit/s and the medians, for bench/tables.sh.
# BUILD (environment, default build): the build directory holding tools/tun-pump.
# Any failed measurement stops the script with a message naming the mode.
set -euo pipefail
cd "$(dirname "$0")/.."
me='pump-tcp.sh'
# shellcheck source=bench/lib.sh
. bench/lib.sh
runs=${1:-3}
secs=${2:-4}
json_out=${3:-}
need_tools " (tools/setup-deps.sh)" iperf3 jq
pump_setup wtbench wtveth

through_pump() { # MODE-NAME MODE-ARGS...
  local mode=$1; shift
  pump_start /dev/null "$@"
  iperf_gbps "$ns_a" "$ns_b" 10.2.0.1 || pump_failed "$mode: iperf3 through tun-pump gave no result"
  # A pump that died during the stream makes the number meaningless.
  kill -0 "$pump_pid" 2>/dev/null || pump_failed "$mode: tun-pump exited during the stream"
  stop pump_pid
}

through_veth() {
  veth_gbps "$veth_a" wtv-a "$veth_b" wtv-b || fail "veth: iperf3 gave no result"
}

declare -A res
modes=("offload" "split" "no-offload" "veth")
for r in $(seq "$runs"); do
  through_pump offload; res[offload]+="$gbps "
  through_pump split --split; res[split]+="$gbps "
  through_pump no-offload --no-offload; res[no-offload]+="$gbps "
  through_veth; res[veth]+="$gbps "
  echo "run $r/$runs done" >&2
done
printf '%-12s %-10s %s\n' mode "Gbit/s" "runs"
for m in "${modes[@]}"; do
  printf '%-12s %-10s %s\n' "$m" "$(echo "${res[$m]}" | tr ' ' '\n' | grep . | median)" "${res[$m]}"
done
if [ -n "$json_out" ]; then
  for m in "${modes[@]}"; do
    echo "${res[$m]}" | tr ' ' '\n' | grep . | jq -s --arg m "$m" \
      '{($m): {median: (sort | .[(length - 1) / 2 | floor]), runs: .}}'
  done | jq -s --argjson runs "$runs" --argjson secs "$secs" \
    '{tool: "pump-tcp.sh", runs: $runs, seconds: $secs, unit: "Gbit/s", modes: add}' >"$json_out"
fi
