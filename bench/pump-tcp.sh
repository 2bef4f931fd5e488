#!/usr/bin/env bash
# One TCP stream (iperf3) through tun-pump in each of its modes, and through
# a veth pair (the kernel's own bound), in throw-away namespaces; N runs each,
# interleaved, medians printed.  Usage: bench/pump-tcp.sh [RUNS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
secs=${2:-4}
pump=build/tools/tun-pump
command -v iperf3 >/dev/null || { echo "needs iperf3 (tools/setup-deps.sh)" >&2; exit 1; }

iperf() { # NS_CLIENT NS_SERVER ADDR -> Gbit/s
  ip netns exec "$2" iperf3 -s -1 -D -B "$3" >/dev/null 2>&1
  sleep 0.3
  ip netns exec "$1" iperf3 -c "$3" -t "$secs" -J 2>/dev/null |
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}

through_pump() { # MODE-ARGS...
  "$pump" --create-netns --netns-a wtbench-a --netns-b wtbench-b --quiet \
    --addr-a 10.1.0.1/24 --route-a 10.2.0.0/24 --addr-b 10.2.0.1/24 --route-b 10.1.0.0/24 \
    --duration $((secs + 4)) "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 50); do [ -e /run/netns/wtbench-b ] && break; sleep 0.1; done
  sleep 0.7
  iperf wtbench-a wtbench-b 10.2.0.1
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

through_veth() {
  ip netns add wtveth-a; ip netns add wtveth-b
  ip link add wtv-a netns wtveth-a type veth peer name wtv-b netns wtveth-b
  ip -n wtveth-a addr add 10.3.0.1/24 dev wtv-a; ip -n wtveth-a link set wtv-a up
  ip -n wtveth-b addr add 10.3.0.2/24 dev wtv-b; ip -n wtveth-b link set wtv-b up
  iperf wtveth-a wtveth-b 10.3.0.2
  ip netns del wtveth-a; ip netns del wtveth-b
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A res
modes=("offload" "split" "no-offload" "veth")
for r in $(seq "$runs"); do
  res[offload]+="$(through_pump) "
  res[split]+="$(through_pump --split) "
  res[no-offload]+="$(through_pump --no-offload) "
  res[veth]+="$(through_veth) "
  echo "run $r/$runs done" >&2
done
printf '%-12s %-10s %s\n' mode "Gbit/s" "runs"
for m in "${modes[@]}"; do
  printf '%-12s %-10s %s\n' "$m" "$(echo "${res[$m]}" | tr ' ' '\n' | grep . | median)" "${res[$m]}"
done
