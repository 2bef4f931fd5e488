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
pump=${BUILD:-build}/tools/tun-pump
need_tools " (tools/setup-deps.sh)" iperf3 jq
need_build "$pump"

# Namespace names carry our PID: two instances (or a leftover) never collide.
# tun-pump removes its namespaces itself, unless it was killed.
ns_a=wtbench-a-$$ ns_b=wtbench-b-$$ veth_a=wtveth-a-$$ veth_b=wtveth-b-$$
pump_pid='' gbps=''
bench_children=(srv_pid pump_pid) bench_netns=("$veth_a" "$veth_b" "$ns_a" "$ns_b")
bench_begin

through_pump() { # MODE-NAME MODE-ARGS...
  local mode=$1; shift
  "$pump" --create-netns --netns-a "$ns_a" --netns-b "$ns_b" --quiet \
    --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
    --duration $((secs + 60)) "$@" >/dev/null 2>"$tmp/pump.err" &
  # shellcheck disable=SC2034 # read by stop() through ${!1}
  pump_pid=$!
  # Ready once its forwarder thread runs (after both sessions are up); on a
  # slow machine (a kernel under emulation) that takes seconds.  The
  # duration above only guards against a hang: it is stopped below.
  retry 600 has_thread "$pump_pid" tun-pump/fwd || true
  iperf_gbps "$ns_a" "$ns_b" 10.2.0.1 || { cat "$tmp/pump.err" >&2; fail "$mode: iperf3 through tun-pump gave no result"; }
  # A pump that died during the stream makes the number meaningless.
  kill -0 "$pump_pid" 2>/dev/null || { cat "$tmp/pump.err" >&2; fail "$mode: tun-pump exited during the stream"; }
  stop pump_pid
}

through_veth() {
  ip netns add "$veth_a"; ip netns add "$veth_b"
  veth_pair "$veth_a" wtv-a 10.3.0.1/24 "$veth_b" wtv-b 10.3.0.2/24
  iperf_gbps "$veth_a" "$veth_b" 10.3.0.2 || fail "veth: iperf3 gave no result"
  ip netns del "$veth_a"; ip netns del "$veth_b"
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
